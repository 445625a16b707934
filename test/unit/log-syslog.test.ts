import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultSyslogTransport,
  formatSyslogFrame,
  loggerPriorityName,
  loggerTransport,
  sendToSyslog,
  severityForExitStatus,
  syslogFailureMessage,
  syslogPriority,
  unixStreamTransport,
  type SyslogFacility,
} from '../../src/log/syslog.js';

/** The datagrams msmtp 1.8.23 sent to /dev/log (captured as described in docs/logging.md). */
const MSMTP_OK_INFO = "host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=134 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK";
const MSMTP_OK_DATAGRAM = `<14>Nov 21 21:37:40 msmtp: ${MSMTP_OK_INFO}`;
const MSMTP_FAIL_INFO = "host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org errormsg='cannot connect to 127.0.0.1, port 1: Connection refused' exitcode=EX_TEMPFAIL";
const MSMTP_FAIL_DATAGRAM = `<19>Nov 21 21:37:40 msmtp: ${MSMTP_FAIL_INFO}`;
const at = new Date('2026-11-21T21:37:40Z');

describe('priority and framing', () => {
  it('PRI = facility × 8 + severity, for every facility msmtp accepts', () => {
    const facilities: Array<[SyslogFacility, number]> = [
      ['LOG_USER', 1], ['LOG_MAIL', 2], ['LOG_LOCAL0', 16], ['LOG_LOCAL1', 17], ['LOG_LOCAL2', 18], ['LOG_LOCAL3', 19],
      ['LOG_LOCAL4', 20], ['LOG_LOCAL5', 21], ['LOG_LOCAL6', 22], ['LOG_LOCAL7', 23],
    ];
    for (const [facility, code] of facilities) {
      expect(syslogPriority(facility, 'info')).toBe(code * 8 + 6);
      expect(syslogPriority(facility, 'err')).toBe(code * 8 + 3);
    }
    expect(syslogPriority('LOG_LOCAL7', 'err')).toBe(187);
  });

  it('LOG_INFO on success, LOG_ERR on any failure', () => {
    expect(severityForExitStatus(0)).toBe('info');
    for (const status of [64, 65, 69, 75, 78]) expect(severityForExitStatus(status)).toBe('err');
  });

  it('logger priority names', () => {
    expect(loggerPriorityName('LOG_MAIL', 'info')).toBe('mail.info');
    expect(loggerPriorityName('LOG_LOCAL3', 'err')).toBe('local3.err');
    expect(loggerPriorityName('LOG_USER', 'err')).toBe('user.err');
  });

  it('the frame is what msmtp\'s syslog() sent, byte for byte (ident aside, which is a parameter)', () => {
    expect(formatSyslogFrame({ facility: 'LOG_USER', severity: 'info', ident: 'msmtp', text: MSMTP_OK_INFO }, at, 'UTC')).toBe(MSMTP_OK_DATAGRAM);
    expect(formatSyslogFrame({ facility: 'LOG_MAIL', severity: 'err', ident: 'msmtp', text: MSMTP_FAIL_INFO }, at, 'UTC')).toBe(MSMTP_FAIL_DATAGRAM);
  });

  it('a one-digit day is padded with a space, as syslog(3) does', () => {
    const frame = formatSyslogFrame({ facility: 'LOG_LOCAL0', severity: 'info', ident: 'outbox', text: 'x' }, new Date('2026-03-01T04:05:06Z'), 'UTC');
    expect(frame).toBe('<134>Mar  1 04:05:06 outbox: x');
  });
});

