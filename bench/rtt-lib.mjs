// Shared by the round-trip benchmarks (bench/rtt.mjs, bench/postfix.mjs): a
// delaying TCP proxy on 127.0.0.1 that counts a client's flights, the names
// of those flights, the test mail, and running a client with a time limit.
//
// Every chunk read from either side is written to the other side `oneWayMs`
// later, in order per direction (a queue per direction, drained by one timer).
// The upstream connection is opened `connectDelayMs` after the client's: with
// 1.5 × RTT the server accept()s when it would at that distance (SYN, SYN-ACK,
// ACK), and its greeting reaches the client two round trips after connect(),
// as on a real network. Both proxy sockets set TCP_NODELAY, so the proxy adds
// no Nagle delays of its own (a client's own Nagle stalls still happen: the
// proxy's kernel delays its ACKs like any receiver's).
//
// A client->server FLIGHT is a burst of client data sent without having
// received server data in between: a new flight starts when client data
// reaches the proxy and the proxy has delivered server data to the client
// since the client's previous data; the first client data is flight 1.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const now = () => performance.now();

/** The repository, and the outbox a bench measures (BENCH_OUTBOX_BIN: another build). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OUTBOX_BIN = process.env.BENCH_OUTBOX_BIN ? path.resolve(process.env.BENCH_OUTBOX_BIN) : path.join(ROOT, 'bin', 'outbox');
export const NODE = process.execPath;

/** Progress on stderr; the tables (`out`) on stdout. */
export const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
export const out = (line) => process.stdout.write(`${line}\n`);

/** The bench's own arguments: --quick, and --NAME=N clamped to [lo, hi] (dflt when absent or not a number). */
export const BENCH_ARGS = process.argv.slice(2);
export const QUICK = BENCH_ARGS.includes('--quick');
export function numArg(name, dflt, lo, hi) {
  const a = BENCH_ARGS.find((x) => x.startsWith(`--${name}=`));
  const v = a ? Number(a.split('=')[1]) : dflt;
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : dflt;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Writes each item `delay` ms after it was pushed, in order; `null` stands for the end of the stream. */
class DelayLine {
  constructor(delay, deliver, finish) {
    this.delay = delay;
    this.deliver = deliver;
    this.finish = finish;
    this.queue = [];
    this.timer = null;
    this.lags = []; // measured delays, ms
  }
  push(buf) {
    const t = now();
    this.queue.push({ due: t + this.delay, at: t, buf });
    this.arm();
  }
  arm() {
    if (this.timer || !this.queue.length) return;
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.queue[0].due - now()));
  }
  fire() {
    this.timer = null;
    const t = now();
    // Timers can fire a fraction of a millisecond early: half a millisecond of slack.
    while (this.queue.length && this.queue[0].due <= t + 0.5) {
      const item = this.queue.shift();
      this.lags.push(now() - item.at);
      if (item.buf === null) this.finish();
      else this.deliver(item.buf);
    }
    this.arm();
  }
  cancel() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
  }
}

/**
 * Starts the proxy. Returns { port, nextConnection(), close() }. nextConnection()
 * resolves with the next proxied connection (a later call replaces an earlier
 * one that is still waiting):
 *   { t0, flights: [{ at, after, deliveredAt, lastAt, bytes, replyBytes, chunks }], closed: Promise, lags: [] }
 * (times from performance.now(); `after`: when the proxy delivered the server
 * data the flight answers, so `at - after` is the client's own time to react;
 * `replyBytes`: what the server sent between this flight and the next;
 * `closed` resolves when both sides are closed).
 */
