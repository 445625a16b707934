#!/usr/bin/env node
// One 1 KB mail over STARTTLS + AUTH PLAIN through the interop suite's real
// Postfix (submission port, SASL through Dovecot), outbox against msmtp in
// the same run.
//
//   node bench/postfix.mjs [--runs=N] [--timeline]     (npm run bench runs it)
//
// 1. On loopback: N (default 20) timed runs of each client, alternating, after
//    two untimed warm-up runs each; median and min, ratio against msmtp.
// 2. At a simulated 50 ms round-trip time, through the delaying proxy of
//    bench/rtt-lib.mjs in front of the same Postfix: 5 runs each, wall time
//    and client->server flights. Postfix offers CHUNKING, which smtp-server
//    (bench/rtt.mjs) does not.
//
// --timeline adds one run of each through the proxy with no delay, to show
// where loopback time goes (flight boundaries are approximate without a delay).
//
// outbox runs "cold" (an empty XDG_CACHE_HOME each run: full TLS handshake)
// and "warm" (one cache kept across its runs: the TLS session resumed, as for
// a user who sends more than one mail). msmtp keeps no TLS sessions.
//
// The servers come from `bash test/interop/servers.sh start` and are stopped
// with `bash test/interop/servers.sh stop DIR` whatever happens (also on
// SIGINT/SIGTERM); the directory is removed afterwards. Needs root and the
// packages the interop suite installs (postfix, dovecot-core, dovecot-lmtpd,
// msmtp); without them it prints "postfix bench skipped: …" and exits 0.
// Everything is on 127.0.0.1; every child has a time limit and is killed by
// PID; the loops are bounded in count and in time.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialogueGroups, flightLines, fmt, killLiveChildren, liveChildren, log, machineLine, median, runClient, runThroughProxy, sleep, startDelayProxy, table, which, writeMail } from './rtt-lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUTBOX_BIN = process.env.BENCH_OUTBOX_BIN ? path.resolve(process.env.BENCH_OUTBOX_BIN) : path.join(ROOT, 'bin', 'outbox');
const SERVERS_SH = path.join(ROOT, 'test', 'interop', 'servers.sh');
const NODE = process.execPath;

const argv = process.argv.slice(2);
const runsArg = argv.find((a) => a.startsWith('--runs='));
const RUNS = Math.min(60, Math.max(1, Number(runsArg ? runsArg.split('=')[1] : 20) || 20));
const TIMELINE = argv.includes('--timeline');
const RTT_RUNS = 5;
const RTT_MS = 50;
const TIME_CAP_MS = 60_000; // per section: stop adding runs past this
const RUN_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;
const TARGET_RATIO = 0.7;
const TARGET_RTT_RATIO = 0.75;
const TARGET_FLIGHTS = 6;
const PACKAGES = ['postfix', 'dovecot-core', 'dovecot-lmtpd', 'msmtp'];

const skip = (why) => {
  console.log(`postfix bench skipped: ${why}`);
  process.exit(0);
};

// ---------------------------------------------------------------- cleanup ---

let serversDir = null;
let starter = null; // servers.sh start, while it runs
let tmp = null;
let proxy = null;
let cleaned = false;

function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killLiveChildren();
  try {
    proxy?.close();
  } catch {
    /* closing */
  }
  if (starter && starter.exitCode === null) {
    // servers.sh stops what it started when it gets SIGTERM (its trap), by PID.
    try {
      process.kill(starter.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  if (serversDir) {
    // Stopped by PID by servers.sh itself; a failed stop is tried once more, and
    // the directory is kept (and named) if the servers may still be running.
    let stopped = false;
    for (let attempt = 1; attempt <= 2 && !stopped; attempt++) {
      const r = spawnSync('bash', [SERVERS_SH, 'stop', serversDir], { cwd: ROOT, encoding: 'utf8', timeout: STOP_TIMEOUT_MS });
      stopped = r.status === 0;
      if (!stopped) log(`postfix bench: servers.sh stop ${serversDir} failed (${r.status ?? r.signal ?? r.error}): ${(r.stderr || '').trim()}`);
    }
    if (stopped) fs.rmSync(serversDir, { recursive: true, force: true });
    else log(`postfix bench: kept ${serversDir}; stop it with: bash test/interop/servers.sh stop ${serversDir}`);
    serversDir = null;
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = null;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`postfix bench: ${sig}, stopping the servers`);
    cleanup();
    process.exit(130);
  });
}

// ------------------------------------------------------------ preconditions ---

