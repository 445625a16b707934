/**
 * msmtp's log line, byte for byte (msmtp 1.8.23's `msmtp_get_log_info()` and
 * `msmtp_log_to_file()`; see docs/logging.md for the lines it was checked
 * against):
 *
 *   [TIME ]host=H|socket=S tls=on|off auth=on|off [user=U ]from=F recipients=R1,R2
 *     [mailsize=N ][smtpstatus=CODE smtpmsg='LINE\nLINE' ][errormsg='TEXT' ]exitcode=EX_NAME
 *
 * `formatLogInfo()` is the part without the time (what msmtp sends to syslog
 * and prints after "log info was:"); `formatLogLine()` puts the time in front,
 * as the log file gets it.
 */
import { exitCodeName, rawReplyLines, type FailoverEntry, type LogRecord } from './log-record.js';
import { strftime } from './strftime.js';

/** msmtp's `logfile_time_format` default. */
export const DEFAULT_TIME_FORMAT = '%b %d %H:%M:%S';

export interface LogLineOptions {
  /**
   * `logfile_time_format`: a strftime format; `none` for no time (and no space
   * after it); null, undefined or empty for msmtp's default "%b %d %H:%M:%S".
   */
  readonly timeFormat?: string | null;
  /** The time to stamp the line with (msmtp: when the line is written). */
  readonly now: Date;
  /** An IANA zone to format the time in; local time (TZ) when absent, as msmtp. */
  readonly timeZone?: string;
  /** Exit status → name; msmtp's sysexits.h names by default. */
  readonly exitCodeNames?: Readonly<Record<number, string>>;
}

/** The log line as the log file gets it, without the newline. */
export function formatLogLine(record: LogRecord, options: LogLineOptions): string {
  const stamp = logTimeStamp(options.timeFormat, options.now, options.timeZone);
  const info = formatLogInfo(record, options.exitCodeNames);
  return stamp === undefined ? info : `${stamp} ${info}`;
}

/** The time stamp for `logfile_time_format`, or undefined for `none`. */
export function logTimeStamp(timeFormat: string | null | undefined, now: Date, timeZone?: string): string | undefined {
  if (timeFormat === 'none') return undefined;
  const format = timeFormat === null || timeFormat === undefined || timeFormat === '' ? DEFAULT_TIME_FORMAT : timeFormat;
  return strftime(format, now, timeZone === undefined ? {} : { timeZone });
}

/** msmtp's `msmtp_get_log_info()`: the line without the time. */
export function formatLogInfo(record: LogRecord, exitCodeNames?: Readonly<Record<number, string>>): string {
  const fields: string[] = [];
  fields.push(record.socket !== undefined ? `socket=${plain(record.socket)}` : `host=${plain(record.host ?? '')}`);
  fields.push(`tls=${record.tls ? 'on' : 'off'}`);
  fields.push(`auth=${record.auth ? 'on' : 'off'}`);
  if (record.auth && record.user !== undefined && record.user !== '') fields.push(`user=${plain(record.user)}`);
  fields.push(`from=${plain(record.from)}`);
  fields.push(`recipients=${record.recipients.map(plain).join(',')}`);
  const ok = record.exitStatus === 0;
  if (ok && record.mailsize !== undefined) fields.push(`mailsize=${record.mailsize}`);
  if (record.reply) {
    const message = rawReplyLines(record.reply).map(quotable).join('\\n');
    fields.push(`smtpstatus=${record.reply.code}`, `smtpmsg='${message}'`);
  }
  if (!ok && record.errormsg !== undefined && record.errormsg !== '') fields.push(`errormsg='${quotable(record.errormsg)}'`);
  // outbox's fail-over adds two fields msmtp never writes, only when a mail fell over (issue 16).
  if (record.account !== undefined) fields.push(`account=${plain(record.account)}`);
  if (record.failover && record.failover.length > 0) fields.push(`failover='${quotable(record.failover.map(failoverText).join('; '))}'`);
  // outbox's queue adds two fields msmtp never writes, before the exit code that ends msmtp's line.
  if (record.queue) fields.push(`queue=${record.queue.event}`, `queueid=${plain(record.queue.id)}`);
  fields.push(`exitcode=${exitCodeName(record.exitStatus, exitCodeNames)}`);
  return fields.join(' ');
}

/** `a: cannot connect to … (421 4.3.2 busy)`: an account fallen over, the error and the server's reply. */
function failoverText(entry: FailoverEntry): string {
  const reply = entry.reply ? ` (${rawReplyLines(entry.reply).join(' / ')})` : '';
  return `${entry.account}: ${entry.errormsg}${reply}`;
}

const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * Text inside `'…'`: msmtp's `sanitize_string()` turns every control
 * character (iscntrl() in the C locale: 0x00–0x1f and 0x7f) into '?', and
 * every single quote becomes '?' too, so the quoted fields stay parseable.
 */
export function quotable(text: string): string {
  return text.replace(CONTROL, '?').replace(/'/g, '?');
}

/**
 * The unquoted fields (host, user, from, recipients). msmtp writes them as
 * they are; outbox also turns control characters into '?' so that no value
 * can break the line in two. Quotes stay, as in msmtp (`recipients=o'brien@…`).
 */
function plain(text: string): string {
  return text.replace(CONTROL, '?');
}
