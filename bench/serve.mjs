#!/usr/bin/env node
// `outbox serve` under load, beside Debian's msmtpd doing the same, on loopback:
//
//   1. 50 concurrent SMTP connections deliver 10,000 mails of 2 KB (10 per
//      connection, one after the other, no PIPELINING since msmtpd offers
//      none) to each server in turn; mails per second, the server's peak RSS
//      (VmRSS and VmHWM from /proc/PID/status every 100 ms), and a count of
//      what arrived: every mail that got 250 must be there.
//        - outbox serve --maildir=DIR          (files in DIR/new)
//        - outbox serve --queue                (entries in the queue; the account
//                                               points at a closed port and
//                                               OUTBOX_BACKGROUND_FLUSH=off, so
//                                               every mail stays queued)
//        - outbox serve --command=CMD and msmtpd --command=CMD with the same CMD:
//            'msmtp -f %F --host=127.0.0.1 --port=SINK …'  (msmtpd as people use
//                                               it: each mail relayed by msmtp to
//                                               bench/sink.mjs, which counts them)
//            'cat > "$(mktemp DIR/m.XXXXXXXX)"' (each mail stored as a file: like
//                                               with like for the maildir, without
//                                               fsync)
//   2. one 1 GB mail through the maildir and the queue backends: MiB/s and the
//      server's peak RSS (memory must not grow with the message).
//
//   The --command runs start a shell per mail (and msmtp), ~30 mails/s on
//   this machine: they deliver 1,500 mails (--cmd-mails) with the same 50
//   connections.
//
//   node bench/serve.mjs [--quick] [--mails=N] [--cmd-mails=N] [--conns=N]
//                        [--per-conn=N] [--big-mb=N] [--run-seconds=N]
//                        [--only=maildir,queue,cmd-msmtp,cmd-cat,big] [--tmpdir=DIR]
//
// msmtpd is not installed (Debian's msmtp-mta conflicts with Postfix): as
// test/interop/msmtp-suite.sh does, the bench runs `apt-get download
// msmtp-mta` into $XDG_CACHE_HOME/outbox-bench (once) and unpacks it with
// `dpkg-deb -x`; if that fails it says so and measures outbox alone.
// msmtpd has no port 0, so a free port is found by binding port 0 and closing
// it (retried if the server then meets EADDRINUSE). outbox serve runs with
// --max-sessions=64 (its default, 16 as msmtpd's, would answer 34 of the 50
// connections 421; the load generator retries those, and counts them).
// msmtpd 1.8.23 greets at most 16 sessions at once and leaves the others in
// the listen backlog until one ends (no option changes that).
//
// The load generator is in this process (a few hundred lines of net.Socket);
// its CPU time is printed, since on a 2-core machine it shares the CPU with the
// server. Each run is bounded in mails and in time (--run-seconds, default
// 150): at the limit no new mail starts, and the rate is taken over what was
// done. Servers are spawned without a shell in their own process group and
// killed by that id at the end (and on SIGINT/SIGTERM). One line per measure
// on stdout, progress on stderr. Exits 0 whatever the figures.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BENCH_ARGS as argv, fmt, log, machineLine, median, NODE, now, numArg, out, OUTBOX_BIN, QUICK, ROOT, sleep, table, which } from './rtt-lib.mjs';

const MAILS = numArg('mails', QUICK ? 2000 : 10_000, 10, 100_000);
const CONNS = numArg('conns', 50, 1, 500);
/** The --command runs start a shell (and msmtp) per mail, ~30 mails/s here: fewer mails, same concurrency. */
const CMD_MAILS = numArg('cmd-mails', QUICK ? 500 : 1500, 10, 100_000);
const PER_CONN = numArg('per-conn', 10, 1, 10_000);
const BIG_MB = numArg('big-mb', QUICK ? 128 : 1024, 0, 4096);
const RUN_SECONDS = numArg('run-seconds', QUICK ? 60 : 150, 5, 1200);
const MAIL_BYTES = 2048;
const RSS_LIMIT_MIB = 128;
const TARGET_RATIO = 10;