function missingPackages() {
  const dpkg = which('dpkg-query');
  if (!dpkg) {
    // Not Debian: look for the programs instead.
    const programs = { postfix: 'postfix', 'dovecot-core': 'dovecot', msmtp: 'msmtp' };
    return Object.entries(programs)
      .filter(([, prog]) => !which(prog) && !fs.existsSync(`/usr/sbin/${prog}`))
      .map(([pkg]) => pkg);
  }
  return PACKAGES.filter((pkg) => {
    const r = spawnSync(dpkg, ['-W', '-f=${Status}', pkg], { encoding: 'utf8', timeout: 10_000 });
    return !/install ok installed/.test(r.stdout || '');
  });
}

function startServers() {
  return new Promise((resolve, reject) => {
    starter = spawn('bash', [SERVERS_SH, 'start'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    starter.stdout.on('data', (d) => (out += d));
    starter.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      log(`postfix bench: servers.sh start did not finish within ${START_TIMEOUT_MS / 1000} s; ending it`);
      try {
        process.kill(starter.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }, START_TIMEOUT_MS);
    starter.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    starter.on('exit', (code) => {
      clearTimeout(timer);
      starter = null;
      const dir = out.trim().split('\n').pop();
      if (code === 0 && dir && fs.existsSync(path.join(dir, 'setup.json'))) resolve(dir);
      else reject(new Error(`servers.sh start failed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' / ')}`));
    });
  });
}

/** Mails in a Maildir (new/ and cur/). */
function countMail(dir) {
  let n = 0;
  for (const sub of ['new', 'cur']) {
    try {
      n += fs.readdirSync(path.join(dir, sub)).length;
    } catch {
      /* not there yet */
    }
  }
  return n;
}

/** A client run with its standard output kept (for -d), time-limited, killed by PID. */
function runDebug(cmd, args, env, stdinFile) {
  return new Promise((resolve) => {
    const fd = fs.openSync(stdinFile, 'r');
    const child = spawn(cmd, args, { stdio: [fd, 'pipe', 'pipe'], env });
    fs.closeSync(fd);
    liveChildren.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr.on('data', (d) => {
      if (stderr.length < 4096) stderr += d;
    });
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ ok: false, stdout, stderr: String(e) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ ok: code === 0, stdout, stderr });
    });
  });
}

// ------------------------------------------------------------------- main ---

