/**
 * The syslog sink: `syslog on|LOG_USER|LOG_MAIL|LOG_LOCAL0…7` sends the log
 * line (without the time; syslog stamps it) with severity LOG_INFO on success
 * and LOG_ERR on failure, as msmtp's `msmtp_log_to_syslog()` does.
 *
 * msmtp calls syslog(3), which sends a datagram to the unix socket /dev/log.
 * Node cannot send unix datagrams (node:dgram is UDP only), so outbox does
 * what glibc does for a stream socket, and otherwise hands the line to
 * `logger`:
 *  1. connect a stream socket to /dev/log; if that works (a syslog daemon
 *     listening with a stream socket), send the RFC 3164 frame and a NUL,
 *     exactly as glibc's syslog() frames it on a stream socket;
 *  2. if the connection is refused (EPROTOTYPE: /dev/log is a datagram
 *     socket, the usual case with systemd-journald or rsyslog; ENOENT …),
 *     run `logger -t IDENT -p FACILITY.SEVERITY -- LINE`, which sends the
 *     same frame as a datagram (checked: msmtp's and logger's datagrams
 *     differ only in the ident).
 * The transport is a parameter, so tests and other callers can replace it.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import type { SyslogFacility } from '../config/account.js';
import { strftime } from './strftime.js';

export type { SyslogFacility };

export type SyslogSeverity = 'info' | 'err';

/** <syslog.h> facility numbers (the value of LOG_MAIL is 2 << 3; these are before the shift). */
const FACILITY_CODES: Readonly<Record<SyslogFacility, number>> = {
  LOG_USER: 1,
  LOG_MAIL: 2,
  LOG_LOCAL0: 16,
  LOG_LOCAL1: 17,
  LOG_LOCAL2: 18,
  LOG_LOCAL3: 19,
  LOG_LOCAL4: 20,
  LOG_LOCAL5: 21,
  LOG_LOCAL6: 22,
  LOG_LOCAL7: 23,
};

const SEVERITY_CODES: Readonly<Record<SyslogSeverity, number>> = { err: 3, info: 6 };

/** The PRI value of RFC 3164 / RFC 5424: facility × 8 + severity. */
export function syslogPriority(facility: SyslogFacility, severity: SyslogSeverity): number {
  return FACILITY_CODES[facility] * 8 + SEVERITY_CODES[severity];
}

/** msmtp logs LOG_INFO for a mail sent, LOG_ERR for any failure. */
export function severityForExitStatus(exitStatus: number): SyslogSeverity {
  return exitStatus === 0 ? 'info' : 'err';
}

/** The `logger -p` name: "mail.info", "local3.err". */
export function loggerPriorityName(facility: SyslogFacility, severity: SyslogSeverity): string {
  return `${facility.slice('LOG_'.length).toLowerCase()}.${severity}`;
}

export interface SyslogMessage {
  readonly facility: SyslogFacility;
  readonly severity: SyslogSeverity;
  /** The tag in front of the message: msmtp uses "msmtp", outbox "outbox". */
  readonly ident: string;
  readonly text: string;
}

/**
 * The frame syslog(3) sends to the local socket: "<PRI>Mmm dd hh:mm:ss IDENT: TEXT",
 * the time in local time, the day padded with a space ("Nov  1").
 */
export function formatSyslogFrame(message: SyslogMessage, now: Date, timeZone?: string): string {
  const stamp = strftime('%b %e %H:%M:%S', now, timeZone === undefined ? {} : { timeZone });
  return `<${syslogPriority(message.facility, message.severity)}>${stamp} ${message.ident}: ${message.text}`;
}

/** Delivers one message to syslog; rejects with an Error saying why not. */
export type SyslogTransport = (message: SyslogMessage) => Promise<void>;

export interface SendToSyslogOptions {
  readonly facility: SyslogFacility;
  readonly severity: SyslogSeverity;
  /** "outbox" by default. */
  readonly ident?: string;
  /** How to reach syslog; defaultSyslogTransport() when absent. */
  readonly transport?: SyslogTransport;
}

export interface SyslogFailure {
  /** What went wrong, e.g. "logger exited with status 1: logger: socket /dev/log: No such file or directory". */
  readonly reason: string;
  readonly cause?: unknown;
}

/** Sends the log line to syslog. Resolves to undefined on success, or to a failure to report; never rejects. */
export async function sendToSyslog(line: string, options: SendToSyslogOptions): Promise<SyslogFailure | undefined> {
  const transport = options.transport ?? defaultSyslogTransport();
  try {
    await transport({ facility: options.facility, severity: options.severity, ident: options.ident ?? 'outbox', text: line });
    return undefined;
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error), cause: error };
  }
}