const strArg = (name) => (argv.find((x) => x.startsWith(`--${name}=`)) || '').split('=').slice(1).join('=') || null;
/** --only=maildir,queue,cmd-msmtp,cmd-cat,big: a subset of the runs. */
const ONLY = strArg('only') ? new Set(strArg('only').split(',')) : null;
const wants = (name) => !ONLY || ONLY.has(name);
// --tmpdir=/dev/shm puts the Maildir and the queue on tmpfs (what fsync costs).
const SCRATCH = fs.mkdtempSync(path.join(strArg('tmpdir') || os.tmpdir(), 'outbox-servebench-'));
const HOME = path.join(SCRATCH, 'home');
fs.mkdirSync(HOME, { mode: 0o700 });
const BASE_ENV = { PATH: process.env.PATH || '/usr/bin:/bin', HOME, LANG: 'C.UTF-8', XDG_STATE_HOME: path.join(SCRATCH, 'state') };
const OUTBOX_ENV = BASE_ENV;
/** BENCH_SERVE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR": node options for the outbox servers (a profile, say). */
const NODE_ARGS = (process.env.BENCH_SERVE_NODE_ARGS || '').split(' ').filter(Boolean);
const FROM = 'sender@example.com';
const RCPT = 'rcpt@example.net';
const MSMTP = which('msmtp');

/** Servers and the sink: spawned detached (their own process group), killed by that id. */
const groups = new Set();
function killGroup(pid, signal = 'SIGKILL') {
  for (const target of [pid, -pid]) {
    try {
      process.kill(target, signal);
    } catch {
      /* gone */
    }
  }
}
function cleanup() {
  for (const pid of groups) killGroup(pid);
  groups.clear();
  fs.rmSync(SCRATCH, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

// ----------------------------------------------------------------- msmtpd ---

/** Debian's msmtpd, downloaded (not installed) and unpacked into a cache folder; null with a reason if that fails. */
function getMsmtpd() {
  const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'outbox-bench', 'msmtp-mta');
  const bin = path.join(cache, 'root', 'usr', 'bin', 'msmtpd');
  if (fs.existsSync(bin)) return { bin };
  try {
    fs.mkdirSync(cache, { recursive: true });
  } catch (e) {
    return { bin: null, why: `cannot make ${cache}: ${e.message}` };
  }
  if (!which('apt-get') || !which('dpkg-deb')) return { bin: null, why: 'no apt-get/dpkg-deb' };
  const dl = () => spawnSync('apt-get', ['-q', 'download', 'msmtp-mta'], { cwd: cache, timeout: 120_000, encoding: 'utf8' });
  let r = dl();
  if (r.status !== 0) {
    spawnSync('apt-get', ['-q', 'update'], { timeout: 180_000, encoding: 'utf8' });
    r = dl();
  }
  const deb = fs.readdirSync(cache).find((f) => /^msmtp-mta_.*\.deb$/.test(f));
  if (!deb) return { bin: null, why: `apt-get download msmtp-mta failed: ${String(r.stderr || r.error || '').trim().split('\n').pop()}` };
  const x = spawnSync('dpkg-deb', ['-x', path.join(cache, deb), path.join(cache, 'root')], { timeout: 60_000, encoding: 'utf8' });
  if (x.status !== 0 || !fs.existsSync(bin)) return { bin: null, why: `dpkg-deb -x ${deb} failed: ${String(x.stderr).trim()}` };
  return { bin };
}

// --------------------------------------------------------------- servers ---

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Connects, waits for a 220 greeting, says QUIT. True if the server greeted. */
function probe(port, ms = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok) => {
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), ms);
    sock.on('error', () => done(false));
    sock.on('data', (d) => {
      buf += d;
      if (/^220 /m.test(buf)) {
        sock.end('QUIT\r\n');
        done(true);
      } else if (/^\d{3} /m.test(buf)) done(false);
    });
  });
}

/**
 * Starts a server on a free port (`args(port)`), waits until it greets; retries
 * with another port if it exits first (EADDRINUSE). Returns { pid, port, child, stderr() }.
 */
async function startServer(cmd, args, env) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(cmd, args(port), { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    groups.add(child.pid);
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (stderr.length < 8192) stderr += d;
    });
    let exited = false;
    child.on('exit', () => (exited = true));
    const end = now() + 10_000;
    while (!exited && now() < end) {
      if (await probe(port)) return { pid: child.pid, port, child, stderr: () => stderr };
      await sleep(50);
    }
    killGroup(child.pid);
    groups.delete(child.pid);
    log(`  server did not start on port ${port} (attempt ${attempt + 1}): ${stderr.trim().split('\n').pop() || (exited ? 'exited' : 'no greeting')}`);
  }
  throw new Error(`${path.basename(cmd)} would not start`);
}

