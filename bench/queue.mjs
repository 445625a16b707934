#!/usr/bin/env node
// The outbox queue against msmtpq (Debian's msmtp queue script, which runs
// msmtp once per mail), in the same run, on loopback:
//
//   1. flush 1,000 queued 2 KB mails to a loopback sink: `outbox -q` against
//      `msmtpq --q-mgmt -r` (fewer mails for msmtpq, scaled per mail)
//   2. flush 100 mails over a 50 ms round trip (bench/rtt-lib.mjs's delaying
//      proxy in front of the sink), with the client's flights per mail
//   3. how long a MUA waits: `outbox --queue=always` (background flush on)
//      until it exits, against msmtp's direct send, at a 50 ms round trip
//   4. memory: peak RSS of enqueueing and of flushing a 1 GB mail; the time
//      `outbox --queue-list` takes for a queue of 10,000 mails
//
//   node bench/queue.mjs [--runs=N] [--mails=N] [--msmtpq-mails=N]
//                        [--rtt-mails=N] [--msmtpq-rtt-mails=N]
//                        [--big-mb=N] [--list=N] [--quick]
//
// outbox's queues are made with its store API (dist/queue/store.js, so run
// `npm run build` first), msmtpq's as the files msmtpq itself writes (ID.mail
// and ID.msmtp). msmtpq runs with EMAIL_CONN_TEST=x (no ping of debian.org),
// its log in the scratch folder. Every child is spawned without a shell, with
// a timeout, and killed by PID if it overruns; the sink is stopped by PID and
// the proxy by its handle; loops are bounded. One line per measure on stdout
// (outbox, msmtpq/msmtp, ratio, target); progress on stderr. Exits 0 whatever
// the figures.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_ARGS as argv, fmt, killLiveChildren, liveChildren, log, machineLine, median, NODE, now, numArg, out, OUTBOX_BIN, QUICK, ROOT, runClient, sleep, startDelayProxy, which } from './rtt-lib.mjs';

const RUNS = numArg('runs', QUICK ? 1 : 3, 1, 15);
const MAILS = numArg('mails', 1000, 10, 20_000);
const MSMTPQ_MAILS = numArg('msmtpq-mails', QUICK ? 30 : 100, 5, 20_000);
const RTT_MAILS = numArg('rtt-mails', 100, 5, 2_000);
const MSMTPQ_RTT_MAILS = numArg('msmtpq-rtt-mails', QUICK ? 5 : 20, 2, 2_000);
const MUA_RUNS = numArg('mua-runs', QUICK ? 3 : 7, 1, 30);
const BIG_MB = numArg('big-mb', QUICK ? 128 : 1024, 1, 4096);
const LIST = numArg('list', 10_000, 10, 100_000);
const MSMTPQ_LIST = numArg('msmtpq-list', QUICK ? 100 : 300, 10, 100_000);
const RTT_MS = 50;


// ------------------------------------------------------------------ setup ---

const MSMTP = which('msmtp');
const MSMTPQ = ['/usr/libexec/msmtp/msmtpq/msmtpq', '/usr/lib/msmtp/msmtpq/msmtpq', '/usr/share/doc/msmtp/examples/msmtpq/msmtpq'].find((p) => fs.existsSync(p));
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const SHM = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').isDirectory() ? '/dev/shm' : null;
/** msmtp's RSS does not grow with the mail, and it sends at ~10–60 MB/s: its big mail is capped. */
const MSMTPQ_BIG_MB = Math.min(BIG_MB, 128);

const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-qbench-'));
const HOME = path.join(SCRATCH, 'home');
fs.mkdirSync(HOME, { mode: 0o700 });
const BASE_ENV = { PATH: process.env.PATH || '/usr/bin:/bin', HOME, LANG: 'C.UTF-8' };
const FROM = 'sender@example.com';
const RCPT = 'rcpt@example.net';