/** The line the CLI prints when syslog cannot be reached (without its newline). */
export function syslogFailureMessage(failure: SyslogFailure, program = 'outbox'): string {
  return `${program}: cannot log to syslog: ${failure.reason}`;
}

export interface DefaultTransportOptions {
  /** The syslog socket; "/dev/log". */
  readonly socketPath?: string;
  readonly logger?: LoggerTransportOptions;
  readonly timeoutMs?: number;
}

/** A stream connection to /dev/log when the daemon listens that way, else `logger`. */
export function defaultSyslogTransport(options: DefaultTransportOptions = {}): SyslogTransport {
  const stream = unixStreamTransport(options.socketPath ?? '/dev/log', options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  const viaLogger = loggerTransport(options.logger);
  return async (message) => {
    try {
      await stream(message);
    } catch (error) {
      // Only a refused connection means "try logger"; once connected, a second delivery could duplicate the line.
      if (!(error instanceof SyslogConnectError)) throw error;
      await viaLogger(message);
    }
  };
}

/** The stream socket could not be connected to (as opposed to failing later). */
class SyslogConnectError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'SyslogConnectError';
    this.code = code;
  }
}

export interface StreamTransportOptions {
  readonly timeoutMs?: number;
  /** The clock for the frame's time stamp. */
  readonly now?: () => Date;
  readonly timeZone?: string;
}

/** Sends the frame and a NUL over a unix stream socket, as glibc's syslog() does on a SOCK_STREAM /dev/log. */
export function unixStreamTransport(path: string, options: StreamTransportOptions = {}): SyslogTransport {
  const timeoutMs = options.timeoutMs ?? 5000;
  return (message) =>
    new Promise<void>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const socket = createConnection({ path });
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`syslog socket ${path}: no answer in ${timeoutMs} ms`)), timeoutMs);
      socket.on('connect', () => {
        connected = true;
        const frame = formatSyslogFrame(message, options.now?.() ?? new Date(), options.timeZone);
        // Done once the frame is handed to the kernel; daemons keep stream connections open, so do not wait for a close.
        socket.end(Buffer.concat([Buffer.from(frame, 'utf8'), Buffer.of(0)]), () => finish());
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        finish(connected ? error : new SyslogConnectError(`cannot connect to ${path}: ${error.code ?? error.message}`, error.code));
      });
      socket.on('close', () => finish(connected ? undefined : new SyslogConnectError(`cannot connect to ${path}`, undefined)));
    });
}

export interface LoggerTransportOptions {
  /** The program to run: "logger" (found on PATH). */
  readonly command?: string;
  /** Its environment: process.env by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed after this long: 5000 ms. */
  readonly timeoutMs?: number;
}

/** util-linux logger cuts messages at 1 KiB unless told otherwise with --size. */
const LOGGER_DEFAULT_SIZE = 1024;

/**
 * Runs `logger -t IDENT -p FACILITY.SEVERITY -- TEXT`. A line longer than
 * logger's default limit (1 KiB) gets `--size N` (util-linux); a logger that
 * does not know --size (BusyBox) is run again without it, and cuts the line.
 */
export function loggerTransport(options: LoggerTransportOptions = {}): SyslogTransport {
  const command = options.command ?? 'logger';
  const timeoutMs = options.timeoutMs ?? 5000;
  return async (message) => {
    const base = ['-t', message.ident, '-p', loggerPriorityName(message.facility, message.severity)];
    const size = Buffer.byteLength(message.text, 'utf8');
    if (size > LOGGER_DEFAULT_SIZE) {
      const first = await runLogger(command, [...base, '--size', String(size), '--', message.text], options.env, timeoutMs);
      if (first.ok) return;
      if (first.spawnError) throw new Error(first.reason);
    }
    const result = await runLogger(command, [...base, '--', message.text], options.env, timeoutMs);
    if (!result.ok) throw new Error(result.reason);
  };
}

type LoggerResult = { ok: true } | { ok: false; reason: string; spawnError: boolean };

function runLogger(command: string, args: string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number): Promise<LoggerResult> {
  return new Promise((resolve) => {
    let stderr = '';
    let settled = false;
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    const done = (result: LoggerResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, reason: `${command} did not finish in ${timeoutMs} ms`, spawnError: false });
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      done({ ok: false, reason: `cannot run ${command}: ${error.code === 'ENOENT' ? 'No such file or directory' : error.message}`, spawnError: true });
    });
    child.on('close', (code, signal) => {
      if (code === 0) return done({ ok: true });
      const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
      const said = stderr.trim().split('\n')[0] ?? '';
      done({ ok: false, reason: `${command} ${how}${said ? `: ${said}` : ''}`, spawnError: false });
    });
  });
}