async function stopServer(server) {
  const exited = new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) resolve();
    else server.child.once('exit', resolve);
  });
  killGroup(server.pid, 'SIGTERM');
  await Promise.race([exited, sleep(12_000)]);
  killGroup(server.pid, 'SIGKILL');
  groups.delete(server.pid);
}

/** Samples VmRSS every 100 ms; `stop()` also reads VmHWM. Sizes in MiB. */
function rssSampler(pid) {
  const read = () => {
    try {
      const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) || [])[1]) || 0;
      return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
    } catch {
      return null;
    }
  };
  const first = read();
  let peak = first ? first.rss : 0;
  let hwm = first ? first.hwm : 0;
  const samples = [];
  const timer = setInterval(() => {
    const r = read();
    if (!r) return;
    samples.push(r.rss);
    peak = Math.max(peak, r.rss);
    hwm = Math.max(hwm, r.hwm);
  }, 100);
  return {
    start: first ? first.rss : null,
    stop() {
      clearInterval(timer);
      const r = read();
      if (r) {
        peak = Math.max(peak, r.rss);
        hwm = Math.max(hwm, r.hwm);
      }
      return { startMiB: first ? first.rss : null, peakMiB: peak, hwmMiB: hwm, endMiB: r ? r.rss : null, samples };
    },
  };
}

// -------------------------------------------------------------------- sink ---

async function startSink() {
  const child = spawn(NODE, [path.join(ROOT, 'bench', 'sink.mjs'), '--max-seconds=3600'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  groups.add(child.pid);
  const s = { pid: child.pid, child, port: 0, messages: 0 };
  let buf = '';
  child.stderr.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      if (buf.startsWith('{')) s.messages++;
      buf = buf.slice(nl + 1);
    }
  });
  s.port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the sink did not start')), 10_000);
    child.stdout.once('data', (d) => {
      clearTimeout(t);
      resolve(Number(String(d).trim()));
    });
  });
  return s;
}

// ------------------------------------------------------------------- load ---

/** The mail's body after the headers: ~2 KB, CRLF, no line starting with "." (nothing to stuff). */
function mailBody(bytes) {
  const words = 'relay queue envelope header mailbox transfer session server client reply status network'.split(' ');
  let text = '';
  for (let i = 0; text.length < bytes; i++) {
    let line = '';
    for (let j = 0; line.length < 70; j++) line += (line ? ' ' : '') + words[(i * 7 + j * 3) % words.length];
    text += line + '\r\n';
  }
  return text;
}
function mailFor(i) {
  const head =
    `From: Bench <${FROM}>\r\nTo: <${RCPT}>\r\nSubject: outbox serve load ${i}\r\n` +
    `Date: Sat, 01 Nov 2025 12:00:00 +0000\r\nMessage-ID: <serve-bench-${i}@example.com>\r\n\r\n`;
  return head;
}
const BODY = Buffer.from(mailBody(MAIL_BYTES - 200) + '.\r\n');

/** Reads SMTP replies off a socket; `next(ms)` resolves the next complete reply ({ code, text }) or null. */
function replyReader(sock) {
  let buf = '';
  let lines = [];
  const ready = [];
  const waiters = [];
  let closed = false;
  const deliver = (r) => {
    const w = waiters.shift();
    if (w) {
      clearTimeout(w.t);
      w.resolve(r);
    } else ready.push(r);
  };
  sock.setEncoding('latin1');
  sock.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      lines.push(line);
      if (line[3] !== '-') {
        deliver({ code: Number(line.slice(0, 3)) || 0, text: lines.join(' | ') });
        lines = [];
      }
    }
  });
  const onClose = () => {
    closed = true;
    while (waiters.length) {
      const w = waiters.shift();
      clearTimeout(w.t);
      w.resolve(null);
    }
  };
  sock.on('close', onClose);
  sock.on('error', () => {});
  return {
    next(ms = 30_000) {
      if (ready.length) return Promise.resolve(ready.shift());
      if (closed) return Promise.resolve(null);
      return new Promise((resolve) => {
        const w = { resolve, t: setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); resolve(null); }, ms) };
        waiters.push(w);
      });
    },
  };
}