describe('transports', () => {
  let dir: string;
  let binDir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-syslog-'));
    binDir = join(dir, 'bin');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Puts a fake `logger` (a shell script) first on PATH; it records its arguments, NUL-separated, one call per line. */
  function fakeLogger(name: string, body: string): { env: NodeJS.ProcessEnv; calls: () => string[][] } {
    const bin = join(binDir, name);
    const record = join(dir, `${name}.calls`);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'logger'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done >> "${record}"\nprintf '\\n' >> "${record}"\n${body}\n`);
    chmodSync(join(bin, 'logger'), 0o755);
    return {
      env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      calls: () =>
        existsSync(record)
          ? readFileSync(record, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split('\0').slice(0, -1))
          : [],
    };
  }

  it('logger gets the tag, the priority and the line as one argument after --', async () => {
    const fake = fakeLogger('ok', 'exit 0');
    const failure = await sendToSyslog(MSMTP_OK_INFO, { facility: 'LOG_MAIL', severity: 'info', transport: loggerTransport({ env: fake.env }) });
    expect(failure).toBeUndefined();
    expect(fake.calls()).toEqual([['-t', 'outbox', '-p', 'mail.info', '--', MSMTP_OK_INFO]]);
  });

  it('a line over 1 KiB asks util-linux logger for a larger --size, so it is not cut', async () => {
    const fake = fakeLogger('long', 'exit 0');
    const line = `${MSMTP_FAIL_INFO} ${'é'.repeat(800)}`;
    const bytes = Buffer.byteLength(line);
    expect(await sendToSyslog(line, { facility: 'LOG_LOCAL2', severity: 'err', ident: 'msmtp', transport: loggerTransport({ env: fake.env }) })).toBeUndefined();
    expect(fake.calls()).toEqual([['-t', 'msmtp', '-p', 'local2.err', '--size', String(bytes), '--', line]]);
  });

  it('a logger without --size (BusyBox) is run again without it', async () => {
    const fake = fakeLogger('busybox', 'for a in "$@"; do [ "$a" = --size ] && { echo "logger: unrecognized option: size" >&2; exit 1; }; done; exit 0');
    const line = 'x'.repeat(2000);
    expect(await sendToSyslog(line, { facility: 'LOG_USER', severity: 'info', transport: loggerTransport({ env: fake.env }) })).toBeUndefined();
    expect(fake.calls()).toEqual([
      ['-t', 'outbox', '-p', 'user.info', '--size', '2000', '--', line],
      ['-t', 'outbox', '-p', 'user.info', '--', line],
    ]);
  });

  it('logger failing: a failure value with what it said', async () => {
    const fake = fakeLogger('fails', 'echo "logger: socket /dev/log: No such file or directory" >&2; exit 1');
    const failure = await sendToSyslog('line', { facility: 'LOG_USER', severity: 'err', transport: loggerTransport({ env: fake.env }) });
    expect(failure?.reason).toBe('logger exited with status 1: logger: socket /dev/log: No such file or directory');
    expect(syslogFailureMessage(failure!)).toBe('outbox: cannot log to syslog: logger exited with status 1: logger: socket /dev/log: No such file or directory');
  });

  it('no logger at all', async () => {
    const failure = await sendToSyslog('line', { facility: 'LOG_USER', severity: 'err', transport: loggerTransport({ command: 'outbox-test-no-such-logger' }) });
    expect(failure?.reason).toBe('cannot run outbox-test-no-such-logger: No such file or directory');
  });

  it('a logger that hangs is killed after the timeout', async () => {
    // The fake logger writes its PID, then becomes `sleep 30` (same PID). Not finishing on its own,
    // only the timeout can end the wait (else the test timeout fails the test).
    const pidFile = join(dir, 'hangs.pid');
    const fake = fakeLogger('hangs', `echo $$ > "${pidFile}"; exec sleep 30`);
    const failure = await sendToSyslog('line', { facility: 'LOG_USER', severity: 'info', transport: loggerTransport({ env: fake.env, timeoutMs: 300 }) });
    expect(failure?.reason).toBe('logger did not finish in 300 ms');
    // Killed, not left running: its PID goes away (once Node has reaped it). No PID file means it
    // was killed before it could write one, on a machine slower than 300 ms to start a shell.
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      // Bounded well inside the test timeout, so a logger left running is named and then stopped.
      for (let i = 0; i < 500 && alive(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(alive(), `logger (PID ${pid}) is still running`).toBe(false);
    } finally {
      if (alive()) process.kill(pid, 'SIGKILL');
    }
  });

  /** A syslog daemon listening on a unix stream socket: collects what each connection sends. */
  async function streamDaemon(path: string): Promise<{ server: Server; received: Promise<Buffer> }> {
    let deliver!: (b: Buffer) => void;
    const received = new Promise<Buffer>((resolve) => (deliver = resolve));
    const server = createServer((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => {
        chunks.push(d);
        // Like a daemon, keep the connection open; a frame ends at its NUL.
        if (d.includes(0)) deliver(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return { server, received };
  }

  it('a stream socket gets the syslog(3) frame and a NUL, even if the daemon keeps the connection open', async () => {
    const path = join(dir, 'stream.sock');
    const { server, received } = await streamDaemon(path);
    try {
      const transport = unixStreamTransport(path, { now: () => at, timeZone: 'UTC' });
      expect(await sendToSyslog(MSMTP_OK_INFO, { facility: 'LOG_USER', severity: 'info', ident: 'msmtp', transport })).toBeUndefined();
      expect((await received).toString('utf8')).toBe(`${MSMTP_OK_DATAGRAM}\0`);
    } finally {
      server.close();
    }
  });

  it('the default transport uses a stream socket when there is one, and logger is not run', async () => {
    const path = join(dir, 'default.sock');
    const { server, received } = await streamDaemon(path);
    const fake = fakeLogger('unused', 'exit 0');
    try {
      const transport = defaultSyslogTransport({ socketPath: path, logger: { env: fake.env } });
      expect(await sendToSyslog('hello', { facility: 'LOG_MAIL', severity: 'err', transport })).toBeUndefined();
      expect((await received).toString('utf8')).toMatch(/^<19>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d outbox: hello\0$/);
      expect(fake.calls()).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('the default transport falls back to logger when the socket cannot be connected (datagram socket, or none)', async () => {
    const fake = fakeLogger('fallback', 'exit 0');
    const transport = defaultSyslogTransport({ socketPath: join(dir, 'no-such.sock'), logger: { env: fake.env } });
    expect(await sendToSyslog('hello', { facility: 'LOG_MAIL', severity: 'info', transport })).toBeUndefined();
    expect(fake.calls()).toEqual([['-t', 'outbox', '-p', 'mail.info', '--', 'hello']]);
  });
});