export async function startDelayProxy({ targetPort, oneWayMs, connectDelayMs }) {
  let waiter = null; // one measured connection at a time
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    let closeDone;
    const conn = { t0: now(), flights: [], closed: new Promise((r) => (closeDone = r)), lags: [] };
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(conn);
    }
    client.setNoDelay(true);
    let serverDataSinceClient = false;
    let lastServerDelivery = null;
    let upstream = null;
    let upstreamReady = false;
    let pending = []; // delivered by the delay line before the upstream connection is up
    let clientGone = false;
    let serverGone = false;
    const done = () => {
      if (!clientGone || !serverGone) return;
      toServer.cancel();
      toClient.cancel();
      conn.lags = [...toServer.lags, ...toClient.lags];
      closeDone();
    };
    const toServer = new DelayLine(
      oneWayMs,
      (buf) => {
        const f = conn.flights[conn.flights.length - 1];
        if (f && f.deliveredAt == null) f.deliveredAt = now();
        if (upstreamReady) upstream.write(buf);
        else pending.push(buf);
      },
      () => {
        if (upstreamReady) upstream.end();
        else pending.push(null);
      },
    );
    const toClient = new DelayLine(
      oneWayMs,
      (buf) => {
        serverDataSinceClient = true;
        lastServerDelivery = now();
        const f = conn.flights[conn.flights.length - 1];
        if (f) f.replyBytes += buf.length;
        if (!client.destroyed) client.write(buf);
      },
      () => {
        if (!client.destroyed) client.end();
      },
    );
    client.on('data', (buf) => {
      const t = now();
      if (conn.flights.length === 0 || serverDataSinceClient) {
        conn.flights.push({ at: t, after: lastServerDelivery, deliveredAt: null, lastAt: t, bytes: 0, replyBytes: 0, chunks: [] });
        serverDataSinceClient = false;
      }
      const f = conn.flights[conn.flights.length - 1];
      f.bytes += buf.length;
      f.lastAt = t;
      f.chunks.push(Buffer.from(buf));
      toServer.push(buf);
    });
    client.on('end', () => toServer.push(null));
    client.on('error', () => {});
    const openTimer = setTimeout(() => {
      if (clientGone) return;
      upstream = net.connect(targetPort, '127.0.0.1');
      sockets.add(upstream);
      upstream.setNoDelay(true);
      upstream.on('connect', () => {
        upstreamReady = true;
        for (const b of pending) {
          if (b === null) upstream.end();
          else upstream.write(b);
        }
        pending = [];
      });
      upstream.on('data', (buf) => toClient.push(buf));
      upstream.on('end', () => toClient.push(null));
      upstream.on('error', () => {});
      upstream.on('close', () => {
        sockets.delete(upstream);
        serverGone = true;
        toClient.push(null); // what the server sent still reaches the client first
        done();
      });
    }, connectDelayMs);
    client.on('close', () => {
      sockets.delete(client);
      clearTimeout(openTimer);
      clientGone = true;
      if (!upstream) serverGone = true;
      else if (!upstreamReady) upstream.destroy();
      done();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    nextConnection: () => new Promise((resolve) => (waiter = resolve)),
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const TLS_TYPES = { 20: 'ChangeCipherSpec', 21: 'alert', 22: 'handshake', 23: 'application data' };
const HANDSHAKE_TYPES = { 1: 'ClientHello', 11: 'Certificate', 15: 'CertificateVerify', 16: 'ClientKeyExchange', 20: 'Finished' };

/**
 * What the client put on the wire in one flight, as a list: plain-text
 * commands, or TLS record types (after ChangeCipherSpec everything is
 * encrypted, so TLS 1.3's Finished and all SMTP traffic show as "application
 * data"). `state` carries across the flights of one connection.
 */
export function wireSummary(buf, state) {
  const parts = [];
  let i = 0;
  while (i < buf.length) {
    if (state.tls) {
      if (state.recordLeft > 0) {
        const take = Math.min(state.recordLeft, buf.length - i);
        state.recordLeft -= take;
        i += take;
        continue;
      }
      if (buf.length - i < 6) break; // a record header split across flights: not seen here, not worth handling
      const type = buf[i];
      let name = TLS_TYPES[type] ?? `record type ${type}`;
      if (type === 22) name = state.sawCcs ? 'handshake (encrypted)' : HANDSHAKE_TYPES[buf[i + 5]] ?? 'handshake';
      if (type === 20) state.sawCcs = true;
      const len = buf.readUInt16BE(i + 3);
      // Marked for describeFlights(): see there.
      if (type === 23 && len === 19) name = SHORT_RECORD;
      parts.push(name);
      state.recordLeft = len;
      i += 5;
      continue;
    }
    if (buf[i] === 22 && buf[i + 1] === 3) {
      state.tls = true;
      continue;
    }
    const end = buf.indexOf('\r\n', i);
    const line = buf.subarray(i, end < 0 ? buf.length : end).toString('latin1');
    i = end < 0 ? buf.length : end + 2;
    parts.push(line.replace(/^(AUTH\s+\S+)\s+\S+/i, '$1 …'));
  }
  return parts;
}

const SHORT_RECORD = 'application data (19 B)';

/** "a, b, b, b" → "a, b ×3". */
function collapse(parts) {
  const out = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (last && last.name === p) last.n++;
    else out.push({ name: p, n: 1 });
  }
  return out.map((p) => (p.n > 1 ? `${p.name} ×${p.n}` : p.name)).join(', ');
}

/**
 * One row per flight: start (ms after the client connected), the client's time
 * to react to the server data before it (`think`), span, bytes, what
 * was on the wire, and the server's events ({ t, what }) matched to the last
 * flight delivered to the server before each.
 */
export function describeFlights(conn, events = []) {
  const state = { tls: false, recordLeft: 0, sawCcs: false };
  const wires = conn.flights.map((f) => wireSummary(Buffer.concat(f.chunks), state));
  // TLS 1.3 hides alerts in application data records. A 19-byte one (2 bytes of
  // alert, 1 of content type, a 16-byte AEAD tag) that is the last thing the
  // client sends is its close_notify; elsewhere it is a 2-byte write (msmtp
  // sends the blank line after the headers on its own).
  wires.forEach((parts, k) => {
    parts.forEach((p, j) => {
      if (p !== SHORT_RECORD) return;
      const lastOfAll = k === wires.length - 1 && j === parts.length - 1;
      parts[j] = lastOfAll ? 'encrypted alert (close_notify)' : 'application data';
    });
  });
  const rows = conn.flights.map((f, k) => ({
    n: k + 1,
    at: f.at - conn.t0,
    think: f.after == null ? null : f.at - f.after,
    span: f.lastAt - f.at,
    bytes: f.bytes,
    replyBytes: f.replyBytes,
    wire: collapse(wires[k]),
    server: [],
  }));
  for (const e of events) {
    let idx = -1;
    conn.flights.forEach((f, k) => {
      if (f.deliveredAt != null && f.deliveredAt <= e.t) idx = k;
    });
    if (idx < 0) continue;
    const list = rows[idx].server;
    if (list[list.length - 1] !== e.what) list.push(e.what);
  }
  return rows;
}

/** A short name for a flight: from the server's events when there are any, else from the wire. */
export function flightName(row) {
  const names = [];
  const add = (n) => {
    if (n && names[names.length - 1] !== n) names.push(n);
  };
  if (row.server.length) {
    for (const w of row.server) {
      if (/^TLS handshake/.test(w)) add('TLS Finished');
      else if (/^message data/.test(w)) add('message');
      else if (/^end of data/.test(w)) continue;
      else add(w.split(/[\s:]/)[0].toUpperCase() + (/^AUTH\s+(\S+)/i.test(w) ? ' ' + /^AUTH\s+(\S+)/i.exec(w)[1].toUpperCase() : ''));
    }
    if (/close_notify/.test(row.wire)) add('TLS close_notify');
    return names.join('+');
  }
  for (const w of row.wire.split(', ')) {
    if (/^ClientHello/.test(w)) add('TLS ClientHello');
    else if (/^ChangeCipherSpec/.test(w)) add('TLS Finished');
    else if (/^application data/.test(w)) add(`encrypted`);
    else if (/close_notify/.test(w)) add('TLS close_notify');
    else if (/^alert/.test(w)) add('TLS alert');
    else add(w.split(' ')[0].toUpperCase());
  }
  return names.join('+');
}

/** Prints one connection's flights, indented, for a report. */
export function flightLines(label, rows, fmtNum) {
  const out = [`  ${label}: ${rows.length} flights — ${rows.map(flightName).join(' | ')}`];
  for (const r of rows) {
    const think = r.think == null ? '' : `(${fmtNum(r.think, 0)} ms)`;
    const srv = r.server.length ? ` → ${r.server.join(', ')}` : '';
    out.push(
      `    ${String(r.n).padStart(2)}. +${fmtNum(r.at, 0).padStart(3)} ms ${think.padEnd(8)} ${String(r.bytes).padStart(5)} B, reply ${String(r.replyBytes).padStart(4)} B: ${r.wire}${srv}`,
    );
  }
  return out;
}

// ------------------------------------------------------------------ stats ---

export function median(xs) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
export const fmt = (x, d = 1) => (x == null || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

/** Aligned columns with a rule under the header. */
export function table(header, rows) {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

export function machineLine() {
  let cpu = 'unknown CPU';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))[1].trim();
  } catch {
    /* not Linux */
  }
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
  return `${cpu}, ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.type()} ${os.release()}, node ${process.version}`;
}