function connect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const r = replyReader(sock);
    sock.once('connect', () => resolve({ sock, r }));
    sock.once('error', () => resolve(null));
  });
}

/**
 * MAILS mails over CONNS concurrent connections, PER_CONN per connection, no
 * pipelining. Stops starting mails at the time limit. Returns counts and times.
 */
async function load(port, { mails = MAILS, conns = CONNS, perConn = PER_CONN, seconds = RUN_SECONDS } = {}) {
  const st = { accepted: 0, failed: 0, refused421: 0, connectFailed: 0, firstError: null, lat: [] };
  let next = 0;
  const t0 = now();
  const deadline = t0 + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const fail = (what) => {
    st.failed++;
    st.firstError ??= what;
  };
  async function worker() {
    let retries = 0;
    while (next < mails && now() < deadline && retries < 2000) {
      const c = await connect(port);
      if (!c) {
        st.connectFailed++;
        retries++;
        await sleep(20);
        continue;
      }
      const { sock, r } = c;
      const greet = await r.next();
      if (!greet || greet.code !== 220) {
        if (greet && greet.code === 421) st.refused421++;
        else fail(`greeting: ${greet ? greet.text : 'none'}`);
        sock.destroy();
        retries++;
        await sleep(20);
        continue;
      }
      sock.write('EHLO bench.example\r\n');
      const ehlo = await r.next();
      if (!ehlo || ehlo.code !== 250) {
        fail(`EHLO: ${ehlo ? ehlo.text : 'none'}`);
        sock.destroy();
        continue;
      }
      for (let k = 0; k < perConn && next < mails && now() < deadline; k++) {
        const i = next++;
        const ts = now();
        sock.write(`MAIL FROM:<${FROM}>\r\n`);
        const m = await r.next();
        if (!m || m.code !== 250) {
          fail(`MAIL: ${m ? m.text : 'none'}`);
          break;
        }
        sock.write(`RCPT TO:<${RCPT}>\r\n`);
        const rc = await r.next();
        if (!rc || rc.code !== 250) {
          fail(`RCPT: ${rc ? rc.text : 'none'}`);
          break;
        }
        sock.write('DATA\r\n');
        const d = await r.next();
        if (!d || d.code !== 354) {
          fail(`DATA: ${d ? d.text : 'none'}`);
          break;
        }
        sock.write(mailFor(i));
        sock.write(BODY);
        const e = await r.next(120_000);
        if (!e || e.code !== 250) {
          fail(`end of data: ${e ? e.text : 'none'}`);
          break;
        }
        st.accepted++;
        st.lat.push(now() - ts);
      }
      sock.end('QUIT\r\n');
      await Promise.race([r.next(2000), sleep(2000)]);
      sock.destroy();
    }
  }
  await Promise.all(Array.from({ length: conns }, worker));
  const ms = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ...st, attempted: next, ms, timedOut: next < mails, clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

/** One big mail of `mb` MiB of body on one connection, written with back-pressure. */
async function bigMail(port, mb) {
  const c = await connect(port);
  if (!c) return { ok: false, why: 'connect failed' };
  const { sock, r } = c;
  const step = async (line, code, ms = 30_000) => {
    if (line) sock.write(line);
    const x = await r.next(ms);
    if (!x || x.code !== code) throw new Error(`${line ? line.trim() : 'greeting'}: ${x ? x.text : 'no reply'}`);
  };
  const t0 = now();
  try {
    await step(null, 220);
    await step('EHLO bench.example\r\n', 250);
    await step(`MAIL FROM:<${FROM}>\r\n`, 250);
    await step(`RCPT TO:<${RCPT}>\r\n`, 250);
    await step('DATA\r\n', 354);
    sock.write(mailFor('big'));
    const line = 'x'.repeat(76) + '\r\n';
    const chunk = Buffer.from(line.repeat(Math.floor((256 * 1024) / line.length)));
    const total = mb * 2 ** 20;
    let sent = 0;
    const limit = now() + 600_000;
    while (sent < total && now() < limit) {
      const ok = sock.write(chunk);
      sent += chunk.length;
      if (!ok) {
        await new Promise((resolve) => {
          const done = () => {
            sock.off('drain', done);
            sock.off('close', done);
            resolve();
          };
          sock.on('drain', done);
          sock.on('close', done);
        });
      }
      if (sock.destroyed) throw new Error('connection closed while sending');
    }
    await step('.\r\n', 250, 600_000);
    const ms = now() - t0;
    sock.end('QUIT\r\n');
    return { ok: true, ms, bytes: sent };
  } catch (e) {
    sock.destroy();
    return { ok: false, why: e.message, ms: now() - t0 };
  } finally {
    setTimeout(() => sock.destroy(), 2000).unref();
  }
}

// ------------------------------------------------------------ backends ---

let serial = 0;
const fresh = (name) => {
  const d = path.join(SCRATCH, `${name}-${++serial}`);
  fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  return d;
};
const countFiles = (dir) => {
  try {
    return fs.readdirSync(dir).length;
  } catch {
    return 0;
  }
};
const dirBytes = (dir) => fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);