async function main() {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) skip('needs root to start Postfix and Dovecot (as npm run test:interop)');
  const missing = missingPackages();
  if (missing.length) skip(`missing packages: ${missing.join(', ')} (npm run test:interop installs them)`);
  if (!fs.existsSync(OUTBOX_BIN)) skip(`${OUTBOX_BIN} does not exist (npm run build)`);
  const msmtp = which('msmtp');
  if (!msmtp) skip('msmtp is not on PATH');

  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-bench-postfix-'));
  log('postfix bench: starting Postfix and Dovecot (test/interop/servers.sh start) ...');
  serversDir = await startServers();
  const setup = JSON.parse(fs.readFileSync(path.join(serversDir, 'setup.json'), 'utf8'));
  const alice = setup.users.alice;
  const bob = setup.users.bob;
  const port = setup.postfix.ports.submission;
  log(`postfix bench: Postfix submission on ${setup.host}:${port}, servers in ${serversDir}`);

  const mailFile = path.join(tmp, 'mail.eml');
  const mailBytes = writeMail(mailFile, { from: alice, to: bob });
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  const baseEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8' };
  const argsFor = (p) => [
    `--host=${setup.host}`,
    `--port=${p}`,
    '--tls=on',
    `--tls-trust-file=${setup.tls.ca}`,
    '--auth=plain',
    `--user=${alice}`,
    `--passwordeval=printf ${setup.password}`,
    '--timeout=20',
    '-f',
    alice,
    bob,
  ];
  let cacheN = 0;
  const freshCache = () => {
    const d = path.join(tmp, `cache-${++cacheN}`);
    fs.mkdirSync(d);
    return d;
  };
  const warmCache = freshCache();
  const clientsFor = (p) => ({
    'outbox (cold)': { cmd: NODE, args: [OUTBOX_BIN, ...argsFor(p)], env: () => ({ ...baseEnv, XDG_CACHE_HOME: freshCache() }) },
    'outbox (warm)': { cmd: NODE, args: [OUTBOX_BIN, ...argsFor(p)], env: () => ({ ...baseEnv, XDG_CACHE_HOME: warmCache }) },
    // With --host, msmtp reads no configuration file.
    msmtp: { cmd: msmtp, args: argsFor(p), env: () => ({ ...baseEnv }) },
  });
  const names = ['outbox (cold)', 'outbox (warm)', 'msmtp'];
  let sent = 0;

  /** Runs every client `n` times (after `warm` untimed runs each), alternating the order; bounded in time. */
  async function section(label, clients, n, warm, once) {
    const res = Object.fromEntries(names.map((k) => [k, { ms: [], flights: [], startup: [], think: [], tail: [], rows: null, failures: [] }]));
    const run = async (name, keep) => {
      const r = await once(clients[name]);
      const o = res[name];
      if (!r.ok) {
        o.failures.push(r.stderr.split('\n')[0] || `exit ${r.code ?? r.signal}`);
        log(`  ${label}: ${name} failed: ${r.stderr.split('\n')[0]}`);
        return;
      }
      sent++;
      if (!keep) return;
      o.ms.push(r.ms);
      if (r.flights != null) o.flights.push(r.flights);
      for (const k of ['startup', 'think', 'tail']) if (r[`${k}Ms`] != null) o[k].push(r[`${k}Ms`]);
      if (r.rows) o.rows = r.rows;
    };
    for (let i = 0; i < warm; i++) for (const k of names) await run(k, false);
    const start = Date.now();
    let rounds = 0;
    for (let i = 0; i < n; i++) {
      for (const k of i % 2 ? [...names].reverse() : names) await run(k, true);
      rounds++;
      if (Date.now() - start > TIME_CAP_MS) break;
    }
    log(`  ${label}: ${rounds} rounds in ${((Date.now() - start) / 1000).toFixed(1)} s: ${names.map((k) => `${k} ${fmt(median(res[k].ms))} ms`).join(', ')}`);
    return res;
  }

  // 1. Loopback.
  log(`postfix bench: loopback, ${RUNS} runs each ...`);
  const direct = await section('loopback', clientsFor(port), RUNS, 2, (c) =>
    runClient(c.cmd, c.args, { env: c.env(), stdinFile: mailFile, timeoutMs: RUN_TIMEOUT_MS }),
  );

  // 2. 50 ms RTT through the delaying proxy.
  log(`postfix bench: ${RTT_MS} ms RTT through the delaying proxy, ${RTT_RUNS} runs each ...`);
  proxy = await startDelayProxy({ targetPort: port, oneWayMs: RTT_MS / 2, connectDelayMs: RTT_MS * 1.5 });
  const delayed = await section(`${RTT_MS} ms RTT`, clientsFor(proxy.port), RTT_RUNS, 1, (c) =>
    runThroughProxy(proxy, c.cmd, c.args, { env: c.env(), stdinFile: mailFile, timeoutMs: RUN_TIMEOUT_MS }),
  );

  // Optional: one run of each through the proxy with no delay.
  const timeline = {};
  if (TIMELINE) {
    proxy.close();
    proxy = await startDelayProxy({ targetPort: port, oneWayMs: 0, connectDelayMs: 0 });
    const clients = clientsFor(proxy.port);
    const warmAgain = await runThroughProxy(proxy, clients['outbox (warm)'].cmd, clients['outbox (warm)'].args, { env: clients['outbox (warm)'].env(), stdinFile: mailFile, timeoutMs: RUN_TIMEOUT_MS });
    if (warmAgain.ok) sent++; // fills the warm cache for this port
    for (const n of names) {
      const c = clients[n];
      const r = await runThroughProxy(proxy, c.cmd, c.args, { env: c.env(), stdinFile: mailFile, timeoutMs: RUN_TIMEOUT_MS });
      if (r.ok) sent++;
      timeline[n] = r;
    }
  }

  // 3. What each client sends in each group, from one untimed -d run each on loopback
  //    (after STARTTLS the proxy sees only TLS records).
  const transcripts = {};
  for (const n of ['outbox (warm)', 'msmtp']) {
    const c = clientsFor(port)[n];
    const args = c.cmd === NODE ? [c.args[0], '-d', ...c.args.slice(1)] : ['-d', ...c.args];
    const r = await runDebug(c.cmd, args, c.env(), mailFile);
    if (r.ok) {
      sent++;
      transcripts[n] = dialogueGroups(r.stdout);
    } else log(`  -d run of ${n} failed: ${r.stderr.split('\n')[0]}`);
  }

  // Every accepted mail must reach bob's Maildir (Postfix delivers after it replies: wait, bounded).
  const box = path.join(setup.postfix.mailboxes, bob.replace(/@.*/, ''));
  const deadline = Date.now() + 20_000;
  while (countMail(box) < sent && Date.now() < deadline) await sleep(200);
  const delivered = countMail(box);

  // ----- report
  const msmtpVersion = (spawnSync(msmtp, ['--version'], { encoding: 'utf8' }).stdout || '').split('\n')[0];
  const outboxVersion = (spawnSync(NODE, [OUTBOX_BIN, '--version'], { encoding: 'utf8' }).stdout || '').split('\n')[0];
  const postfixVersion = (spawnSync('postconf', ['-d', '-h', 'mail_version'], { encoding: 'utf8' }).stdout || '').trim();
  const dovecotVersion = (spawnSync('dovecot', ['--version'], { encoding: 'utf8' }).stdout || '').trim().split(' ')[0];
  const out = [];
  out.push('');
  out.push(`Postfix ${postfixVersion || '?'} (submission: STARTTLS, SASL by Dovecot ${dovecotVersion || '?'}), one ${mailBytes}-byte mail, AUTH PLAIN — ${new Date().toISOString()}`);
  out.push(`machine: ${machineLine()}; ${msmtpVersion}; ${outboxVersion}`);
  out.push(`delivered to ${bob}'s Maildir: ${delivered} of the ${sent} mails accepted`);
  const notes = [];
  const ratioOf = (res, n) => {
    const m = median(res.msmtp.ms);
    const o = median(res[n].ms);
    return m && o != null ? o / m : null;
  };
  const timeCell = (o) => (o.ms.length ? `${fmt(median(o.ms))} ms (${fmt(Math.min(...o.ms))})` : 'n/a');

  out.push('');
  out.push(`On loopback (no added delay), ${RUNS} runs each:`);
  out.push(
    ...table(
      ['client', 'runs', 'wall median (min)', 'vs msmtp', `≤ ${TARGET_RATIO}×`],
      names.map((n) => {
        const r = ratioOf(direct, n);
        return [n, String(direct[n].ms.length), timeCell(direct[n]), r == null ? 'n/a' : `${r.toFixed(2)}×`, n === 'msmtp' || r == null ? '' : r <= TARGET_RATIO ? 'PASS' : 'FAIL'];
      }),
    ),
  );

  out.push('');
  out.push(`At ${RTT_MS} ms RTT (delaying proxy on 127.0.0.1 in front of the same Postfix), ${RTT_RUNS} runs each:`);
  out.push(
    ...table(
      ['client', 'runs', 'wall median (min)', 'vs msmtp', `≤ ${TARGET_RTT_RATIO}×`, 'flights', `≤ ${TARGET_FLIGHTS}`, 'start-up', 'reacting', 'exit'],
      names.map((n) => {
        const o = delayed[n];
        const r = ratioOf(delayed, n);
        const fl = median(o.flights);
        const isOutbox = n !== 'msmtp';
        return [
          n,
          String(o.ms.length),
          timeCell(o),
          r == null ? 'n/a' : `${r.toFixed(2)}×`,
          !isOutbox || r == null ? '' : r <= TARGET_RTT_RATIO ? 'PASS' : 'FAIL',
          fl == null ? 'n/a' : [...new Set(o.flights)].join('/'),
          !isOutbox || fl == null ? '' : fl <= TARGET_FLIGHTS ? 'PASS' : 'FAIL',
          `${fmt(median(o.startup))} ms`,
          `${fmt(median(o.think))} ms`,
          `${fmt(median(o.tail))} ms`,
        ];
      }),
    ),
  );
  out.push('');
  out.push('Flights at 50 ms RTT, last run of each ("+ms" from connect(), "(n ms)" the client\'s reaction time; after STARTTLS');
  out.push('only TLS record types are visible: see bench/rtt.mjs for the same dialogue with what the server parsed):');
  for (const n of names) if (delayed[n].rows) out.push(...flightLines(n, delayed[n].rows, fmt));

  if (TIMELINE) {
    out.push('');
    out.push('Loopback timeline (one run each through the proxy with no delay; flight boundaries approximate):');
    for (const n of names) {
      const r = timeline[n];
      if (!r || !r.rows) continue;
      out.push(`  ${n}: ${fmt(r.ms)} ms wall, start-up ${fmt(r.startupMs)} ms, exit ${fmt(r.tailMs)} ms`);
      out.push(...flightLines(n, r.rows, fmt).slice(1));
    }
  }
  out.push('');
  out.push('Command groups (one -d run of each on loopback; a group is written with no reply read in between; the TLS');
  out.push('handshake adds the ClientHello flight, and TLS 1.3 sends the client\'s Finished with the EHLO that follows):');
  for (const [n, groups] of Object.entries(transcripts)) out.push(`  ${n.replace(/ \(warm\)/, '')}: ${groups.length} groups — ${groups.join(' | ')}`);

  for (const [label, res] of [
    ['loopback', direct],
    [`${RTT_MS} ms RTT`, delayed],
  ]) {
    for (const n of names) if (res[n].failures.length) notes.push(`${label}: ${n}: ${res[n].failures.length} failed run(s): ${res[n].failures[0]}`);
  }
  if (delivered !== sent) notes.push(`only ${delivered} of ${sent} accepted mails reached the Maildir within 20 s`);
  out.push('');
  out.push('Wall time: spawn() to exit. Ratios on the medians. PASS/FAIL is information only; the bench exits 0 either way.');
  if (notes.length) {
    out.push('notes:');
    for (const n of notes) out.push(`  - ${n}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

try {
  await main();
  cleanup();
  process.exit(0);
} catch (e) {
  log(`postfix bench harness error: ${e && e.stack ? e.stack : e}`);
  cleanup();
  process.exit(1);
}