// ------------------------------------------------------------------- mail ---

/**
 * A fixed mail of about 1 KB (LF endings), with Date and Message-ID so that
 * neither client adds a header and both send the same bytes; one line needs
 * dot-stuffing. Returns its size.
 */
export function writeMail(file, { from, to }) {
  const head = [
    `From: Bench Sender <${from}>`,
    `To: <${to}>`,
    'Subject: outbox round-trip benchmark',
    'Date: Sat, 01 Nov 2025 12:00:00 +0000',
    'Message-ID: <rtt-bench@example.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
  ];
  const words = 'relay queue envelope header mailbox transfer session server client reply status network'.split(' ');
  const body = [];
  let size = head.join('\n').length + 1;
  for (let i = 0; size < 1000 && i < 100; i++) {
    let line = '';
    for (let j = 0; line.length < 60; j++) line += (line ? ' ' : '') + words[(i * 7 + j * 3) % words.length];
    if (i === 5) line = '.' + line;
    line = line.slice(0, Math.max(0, 1023 - size));
    body.push(line);
    size += line.length + 1;
  }
  const text = [...head, ...body].join('\n') + '\n';
  fs.writeFileSync(file, text);
  return Buffer.byteLength(text);
}

// ---------------------------------------------------------------- clients ---

/** Children still running; killed by PID on the way out. */
export const liveChildren = new Set();