function outboxServe(backendArgs, env = OUTBOX_ENV) {
  return startServer(NODE, (port) => [...NODE_ARGS, OUTBOX_BIN, 'serve', '--interface=127.0.0.1', `--port=${port}`, `--max-sessions=${CONNS + 14}`, ...backendArgs], env);
}

/** A configuration whose account points at a closed port, queueing into `qdir`. */
async function queueConfig(qdir) {
  const closed = await freePort();
  const file = path.join(SCRATCH, `outboxrc-${++serial}`);
  fs.writeFileSync(
    file,
    ['defaults', 'tls off', 'auth off', '', 'account bench', 'host 127.0.0.1', `port ${closed}`, `from ${FROM}`, `queue_dir ${qdir}`, '', 'account default : bench', ''].join('\n'),
    { mode: 0o600 },
  );
  return file;
}

/**
 * One load run: starts the server, samples its RSS, runs the load, waits
 * (bounded) for `count()` to reach the number of accepted mails, stops the
 * server. Returns the figures.
 */
async function measure(label, start, count, { settleMs = 30_000, mails = MAILS } = {}) {
  log(`[${label}] starting`);
  let server;
  try {
    server = await start();
  } catch (e) {
    log(`[${label}] ${e.message}`);
    return { label, error: e.message };
  }
  const before = count();
  const rss = rssSampler(server.pid);
  const l = await load(server.port, { mails });
  const end = now() + settleMs;
  while (count() - before < l.accepted && now() < end) await sleep(50);
  const delivered = count() - before;
  const mem = rss.stop();
  await stopServer(server);
  const rate = l.accepted / (l.ms / 1000);
  const res = { label, ...l, mails, delivered, lost: l.accepted - delivered, rate, mem, serverStderr: server.stderr().trim().split('\n').slice(-3).join(' / ') };
  delete res.lat;
  res.latMedianMs = median(l.lat);
  res.latP99Ms = l.lat.length ? [...l.lat].sort((a, b) => a - b)[Math.floor(l.lat.length * 0.99)] : null;
  log(
    `[${label}] ${l.accepted}/${mails} accepted in ${fmt(l.ms / 1000, 1)} s = ${fmt(rate, 0)} mails/s; delivered ${delivered}; failed ${l.failed}` +
      `${l.firstError ? ` (${l.firstError})` : ''}; 421s ${l.refused421}; latency median ${fmt(res.latMedianMs, 1)} ms p99 ${fmt(res.latP99Ms, 1)} ms; ` +
      `server RSS ${fmt(mem.startMiB, 1)} → peak ${fmt(mem.peakMiB, 1)} (HWM ${fmt(mem.hwmMiB, 1)}) → ${fmt(mem.endMiB, 1)} MiB (at each fifth of the run: ${fifths(mem.samples)}); client CPU ${fmt(l.clientCpuMs / 1000, 1)} s` +
      `${l.timedOut ? `; STOPPED at the ${RUN_SECONDS} s limit` : ''}`,
  );
  return res;
}

/** RSS at the end of each fifth of the samples: does it grow with the mails, or level off? */
function fifths(samples) {
  if (!samples.length) return 'n/a';
  return [1, 2, 3, 4, 5].map((k) => fmt(samples[Math.min(samples.length - 1, Math.floor((samples.length * k) / 5) - 1)], 0)).join(' ');
}

