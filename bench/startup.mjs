#!/usr/bin/env node
// Start-up (issue 17): what outbox costs beyond starting Node, measured
// beside `node -e 0` in the same run, on loopback.
//
//   1. `outbox --version` against `node -e 0`: wall and CPU time
//   2. a plain 1 KB send to a loopback sink against `node -e 0`: wall and CPU
//   3. from exec to the SYN (the sink's accept) against `node -e 0`'s wall
//
//   node bench/startup.mjs [--runs=N] [--quick]
//
// Wall time: spawn() to the child's exit, the child spawned directly. CPU
// time (user + system): the same command run again under bash, whose `times`
// prints its children's CPU time to the millisecond; the two are separate
// runs, so wrapping in bash changes no wall figure. The order of the
// commands rotates each round. The children get a minimal environment
// (PATH, an empty HOME, LANG, no system configuration): in particular not
// NODE_EXTRA_CA_CERTS, which this machine sets and which makes Node read a
// certificate file at every start (~30 ms here, for `node -e 0` too). The
// sink (scripts/smtp-sink.mjs) runs in this process on 127.0.0.1, port 0,
// and notes when it accepts each connection. Loops are bounded in count and
// time, every child has a timeout and is killed by PID; the bench exits 0
// whatever the figures.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerSmtp } from '../scripts/smtp-sink.mjs';
import { fmt, log, machineLine, median, now, table } from './rtt-lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUTBOX_BIN = process.env.BENCH_OUTBOX_BIN ? path.resolve(process.env.BENCH_OUTBOX_BIN) : path.join(ROOT, 'bin', 'outbox');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const runsArg = argv.find((a) => a.startsWith('--runs='));
const RUNS = Math.min(200, Math.max(3, Number(runsArg?.split('=')[1]) || (QUICK ? 10 : 40)));
const BUDGET_MS = 240_000; // the whole bench stops taking samples after this
const CHILD_TIMEOUT_MS = 15_000;


const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'outbox-startup-'));
const home = path.join(scratch, 'home');
fs.mkdirSync(home);
const env = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', OUTBOX_SYSTEM_CONFIG: path.join(scratch, 'none') };
const mailFile = path.join(scratch, 'mail');
fs.writeFileSync(mailFile, `From: a@example.com\nTo: b@example.net\nSubject: start-up\n\n${'a line of the body, 41 octets in all....\n'.repeat(24)}`);

/** Accept times (bench clock) of the sink's connections, in order. */
const accepts = [];
const server = net.createServer((socket) => {
  accepts.push(now());
  answerSmtp(socket);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;

const COMMANDS = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'outbox --version': [process.execPath, [OUTBOX_BIN, '--version']],
  'outbox 1 KB send': [process.execPath, [OUTBOX_BIN, '--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', 'b@example.net']],
};

/** One run: { ms, status, stdout } with the child's stdin from the mail file. */
function runOnce(cmd, args) {
  return new Promise((resolve) => {
    const stdin = fs.openSync(mailFile, 'r');
    const t0 = now();
    const child = spawn(cmd, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
    fs.closeSync(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { if (stderr.length < 2000) stderr += d; });
    const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, CHILD_TIMEOUT_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ t0, ms: now() - t0, status, stdout, stderr });
    });
  });
}

/** CPU time (user + system, ms) of the command, from bash's `times` for its children. */
async function cpuOnce(cmd, args) {
  const r = await runOnce('/bin/bash', ['-c', '"$@" >/dev/null 2>&1; s=$?; times; exit $s', 'bash', cmd, ...args]);
  const children = r.stdout.trim().split('\n').at(-1) ?? '';
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(children);
  if (r.status !== 0 || !m) return { status: r.status, cpuMs: null };
  return { status: 0, cpuMs: (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000 };
}

const samples = Object.fromEntries(Object.keys(COMMANDS).map((name) => [name, { wall: [], cpu: [], syn: [], failures: [] }]));

async function sample(name) {
  const [cmd, args] = COMMANDS[name];
  const s = samples[name];
  const before = accepts.length;
  const r = await runOnce(cmd, args);
  if (r.status !== 0) s.failures.push(`exit ${r.status}: ${r.stderr.trim().slice(0, 200)}`);
  else s.wall.push(r.ms);
  if (accepts.length > before) s.syn.push(accepts[before] - r.t0);
  const c = await cpuOnce(cmd, args);
  if (c.cpuMs !== null) s.cpu.push(c.cpuMs);
}

function codeCacheState() {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OUTBOX_BIN, '--version'], { env: { ...env, OUTBOX_CODE_CACHE_REPORT: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', () => resolve(/code cache (\w+)/.exec(stderr)?.[1] ?? 'unknown'));
  });
}

async function main() {
  const started = now();
  const names = Object.keys(COMMANDS);
  for (const name of names) await runOnce(...COMMANDS[name]); // warm the page cache, untimed
  let rounds = 0;
  for (; rounds < RUNS && now() - started < BUDGET_MS; rounds++) {
    for (let i = 0; i < names.length; i++) await sample(names[(rounds + i) % names.length]);
  }
  const cache = await codeCacheState();
  const node = samples['node -e 0'];
  const ratio = (a, b) => (a == null || b == null ? null : a / b);
  const verdict = (r, limit) => (r == null ? 'n/a' : r <= limit ? 'PASS' : 'FAIL');
  const rows = [];
  for (const name of ['outbox --version', 'outbox 1 KB send']) {
    const s = samples[name];
    const limit = name === 'outbox --version' ? 1.1 : 1.25;
    const wallR = ratio(median(s.wall), median(node.wall));
    const cpuR = ratio(median(s.cpu), median(node.cpu));
    rows.push([`${name}: wall`, `${fmt(median(s.wall))} ms (${fmt(Math.min(...s.wall))})`, `${fmt(median(node.wall))} ms`, `${fmt(wallR, 2)}x`, `<= ${limit}x`, verdict(wallR, limit)]);
    rows.push([`${name}: CPU`, `${fmt(median(s.cpu))} ms`, `${fmt(median(node.cpu))} ms`, `${fmt(cpuR, 2)}x`, name === 'outbox --version' ? '-' : `<= ${limit}x`, name === 'outbox --version' ? 'info' : verdict(cpuR, limit)]);
  }
  const send = samples['outbox 1 KB send'];
  const synExtra = median(send.syn) - median(node.wall);
  rows.push(['exec to SYN (ref: node -e 0 wall)', `${fmt(median(send.syn))} ms`, `${fmt(median(node.wall))} ms`, `+${fmt(synExtra)} ms`, '<= +10 ms', Number.isNaN(synExtra) ? 'n/a' : synExtra <= 10 ? 'PASS' : 'FAIL']);

  const out = [];
  out.push(`outbox start-up bench — ${new Date().toISOString()}`);
  out.push(`machine: ${machineLine()}`);
  out.push(`rounds: ${rounds} (wall and CPU runs each); code cache: ${cache}; sink on 127.0.0.1:${port}`);
  out.push('');
  out.push(...table(['measurement', 'outbox median (min)', 'node -e 0 median', 'ratio', 'target', 'result'], rows));
  for (const [name, s] of Object.entries(samples)) if (s.failures.length) out.push(`failures of ${name}: ${s.failures.length}, first: ${s.failures[0]}`);
  out.push('');
  out.push('Ratios are medians of outbox over medians of `node -e 0`. PASS/FAIL is information only.');
  process.stdout.write(`${out.join('\n')}\n`);
}

try {
  await main();
} finally {
  server.close();
  fs.rmSync(scratch, { recursive: true, force: true });
}