let sink = null;
let proxy = null;
function cleanup() {
  killLiveChildren();
  if (proxy) proxy.close();
  if (sink) {
    try {
      process.kill(sink.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  fs.rmSync(SCRATCH, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

/** The sink (bench/sink.mjs) in a child process; counts the messages it reports. */
async function startSink() {
  const child = spawn(NODE, [path.join(ROOT, 'bench', 'sink.mjs'), '--max-seconds=1200'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const s = { pid: child.pid, child, port: 0, messages: 0, bytes: 0 };
  let buf = '';
  child.stderr.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const m = JSON.parse(line);
        s.messages++;
        s.bytes += m.bytes;
      } catch {
        /* not ours */
      }
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

/** Waits (bounded) until the sink has seen `count` messages in all. */
async function sinkReached(count, ms) {
  const end = now() + ms;
  while (sink.messages < count && now() < end) await sleep(10);
  return sink.messages >= count;
}

// ------------------------------------------------------------------- mail ---

/** A 2 KB mail: `crlf` for the queue's stored form (outbox stores CRLF), LF for what a MUA pipes to msmtpq. */
function mailText(bytes, crlf) {
  const eol = crlf ? '\r\n' : '\n';
  const head = [`From: Bench <${FROM}>`, `To: <${RCPT}>`, 'Subject: outbox queue benchmark', 'Date: Sat, 01 Nov 2025 12:00:00 +0000', 'Message-ID: <qbench@example.com>', ''];
  let text = head.join(eol) + eol;
  const words = 'relay queue envelope header mailbox transfer session server client reply status network'.split(' ');
  for (let i = 0; text.length < bytes - 80; i++) {
    let line = '';
    for (let j = 0; line.length < 70; j++) line += (line ? ' ' : '') + words[(i * 7 + j * 3) % words.length];
    text += line + eol;
  }
  return text.slice(0, bytes - eol.length).replace(/[\r\n]*$/, '') + eol;
}
const MAIL_CRLF = Buffer.from(mailText(2048, true));
const MAIL_LF_FILE = path.join(SCRATCH, 'mail-2k.eml');
fs.writeFileSync(MAIL_LF_FILE, mailText(2048, false));

// ----------------------------------------------------------------- queues ---

let storeApi = null;
async function store() {
  storeApi ??= await import(pathToFileURL(path.join(ROOT, 'dist', 'queue', 'store.js')).href);
  return storeApi;
}

/** An outbox queue of `n` mails for 127.0.0.1:port, made with the store API (32 enqueues at a time). */
async function makeOutboxQueue(dir, n, port, message = MAIL_CRLF) {
  const { QueueStore } = await store();
  const q = await QueueStore.open(dir);
  const at = new Date().toISOString();
  const fields = {
    account: { name: '', host: '127.0.0.1', settings: [{ command: 'port', argument: String(port), option: '--port' }] },
    from: FROM,
    recipients: [{ address: RCPT, state: 'pending', reply: null }],
    has8bit: false,
    chunking: true,
    queued_at: at,
    attempts: 0,
    next_attempt: at,
    last_attempt: null,
    last_error: null,
  };
  for (let i = 0; i < n; i += 32) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 32); j++) batch.push(q.enqueue([message], fields));
    await Promise.all(batch);
  }
}

/** An msmtpq queue of `n` mails, as msmtpq writes it: ID.mail (the mail as piped) and ID.msmtp (msmtp's arguments). */
function makeMsmtpqQueue(dir, n, port) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mail = fs.readFileSync(MAIL_LF_FILE);
  const args = `--host=127.0.0.1 --port=${port} --tls=off --auth=off -f ${FROM} ${RCPT}\n`;
  for (let i = 0; i < n; i++) {
    const id = `2026-01-01-00.00.00-${i + 1}`;
    fs.writeFileSync(path.join(dir, `${id}.mail`), mail);
    fs.writeFileSync(path.join(dir, `${id}.msmtp`), args);
  }
}

const msmtpqEnv = (dir) => ({ ...BASE_ENV, MSMTPQ_Q: dir, MSMTPQ_LOG: path.join(SCRATCH, 'msmtpq.log'), EMAIL_CONN_TEST: 'x', EMAIL_QUEUE_QUIET: 't' });

const queueCount = (dir) => {
  let n = 0;
  for (const f of ['queue', 'active']) {
    try {
      n += fs.readdirSync(path.join(dir, f)).length;
    } catch {
      /* none */
    }
  }
  return n;
};
const msmtpqCount = (dir) => fs.readdirSync(dir).filter((f) => f.endsWith('.mail')).length;

let serial = 0;
const fresh = (name) => path.join(SCRATCH, `${name}-${++serial}`);

/** Every connection the proxy carries, in order (each one's flights). Sequential clients only. */
function collectConnections(p) {
  const conns = [];
  const arm = () => p.nextConnection().then((c) => {
    conns.push(c);
    arm();
  });
  arm();
  return conns;
}

// -------------------------------------------------------------- measures ---

const lines = [];
function report(name, outbox, ref, ratio, target, verdict, note = '') {
  const line = `${name}: outbox ${outbox} | ${ref} | ratio ${ratio} | target ${target} ${verdict}${note ? ` (${note})` : ''}`;
  lines.push(line);
  out(line);
}

/** Runs a flush; returns { ms, ok, delivered }. */
async function timedFlush(cmd, args, env, expectDelivered, timeoutMs) {
  const before = sink.messages;
  const r = await runClient(cmd, args, { env, stdinFile: '/dev/null', timeoutMs });
  await sinkReached(before + expectDelivered, 5_000);
  return { ...r, delivered: sink.messages - before };
}

async function measureFlush(label, targetPort, nOutbox, nMsmtpq, withProxy, { shm = false } = {}) {
  const o = [];
  const oShm = [];
  const m = [];
  const flightsO = [];
  const flightsM = [];
  for (let run = 0; run < RUNS; run++) {
    // outbox -q
    const dir = fresh('oq');
    await makeOutboxQueue(dir, nOutbox, targetPort);
    const conns = withProxy ? collectConnections(proxy) : null;
    const r = await timedFlush(NODE, [OUTBOX_BIN, '-q', `--queue-dir=${dir}`], BASE_ENV, nOutbox, 600_000);
    const left = queueCount(dir);
    if (!r.ok || r.delivered !== nOutbox || left !== 0) log(`  [${label}] outbox run ${run + 1}: exit ${r.code}, ${r.delivered}/${nOutbox} at the sink, ${left} left: ${r.stderr.slice(0, 300)}`);
    else o.push(r.ms / nOutbox);
    if (conns) {
      await sleep(200);
      flightsO.push(conns.reduce((s, c) => s + c.flights.length, 0) / nOutbox);
    }
    log(`  [${label}] outbox -q, ${nOutbox} mails: ${fmt(r.ms, 0)} ms (${fmt(r.ms / nOutbox, 2)} ms/mail)`);
    fs.rmSync(dir, { recursive: true, force: true });
    if (shm && SHM) {
      // The same on tmpfs, where fsync costs nothing: what the disk adds to each mail.
      const sdir = fs.mkdtempSync(path.join(SHM, 'outbox-qbench-'));
      try {
        await makeOutboxQueue(sdir, nOutbox, targetPort);
        const t = await timedFlush(NODE, [OUTBOX_BIN, '-q', `--queue-dir=${sdir}`], BASE_ENV, nOutbox, 600_000);
        if (t.ok && t.delivered === nOutbox && queueCount(sdir) === 0) oShm.push(t.ms / nOutbox);
        log(`  [${label}] outbox -q, ${nOutbox} mails, queue on tmpfs: ${fmt(t.ms, 0)} ms (${fmt(t.ms / nOutbox, 2)} ms/mail)`);
      } finally {
        fs.rmSync(sdir, { recursive: true, force: true });
      }
    }
    if (!MSMTPQ || !MSMTP) continue;
    // msmtpq -r
    const qdir = fresh('mq');
    makeMsmtpqQueue(qdir, nMsmtpq, targetPort);
    const mconns = withProxy ? collectConnections(proxy) : null;
    const s = await timedFlush('bash', [MSMTPQ, '--q-mgmt', '-r'], msmtpqEnv(qdir), nMsmtpq, 600_000);
    const mleft = msmtpqCount(qdir);
    if (s.code !== 0 || s.delivered !== nMsmtpq || mleft !== 0) log(`  [${label}] msmtpq run ${run + 1}: exit ${s.code}, ${s.delivered}/${nMsmtpq} at the sink, ${mleft} left: ${s.stderr.slice(0, 300)}`);
    else m.push(s.ms / nMsmtpq);
    if (mconns) {
      await sleep(200);
      flightsM.push(mconns.reduce((sum, c) => sum + c.flights.length, 0) / nMsmtpq);
    }
    log(`  [${label}] msmtpq -r, ${nMsmtpq} mails: ${fmt(s.ms, 0)} ms (${fmt(s.ms / nMsmtpq, 2)} ms/mail)`);
    fs.rmSync(qdir, { recursive: true, force: true });
  }
  if (withProxy) proxy.nextConnection(); // drop the last waiter
  return { o: median(o), m: median(m), omin: o.length ? Math.min(...o) : null, mmin: m.length ? Math.min(...m) : null, oShm: median(oShm), fo: median(flightsO), fm: median(flightsM) };
}

async function measureMuaWait() {
  const o = [];
  const m = [];
  const dir = fresh('mua');
  for (let run = 0; run < MUA_RUNS; run++) {
    const order = run % 2 ? ['msmtp', 'outbox'] : ['outbox', 'msmtp'];
    for (const who of order) {
      const before = sink.messages;
      if (who === 'outbox') {
        const r = await runClient(NODE, [OUTBOX_BIN, '--host=127.0.0.1', `--port=${proxy.port}`, '--queue=always', `--queue-dir=${dir}`, '-f', FROM, RCPT], { env: BASE_ENV, stdinFile: MAIL_LF_FILE, timeoutMs: 20_000 });
        // The detached flush delivers it through the proxy; wait for it, so it does not weigh on the next run.
        const arrived = await sinkReached(before + 1, 15_000);
        const end = now() + 5_000;
        while (queueCount(dir) > 0 && now() < end) await sleep(20);
        await sleep(100); // its exit after the last rename
        if (r.ok && arrived) o.push(r.ms);
        else log(`  [mua] outbox run ${run + 1}: exit ${r.code}, arrived ${arrived}: ${r.stderr.slice(0, 300)}`);
      } else if (MSMTP) {
        const r = await runClient(MSMTP, ['--host=127.0.0.1', `--port=${proxy.port}`, '--tls=off', '--auth=off', '-f', FROM, RCPT], { env: BASE_ENV, stdinFile: MAIL_LF_FILE, timeoutMs: 20_000 });
        const arrived = await sinkReached(before + 1, 5_000);
        if (r.ok && arrived) m.push(r.ms);
        else log(`  [mua] msmtp run ${run + 1}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
      }
    }
  }
  log(`  [mua] outbox --queue=always: ${o.map((x) => fmt(x, 0)).join(' ')} ms; msmtp: ${m.map((x) => fmt(x, 0)).join(' ')} ms`);
  fs.rmSync(dir, { recursive: true, force: true });
  return { o: median(o), m: median(m), omin: Math.min(...o), mmin: Math.min(...m) };
}

/** Runs a child under /usr/bin/time; returns { ms, ok, maxRssKiB }. */
async function withMaxRss(cmd, args, env, stdinFile, timeoutMs) {
  if (!TIME) return { ok: false, ms: null, maxRssKiB: null, stderr: 'no /usr/bin/time' };
  const rssFile = path.join(SCRATCH, `rss-${++serial}`);
  const r = await runClient(TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { env, stdinFile, timeoutMs });
  let kib = null;
  try {
    kib = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  } catch {
    /* none */
  }
  return { ...r, maxRssKiB: kib };
}

function writeBigMail(file, mb) {
  const fd = fs.openSync(file, 'w');
  try {
    const head = `From: Bench <${FROM}>\nTo: <${RCPT}>\nSubject: big\nDate: Sat, 01 Nov 2025 12:00:00 +0000\nMessage-ID: <qbench-big@example.com>\n\n`;
    fs.writeSync(fd, head);
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789 the quick brown fox jumps over the lazy dog\n';
    const block = Buffer.from(line.repeat(Math.floor((1 << 20) / line.length)));
    const blocks = Math.ceil((mb * (1 << 20)) / block.length);
    for (let i = 0; i < blocks; i++) fs.writeSync(fd, block);
  } finally {
    fs.closeSync(fd);
  }
  return fs.statSync(file).size;
}

async function measureMemory() {
  const big = path.join(SCRATCH, 'big.eml');
  const size = writeBigMail(big, BIG_MB);
  const res = {};
  // outbox: enqueue with queue always (no background flush), then -q.
  const dir = fresh('big');
  const env = { ...BASE_ENV, OUTBOX_BACKGROUND_FLUSH: 'off' };
  const enq = await withMaxRss(NODE, [OUTBOX_BIN, '--host=127.0.0.1', `--port=${sink.port}`, '--queue=always', `--queue-dir=${dir}`, '-f', FROM, RCPT], env, big, 300_000);
  res.oEnq = enq.ok ? enq.maxRssKiB : null;
  if (!enq.ok) log(`  [big] outbox enqueue: exit ${enq.code}: ${enq.stderr.slice(0, 300)}`);
  const before = sink.messages;
  const fl = await withMaxRss(NODE, [OUTBOX_BIN, '-q', `--queue-dir=${dir}`], env, '/dev/null', 300_000);
  const arrived = await sinkReached(before + 1, 10_000);
  res.oFlush = fl.ok && arrived ? fl.maxRssKiB : null;
  if (!fl.ok || !arrived) log(`  [big] outbox -q: exit ${fl.code}, arrived ${arrived}: ${fl.stderr.slice(0, 300)}`);
  log(`  [big] outbox: enqueue ${fmt(enq.ms, 0)} ms, ${enq.maxRssKiB} KiB; flush ${fmt(fl.ms, 0)} ms, ${fl.maxRssKiB} KiB (${size} bytes)`);
  fs.rmSync(dir, { recursive: true, force: true });
  if (MSMTPQ && MSMTP) {
    const mbig = path.join(SCRATCH, 'big-msmtpq.eml');
    writeBigMail(mbig, MSMTPQ_BIG_MB);
    // msmtpq: its sendmail mode stores the mail and tries it at once; with the
    // sink stopped for it (a closed port) the mail stays queued, then -r sends it.
    const qdir = fresh('bigq');
    const closed = await closedPort();
    const enqM = await withMaxRss('bash', [MSMTPQ, '--host=127.0.0.1', `--port=${closed}`, '--tls=off', '--auth=off', '-f', FROM, RCPT], msmtpqEnv(qdir), mbig, 300_000);
    res.mEnq = msmtpqCount(qdir) === 1 ? enqM.maxRssKiB : null;
    for (const f of fs.readdirSync(qdir).filter((x) => x.endsWith('.msmtp'))) {
      fs.writeFileSync(path.join(qdir, f), `--host=127.0.0.1 --port=${sink.port} --tls=off --auth=off -f ${FROM} ${RCPT}\n`);
    }
    const b2 = sink.messages;
    const flM = await withMaxRss('bash', [MSMTPQ, '--q-mgmt', '-r'], msmtpqEnv(qdir), '/dev/null', 300_000);
    const ok = (await sinkReached(b2 + 1, 10_000)) && msmtpqCount(qdir) === 0;
    res.mFlush = ok ? flM.maxRssKiB : null;
    log(`  [big] msmtpq: enqueue ${fmt(enqM.ms, 0)} ms, ${enqM.maxRssKiB} KiB; flush ${fmt(flM.ms, 0)} ms, ${flM.maxRssKiB} KiB`);
    fs.rmSync(qdir, { recursive: true, force: true });
    fs.rmSync(mbig, { force: true });
  }
  fs.rmSync(big, { force: true });
  return { ...res, size };
}

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort() {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function measureListing() {
  const dir = fresh('list');
  const t0 = now();
  await makeOutboxQueue(dir, LIST, sink.port);
  log(`  [list] ${LIST} entries made with the store API in ${fmt((now() - t0) / 1000, 1)} s`);
  const o = [];
  for (let i = 0; i < Math.max(3, RUNS); i++) {
    const r = await runClient(NODE, [OUTBOX_BIN, '--queue-list', `--queue-dir=${dir}`], { env: BASE_ENV, stdinFile: '/dev/null', timeoutMs: 60_000 });
    if (r.ok) o.push(r.ms);
    else log(`  [list] outbox: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
  }
  log(`  [list] outbox --queue-list, ${LIST} mails: ${o.map((x) => fmt(x, 0)).join(' ')} ms`);
  fs.rmSync(dir, { recursive: true, force: true });
  let m = [];
  if (MSMTPQ) {
    const qdir = fresh('mlist');
    makeMsmtpqQueue(qdir, MSMTPQ_LIST, sink.port);
    for (let i = 0; i < 2; i++) {
      const r = await runClient('bash', [MSMTPQ, '--q-mgmt', '-d'], { env: msmtpqEnv(qdir), stdinFile: '/dev/null', timeoutMs: 300_000 });
      if (r.code === 0) m.push(r.ms);
    }
    log(`  [list] msmtpq -d, ${MSMTPQ_LIST} mails: ${m.map((x) => fmt(x, 0)).join(' ')} ms`);
    fs.rmSync(qdir, { recursive: true, force: true });
  }
  return { o: median(o), m: median(m) };
}

// ------------------------------------------------------------------- main ---

const verdict = (ok) => (ok == null ? 'n/a' : ok ? 'PASS' : 'FAIL');
const mib = (kib) => (kib == null ? 'n/a' : `${fmt(kib / 1024, 1)} MiB`);

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'queue', 'store.js'))) {
    out('queue bench skipped: dist/queue/store.js is missing (npm run build)');
    return;
  }
  log(`queue bench: ${machineLine()}`);
  if (!MSMTP || !MSMTPQ) log('  msmtp or msmtpq not found (apt-get install -y msmtp): their columns are skipped');
  sink = await startSink();
  log(`  sink on 127.0.0.1:${sink.port} (pid ${sink.pid}); ${RUNS} runs of each flush, medians`);

  // 1. Loopback flush.
  const a = await measureFlush('loopback', sink.port, MAILS, MSMTPQ_MAILS, false, { shm: true });
  const r1 = a.o && a.m ? a.m / a.o : null;
  report(
    `1. flush ${MAILS} x 2 KB, loopback`,
    `-q ${fmt(a.o * MAILS, 0)} ms (${fmt(a.o, 2)} ms/mail, best ${fmt(a.omin, 2)})`,
    `msmtpq -r ${fmt(a.m, 2)} ms/mail, best ${fmt(a.mmin, 2)} (${MSMTPQ_MAILS} mails timed, ~${fmt((a.m * MAILS) / 1000, 1)} s for ${MAILS})`,
    r1 == null ? 'n/a' : `${fmt(r1, 1)}x faster`,
    '>= 20x',
    verdict(r1 == null ? null : r1 >= 20),
  );
  if (a.oShm != null) {
    const r1s = a.m ? a.m / a.oShm : null;
    report(`1t. the same, outbox's queue on tmpfs`, `-q ${fmt(a.oShm * MAILS, 0)} ms (${fmt(a.oShm, 2)} ms/mail)`, `msmtpq -r ${fmt(a.m, 2)} ms/mail (disk; msmtpq never fsyncs)`, r1s == null ? 'n/a' : `${fmt(r1s, 1)}x faster`, '>= 20x', 'info');
  }

  // 2. 50 ms round trip.
  proxy = await startDelayProxy({ targetPort: sink.port, oneWayMs: RTT_MS / 2, connectDelayMs: RTT_MS * 1.5 });
  const b = await measureFlush('rtt', proxy.port, RTT_MAILS, MSMTPQ_RTT_MAILS, true);
  const r2 = b.o && b.m ? b.m / b.o : null;
  report(
    `2. flush ${RTT_MAILS} x 2 KB, ${RTT_MS} ms RTT`,
    `-q ${fmt((b.o * RTT_MAILS) / 1000, 2)} s (${fmt(b.o, 1)} ms/mail, best ${fmt(b.omin, 1)}; ${fmt(b.fo, 2)} flights/mail)`,
    `msmtpq -r ${fmt(b.m, 1)} ms/mail, ${fmt(b.fm, 2)} flights/mail (${MSMTPQ_RTT_MAILS} mails timed, ~${fmt((b.m * RTT_MAILS) / 1000, 1)} s for ${RTT_MAILS})`,
    r2 == null ? 'n/a' : `${fmt(r2, 1)}x faster`,
    '>= 20x',
    verdict(r2 == null ? null : r2 >= 20),
  );

  // 3. A MUA's wait.
  const c = await measureMuaWait();
  const r3 = c.o && c.m ? c.o / c.m : null;
  report(
    `3. MUA wait, 1 mail, ${RTT_MS} ms RTT`,
    `--queue=always ${fmt(c.o, 1)} ms (min ${fmt(c.omin, 1)})`,
    `msmtp direct ${fmt(c.m, 1)} ms (min ${fmt(c.mmin, 1)})`,
    r3 == null ? 'n/a' : `${fmt(r3, 2)}x`,
    '<= 0.3x',
    verdict(r3 == null ? null : r3 <= 0.3),
    `median of ${MUA_RUNS}`,
  );
  proxy.close();
  proxy = null;

  // 4. Memory and the listing.
  const d = await measureMemory();
  const sizeLabel = `${fmt(d.size / 1e6, 0)} MB mail`;
  report(`4a. enqueue ${sizeLabel}, peak RSS`, mib(d.oEnq), `msmtpq ${mib(d.mEnq)} (${MSMTPQ_BIG_MB} MiB mail)`, d.oEnq && d.mEnq ? `${fmt(d.oEnq / d.mEnq, 1)}x` : 'n/a', '< 64 MiB', verdict(d.oEnq == null ? null : d.oEnq < 64 * 1024));
  report(`4b. flush ${sizeLabel}, peak RSS`, mib(d.oFlush), `msmtpq -r (msmtp) ${mib(d.mFlush)} (${MSMTPQ_BIG_MB} MiB mail)`, d.oFlush && d.mFlush ? `${fmt(d.oFlush / d.mFlush, 1)}x` : 'n/a', '< 64 MiB', verdict(d.oFlush == null ? null : d.oFlush < 64 * 1024));
  const e = await measureListing();
  const perO = e.o;
  const perM = e.m == null ? null : (e.m / MSMTPQ_LIST) * LIST;
  report(
    `4c. list a queue of ${LIST}`,
    `--queue-list ${fmt(perO, 0)} ms`,
    `msmtpq -d ${fmt(e.m, 0)} ms for ${MSMTPQ_LIST} (~${fmt(perM == null ? null : perM / 1000, 1)} s for ${LIST})`,
    perM == null || perO == null ? 'n/a' : `${fmt(perM / perO, 1)}x faster`,
    '< 1 s',
    verdict(perO == null ? null : perO < 1000),
  );
}

try {
  await main();
} catch (error) {
  log(`queue bench failed: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  cleanup();
  // Children still listed are killed above; nothing else keeps the loop alive.
  if (liveChildren.size) log(`  ${liveChildren.size} children killed`);
}