export function killLiveChildren() {
  for (const child of liveChildren) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  liveChildren.clear();
}

export function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':')) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return path.join(dir, cmd);
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * Runs a client (no shell) with the mail file as its standard input, killed by
 * PID after `timeoutMs`. Resolves { ok, code, signal, t0, ms, stderr }: t0 is
 * performance.now() at spawn(), ms the wall time to its exit.
 */
export function runClient(cmd, args, { env, stdinFile, timeoutMs = 20_000 }) {
  return new Promise((resolve) => {
    const fd = fs.openSync(stdinFile, 'r');
    const t0 = now();
    let child;
    try {
      child = spawn(cmd, args, { stdio: [fd, 'pipe', 'pipe'], env });
    } catch (e) {
      fs.closeSync(fd);
      resolve({ ok: false, t0, ms: null, stderr: String(e) });
      return;
    }
    fs.closeSync(fd);
    liveChildren.add(child);
    let stderr = '';
    child.stdout.on('data', () => {});
    child.stderr.on('data', (d) => {
      if (stderr.length < 4096) stderr += d;
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ ok: false, t0, ms: null, stderr: String(e) });
    });
    child.on('exit', (code, signal) => {
      const ms = now() - t0;
      clearTimeout(timer);
      liveChildren.delete(child);
      setImmediate(() =>
        resolve({
          ok: code === 0 && !timedOut,
          code,
          signal,
          t0,
          ms,
          stderr: (stderr + (timedOut ? `\n[bench] killed after ${timeoutMs} ms` : '')).trim(),
        }),
      );
    });
  });
}

/**
 * One client run through the proxy. Waits (bounded) until the proxied
 * connection is closed on both sides, then returns the run with its flights
 * and where its wall time went: start-up until connect(), its own reaction
 * time while connected (summed), and from its last data to its exit.
 */
export async function runThroughProxy(proxy, cmd, args, opts, serverEvents = () => []) {
  let conn = null;
  const gotConn = proxy.nextConnection().then((c) => (conn = c));
  const r = await runClient(cmd, args, opts);
  await Promise.race([gotConn, sleep(2_000)]);
  if (conn) await Promise.race([conn.closed, sleep(3_000)]);
  await sleep(5);
  const rows = conn ? describeFlights(conn, serverEvents()) : null;
  const last = conn && conn.flights.length ? conn.flights[conn.flights.length - 1] : null;
  return {
    ...r,
    flights: conn ? conn.flights.length : null,
    rows,
    startupMs: conn ? conn.t0 - r.t0 : null,
    thinkMs: rows ? rows.reduce((sum, row) => sum + (row.think ?? 0), 0) : null,
    tailMs: last && r.ms != null ? r.t0 + r.ms - last.at : null,
    lags: conn ? conn.lags : [],
  };
}

/**
 * The client's command groups from a `-d` transcript (outbox's or msmtp's
 * "--> " and "<-- " lines): commands written with no reply read in between
 * form one group. Message lines (after a 354) are shown as "message";
 * arguments are dropped, so no credential is shown.
 */
export function dialogueGroups(text) {
  const groups = [];
  let lastWasSent = false;
  let inData = false;
  let awaiting354 = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('<-- ')) {
      lastWasSent = false;
      if (awaiting354 && /^<-- 354/.test(line)) {
        inData = true;
        awaiting354 = false;
      }
      continue;
    }
    if (!line.startsWith('--> ')) continue;
    const cmd = line.slice(4);
    let name;
    if (inData) {
      name = 'message';
      if (cmd === '.') inData = false;
    } else {
      const words = cmd.split(' ');
      const verb = words[0].toUpperCase();
      if (verb === 'AUTH') name = `AUTH ${(words[1] || '').toUpperCase()}`;
      else if (verb === 'BDAT') name = `BDAT ${words.slice(1).join(' ')}`;
      else name = /^(EHLO|HELO|LHLO|STARTTLS|MAIL|RCPT|DATA|RSET|NOOP|QUIT|ETRN)(:|$)/.test(verb) ? verb.replace(/:.*/, '') : '(SASL response)';
      if (verb === 'DATA') awaiting354 = true;
    }
    if (!lastWasSent) groups.push([]);
    const g = groups[groups.length - 1];
    if (g[g.length - 1] !== name) g.push(name);
    lastWasSent = true;
  }
  return groups.map((g) => g.join('+'));
}