async function measureBig(label, start, check) {
  log(`[${label}] starting`);
  let server;
  try {
    server = await start();
  } catch (e) {
    return { label, error: e.message };
  }
  const rss = rssSampler(server.pid);
  const b = await bigMail(server.port, BIG_MB);
  await sleep(200);
  const mem = rss.stop();
  await stopServer(server);
  const stored = b.ok ? check() : null;
  const res = { label, ...b, mem, stored, mibps: b.ok ? BIG_MB / (b.ms / 1000) : null };
  log(`[${label}] ${b.ok ? `${BIG_MB} MiB in ${fmt(b.ms / 1000, 1)} s = ${fmt(res.mibps, 0)} MiB/s, stored ${stored} bytes` : `FAILED: ${b.why}`}; server RSS peak ${fmt(mem.peakMiB, 1)} MiB (HWM ${fmt(mem.hwmMiB, 1)})`);
  return res;
}

// -------------------------------------------------------------------- main ---

const LOAD0 = os.loadavg().map((x) => x.toFixed(2)).join(' ');

async function main() {
  const t0 = now();
  const msmtpd = getMsmtpd();
  const msmtpdVersion = msmtpd.bin ? (spawnSync(msmtpd.bin, ['--version'], { encoding: 'utf8' }).stdout || '').split('\n')[0].trim() : null;
  if (!msmtpd.bin) log(`note: msmtpd unavailable (${msmtpd.why}): measuring outbox alone`);
  if (!MSMTP) log('note: msmtp not found: the --command runs through msmtp are skipped');
  const outboxVersion = (spawnSync(NODE, [OUTBOX_BIN, '--version'], { encoding: 'utf8' }).stdout || '').split('\n')[0].trim();
  const sink = await startSink();
  const msmtpCmd = `${MSMTP} -f %F --host=127.0.0.1 --port=${sink.port} --tls=off --auth=off --`;
  const catCmd = (dir) => `cat > "$(mktemp ${dir}/m.XXXXXXXX)" #`;
  const sinkCount = () => sink.messages;

  const runs = {};
  // (a) maildir
  if (wants('maildir')) {
    const dir = fresh('maildir');
    runs.maildir = await measure('outbox serve --maildir', () => outboxServe([`--maildir=${dir}`]), () => countFiles(path.join(dir, 'new')));
    runs.maildir.tmpLeft = countFiles(path.join(dir, 'tmp'));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // (b) queue
  if (wants('queue')) {
    const qdir = fresh('queue');
    const conf = await queueConfig(qdir);
    runs.queue = await measure('outbox serve --queue', () => outboxServe(['--queue', '-C', conf], { ...OUTBOX_ENV, OUTBOX_BACKGROUND_FLUSH: 'off' }), () => countFiles(path.join(qdir, 'queue')));
    runs.queue.tmpLeft = countFiles(path.join(qdir, 'tmp'));
    fs.rmSync(qdir, { recursive: true, force: true });
  }
  // (c) --command: msmtp to the sink, then cat into files; outbox and msmtpd with the same command.
  if (MSMTP && wants('cmd-msmtp')) {
    runs.cmdMsmtpOutbox = await measure('outbox serve --command=msmtp', () => outboxServe([`--command=${msmtpCmd}`]), sinkCount, { mails: CMD_MAILS });
    if (msmtpd.bin) runs.cmdMsmtpMsmtpd = await measure('msmtpd --command=msmtp', () => startServer(msmtpd.bin, (port) => ['--interface=127.0.0.1', `--port=${port}`, `--command=${msmtpCmd}`], BASE_ENV), sinkCount, { mails: CMD_MAILS });
  }
  if (wants('cmd-cat')) {
    const dir = fresh('cat-outbox');
    runs.cmdCatOutbox = await measure('outbox serve --command=cat', () => outboxServe([`--command=${catCmd(dir)}`]), () => countFiles(dir), { mails: CMD_MAILS });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (msmtpd.bin && wants('cmd-cat')) {
    const dir = fresh('cat-msmtpd');
    runs.cmdCatMsmtpd = await measure('msmtpd --command=cat', () => startServer(msmtpd.bin, (port) => ['--interface=127.0.0.1', `--port=${port}`, `--command=${catCmd(dir)}`], BASE_ENV), () => countFiles(dir), { mails: CMD_MAILS });
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await stopServer(sink);

  // (d) one big mail through the maildir and the queue
  const big = {};
  if (BIG_MB > 0 && wants('big')) {
    const dir = fresh('bigmaildir');
    big.maildir = await measureBig(`${BIG_MB} MiB mail, --maildir`, () => outboxServe([`--maildir=${dir}`]), () => dirBytes(path.join(dir, 'new')));
    fs.rmSync(dir, { recursive: true, force: true });
    const qdir = fresh('bigqueue');
    const conf = await queueConfig(qdir);
    big.queue = await measureBig(
      `${BIG_MB} MiB mail, --queue`,
      () => outboxServe(['--queue', '-C', conf], { ...OUTBOX_ENV, OUTBOX_BACKGROUND_FLUSH: 'off' }),
      () => fs.readdirSync(path.join(qdir, 'queue')).reduce((s, id) => s + fs.statSync(path.join(qdir, 'queue', id, 'message')).size, 0),
    );
    fs.rmSync(qdir, { recursive: true, force: true });
  }

  // ----- the table
  const r = runs;
  const rateOf = (x) => (x && !x.error && x.accepted ? x.rate : null);
  const ratio = (a, b) => (a != null && b != null && b > 0 ? `${(a / b).toFixed(1)}x` : 'n/a');
  const rateCell = (x) => (rateOf(x) == null ? 'n/a' : `${fmt(x.rate, 0)}/s${x.lost ? ` (${x.lost} LOST)` : ''}${x.timedOut ? ` (${x.accepted} of ${x.mails}, time limit)` : ''}`);
  const ref = r.cmdMsmtpMsmtpd;
  const qRatio = rateOf(r.queue) != null && rateOf(ref) != null ? rateOf(r.queue) / rateOf(ref) : null;
  const complete = (x) => x && !x.error && x.accepted === x.mails && x.delivered === x.accepted && !x.failed;
  const outboxRuns = [r.maildir, r.queue, r.cmdMsmtpOutbox, r.cmdCatOutbox].filter((x) => x && !x.error);
  const peakOutbox = outboxRuns.length ? Math.max(...outboxRuns.map((x) => Math.max(x.mem.peakMiB, x.mem.hwmMiB))) : null;
  const msmtpdRuns = [r.cmdMsmtpMsmtpd, r.cmdCatMsmtpd].filter((x) => x && !x.error);
  const peakMsmtpd = msmtpdRuns.length ? Math.max(...msmtpdRuns.map((x) => Math.max(x.mem.peakMiB, x.mem.hwmMiB))) : null;
  const bigPeak = (x) => (x && x.ok ? Math.max(x.mem.peakMiB, x.mem.hwmMiB) : null);
  const verdict = (p) => (p == null ? 'n/a' : p ? 'PASS' : 'FAIL');
  const rows = [
    ['queue backend, mails/s (ref: msmtpd --command=msmtp)', rateCell(r.queue), rateCell(ref), ratio(rateOf(r.queue), rateOf(ref)), `>= ${TARGET_RATIO}x, all durable`, verdict(qRatio == null ? null : qRatio >= TARGET_RATIO && complete(r.queue))],
    ['maildir backend, mails/s (ref: msmtpd --command=cat)', rateCell(r.maildir), rateCell(r.cmdCatMsmtpd), ratio(rateOf(r.maildir), rateOf(r.cmdCatMsmtpd)), 'none, all there', verdict(r.maildir && !r.maildir.error ? complete(r.maildir) : null)],
    ['--command=msmtp to the sink, mails/s', rateCell(r.cmdMsmtpOutbox), rateCell(ref), ratio(rateOf(r.cmdMsmtpOutbox), rateOf(ref)), 'none', 'info'],
    ['--command=cat to files, mails/s', rateCell(r.cmdCatOutbox), rateCell(r.cmdCatMsmtpd), ratio(rateOf(r.cmdCatOutbox), rateOf(r.cmdCatMsmtpd)), 'none', 'info'],
    ['server peak RSS under load (max of the runs)', `${fmt(peakOutbox, 1)} MiB`, peakMsmtpd == null ? 'n/a' : `${fmt(peakMsmtpd, 1)} MiB (listener)`, ratio(peakOutbox, peakMsmtpd), `< ${RSS_LIMIT_MIB} MiB`, verdict(peakOutbox == null ? null : peakOutbox < RSS_LIMIT_MIB)],
  ];
  if (big.maildir) rows.push([`${BIG_MB} MiB mail, --maildir: peak RSS`, big.maildir.ok ? `${fmt(bigPeak(big.maildir), 1)} MiB, ${fmt(big.maildir.mibps, 0)} MiB/s` : `failed: ${big.maildir.why ?? big.maildir.error}`, '-', '-', `< ${RSS_LIMIT_MIB} MiB`, verdict(bigPeak(big.maildir) == null ? null : bigPeak(big.maildir) < RSS_LIMIT_MIB)]);
  if (big.queue) rows.push([`${BIG_MB} MiB mail, --queue: peak RSS`, big.queue.ok ? `${fmt(bigPeak(big.queue), 1)} MiB, ${fmt(big.queue.mibps, 0)} MiB/s` : `failed: ${big.queue.why ?? big.queue.error}`, '-', '-', `< ${RSS_LIMIT_MIB} MiB`, verdict(bigPeak(big.queue) == null ? null : bigPeak(big.queue) < RSS_LIMIT_MIB)]);

  out('');
  out(`outbox serve under load — ${new Date().toISOString().slice(0, 10)}`);
  out(`machine: ${machineLine()}`);
  out(`${outboxVersion || 'outbox'}; ${msmtpdVersion ?? `msmtpd: n/a (${msmtpd.why})`}; ${MSMTP ? 'msmtp ' + MSMTP : 'msmtp: n/a'}`);
  out(`load: ${MAILS} mails (--command runs: ${CMD_MAILS}) of ${MAIL_BYTES} bytes, ${CONNS} connections at once, ${PER_CONN} mails per connection, no pipelining; at most ${RUN_SECONDS} s per run`);
  out(`load average at the start ${LOAD0}, at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share the 2 cores)`);
  out('');
  for (const l of table(['measure', 'outbox', 'msmtpd', 'ratio', 'target', 'result'], rows)) out(l);
  out('');
  out('Per run (accepted = 250 after the data; delivered = counted where the backend puts it):');
  for (const x of Object.values(r)) {
    if (x.error) {
      out(`  ${x.label}: not measured (${x.error})`);
      continue;
    }
    out(
      `  ${x.label}: ${x.accepted} of ${x.mails} accepted, ${x.delivered} delivered, ${x.failed} failed${x.firstError ? ` (first: ${x.firstError})` : ''}, ${x.refused421} refused with 421 (retried), ` +
        `${fmt(x.ms / 1000, 1)} s, latency median ${fmt(x.latMedianMs, 1)} ms p99 ${fmt(x.latP99Ms, 1)} ms, RSS ${fmt(x.mem.startMiB, 1)} → ${fmt(Math.max(x.mem.peakMiB, x.mem.hwmMiB), 1)} MiB (by fifths: ${fifths(x.mem.samples)}), ` +
        `load generator CPU ${fmt(x.clientCpuMs / 1000, 1)} s${x.tmpLeft ? `, ${x.tmpLeft} left in tmp/` : ''}`,
    );
  }
  if (big.maildir?.ok) out(`  ${BIG_MB} MiB via --maildir: ${big.maildir.bytes} body bytes sent, ${big.maildir.stored} bytes stored`);
  if (big.queue?.ok) out(`  ${BIG_MB} MiB via --queue: ${big.queue.bytes} body bytes sent, ${big.queue.stored} bytes stored`);
  out('');
  out('msmtpd --command=msmtp: msmtpd forks a session per connection (16 at once; the other connections wait in the backlog) and runs `sh -c "msmtp … RCPT"` per mail; msmtp relays it to bench/sink.mjs.');
  out(`outbox serve runs with --max-sessions=${CONNS + 14}, so all ${CONNS} connections are served at once.`);
  out("msmtpd's RSS is its listening process's; each session is a fork of it (about as small), each mail a shell and msmtp or cat.");
  out('The queue backend answers 250 after the entry is fsynced; --maildir after fsync of the file and of new/; `cat` fsyncs nothing.');
  out('PASS/FAIL is information only; the bench exits 0 either way. Other processes on this machine make the figures noisy.');
  out(`total ${fmt((now() - t0) / 1000, 0)} s`);
}

try {
  await main();
} catch (e) {
  log(`bench harness error: ${e && e.stack ? e.stack : e}`);
}
cleanup();
process.exit(0);
