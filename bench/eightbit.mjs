#!/usr/bin/env node
// Issue 15: an 8-bit mail made 7-bit for a server without 8BITMIME, in
// bounded memory. A 100 MB multipart mail (a UTF-8 text part and an 8-bit
// attachment, both `Content-Transfer-Encoding: 8bit`) is sent by the built
// CLI to bench/sink.mjs on 127.0.0.1:
//
//   convert   outbox → a sink without 8BITMIME: three passes over the spool
//             (analyse, count for SIZE, convert while sending)
//   as is     outbox → a sink with 8BITMIME: no conversion (BODY=8BITMIME)
//   msmtp     msmtp → the sink without 8BITMIME: sent undeclared, unconverted
//             (what outbox's `eightbit send` does), when msmtp is installed
//
// Each is run --runs times (median) under /usr/bin/time for its peak RSS.
// MB/s is the mail's size (as given, LF) over the client's wall time, start to
// exit (spooling, conversion and the transfer to a sink that discards).
//
//   node bench/eightbit.mjs [--mb=N] [--runs=N] [--quick]
//
// Children are spawned without a shell, with a timeout, and killed by PID if
// they overrun; the sinks are stopped by PID; loops are bounded. Exits 0
// whatever the figures.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt, killLiveChildren, log, machineLine, median, NODE, numArg, out, OUTBOX_BIN, QUICK, ROOT, runClient, sleep, table, which } from './rtt-lib.mjs';

const MB = numArg('mb', QUICK ? 20 : 100, 1, 2048);
const RUNS = numArg('runs', QUICK ? 1 : 3, 1, 15);
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const FROM = 'bench@example.com';
const RCPT = 'sink@example.net';
const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-eightbit-bench-'));
const ENV = { PATH: process.env.PATH, HOME: SCRATCH, LANG: 'C.UTF-8' };

/** The mail: half UTF-8 text lines, half Latin-1-ish 8-bit octets in lines (no NUL, CR or LF). */
function writeMail(file, mb) {
  const fd = fs.openSync(file, 'w');
  try {
    const half = Math.floor((mb * 1024 * 1024) / 2);
    fs.writeSync(fd, `From: Bench <${FROM}>\nTo: <${RCPT}>\nSubject: Grüße, a big 8-bit mail\nDate: Sat, 01 Nov 2025 12:00:00 +0000\nMessage-ID: <eightbit-bench@example.com>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=bench\n\n`);
    fs.writeSync(fd, '--bench\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n');
    const text = Buffer.from('Grüße aus Köln, naïve café, 日本語のテキスト, and some plain ASCII words to make a line.\n');
    writeRepeated(fd, text, half);
    fs.writeSync(fd, '--bench\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=data.bin\nContent-Transfer-Encoding: 8bit\n\n');
    const octets = Buffer.alloc(64 * 1024);
    for (let i = 0; i < octets.length; i++) octets[i] = i % 101 === 100 ? 0x0a : 0x80 + (i % 127);
    writeRepeated(fd, octets, half);
    fs.writeSync(fd, '\n--bench--\n');
  } finally {
    fs.closeSync(fd);
  }
  return fs.statSync(file).size;
}

function writeRepeated(fd, block, total) {
  const big = Buffer.concat(Array.from({ length: Math.max(1, Math.floor((1024 * 1024) / block.length)) }, () => block));
  for (let written = 0; written < total; ) {
    const n = Math.min(big.length, total - written);
    fs.writeSync(fd, big, 0, n);
    written += n;
  }
}

/** bench/sink.mjs in a child; counts what it reports. */
async function startSink(extra) {
  const child = spawn(NODE, [path.join(ROOT, 'bench', 'sink.mjs'), '--max-seconds=1800', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const sink = { child, port: 0, messages: 0, lastBytes: 0 };
  let buf = '';
  child.stderr.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        sink.lastBytes = JSON.parse(line).bytes;
        sink.messages++;
      } catch {
        /* not ours */
      }
    }
  });
  sink.port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the sink did not start')), 10_000);
    child.stdout.once('data', (d) => {
      clearTimeout(t);
      resolve(Number(String(d).trim()));
    });
  });
  return sink;
}

let serial = 0;
/** One client run under /usr/bin/time: { ok, ms, rssMiB }. */
async function measured(cmd, args, mailFile) {
  const rssFile = path.join(SCRATCH, `rss-${++serial}`);
  const r = TIME
    ? await runClient(TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { env: ENV, stdinFile: mailFile, timeoutMs: 600_000 })
    : await runClient(cmd, args, { env: ENV, stdinFile: mailFile, timeoutMs: 600_000 });
  let rssMiB = null;
  try {
    rssMiB = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024;
  } catch {
    /* no /usr/bin/time */
  }
  if (!r.ok) log(`  ${path.basename(cmd)} ${args.join(' ')}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
  return { ok: r.ok, ms: r.ms, rssMiB };
}

async function main() {
  log(`eightbit bench: ${MB} MB, ${RUNS} run(s); scratch ${SCRATCH}`);
  const mailFile = path.join(SCRATCH, 'mail.eml');
  const bytes = writeMail(mailFile, MB);
  const without = await startSink(['--no-8bitmime']);
  const withIt = await startSink([]);
  const msmtp = which('msmtp');
  const contenders = [
    { name: 'outbox convert (no 8BITMIME)', sink: without, cmd: NODE, args: [OUTBOX_BIN, '--host=127.0.0.1', `--port=${without.port}`, '-f', FROM, RCPT] },
    { name: 'outbox as is (8BITMIME)', sink: withIt, cmd: NODE, args: [OUTBOX_BIN, '--host=127.0.0.1', `--port=${withIt.port}`, '-f', FROM, RCPT] },
    ...(msmtp ? [{ name: 'msmtp undeclared (no 8BITMIME)', sink: without, cmd: msmtp, args: ['--host=127.0.0.1', `--port=${without.port}`, '--tls=off', '--auth=off', '-f', FROM, RCPT] }] : []),
  ];
  const rows = [];
  for (const c of contenders) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const before = c.sink.messages;
      const r = await measured(c.cmd, c.args, mailFile);
      for (let wait = 0; c.sink.messages === before && wait < 100; wait++) await sleep(20);
      if (r.ok && c.sink.messages > before) runs.push({ ...r, sent: c.sink.lastBytes });
    }
    const ms = median(runs.map((r) => r.ms));
    const rss = runs.length ? Math.max(...runs.map((r) => r.rssMiB ?? 0)) : null;
    const sent = runs[0]?.sent;
    rows.push([c.name, `${runs.length}/${RUNS}`, fmt(ms, 0), fmt(ms ? bytes / 1048576 / (ms / 1000) : null), fmt(rss), sent ? fmt(sent / 1048576) : 'n/a']);
  }
  out(`# bench/eightbit.mjs: a ${fmt(bytes / 1048576)} MiB 8-bit multipart mail; ${machineLine()}`);
  for (const line of table(['client', 'ok', 'median ms', 'MB/s', 'peak RSS MiB (worst)', 'MiB on the wire'], rows)) out(line);
  for (const s of [without, withIt]) s.child.kill('SIGTERM');
}

main()
  .catch((error) => log(`eightbit bench failed: ${error.stack ?? error}`))
  .finally(() => {
    killLiveChildren();
    fs.rmSync(SCRATCH, { recursive: true, force: true });
  });
