/**
 * The log of sendmail mode (msmtp's `logfile`/`-X`, `syslog`): one line per
 * mail, success or failure, after the error messages, in msmtp's format (or
 * one JSON object with `--logfile-format=json`). A log that cannot be
 * written is reported on stderr and never changes the exit status.
 */
import type { ReadyAccount } from '../config/index.js';
import type { DeliveryResult } from '../delivery/deliver.js';
import { describeReply, OutboxError } from '../errors.js';
import { appendLogLine, formatJsonRecord, formatLogInfo, formatLogLine, logFailureMessages, type LogRecord } from '../log/index.js';
import { sendToSyslog, severityForExitStatus, syslogFailureMessage } from '../log/syslog.js';
import { exitStatusFor } from './exit-status.js';
import type { ChainReport } from './fallback-send.js';
import type { Stdio } from './stdio.js';

export interface MailOutcome {
  readonly account: ReadyAccount;
  readonly reversePath: string;
  readonly recipients: readonly string[];
  /** msmtp's mailsize: the octets after header changes, each CRLF counted as one. */
  readonly mailsize: number;
  readonly startedAt: Date;
  readonly result?: DeliveryResult;
  readonly error?: unknown;
  /** What the fail-over chain did (issue 16); the line names the account that delivered when it fell over. */
  readonly chain?: ChainReport;
}

export async function logMail(outcome: MailOutcome, io: Pick<Stdio, 'writeOut' | 'writeErr'>): Promise<void> {
  if (outcome.account.logfile === null && outcome.account.syslog === null) return;
  await writeLogRecord(outcome.account, logRecord(outcome), io);
}

/** One record to the account's log file and syslog, whichever are set. */
export async function writeLogRecord(account: ReadyAccount, record: LogRecord, io: Pick<Stdio, 'writeOut' | 'writeErr'>): Promise<void> {
  if (account.logfile !== null) {
    const line = account.logfile_format === 'json' ? formatJsonRecord(record) : formatLogLine(record, { now: new Date(), timeFormat: account.logfile_time_format });
    const failure = await appendLogLine(account.logfile, line, { writeStdout: (text) => io.writeOut(text) });
    if (failure) for (const message of logFailureMessages(failure, formatLogInfo(record))) io.writeErr(`${message}\n`);
  }
  if (account.syslog !== null) {
    const failure = await sendToSyslog(formatLogInfo(record), { facility: account.syslog, severity: severityForExitStatus(record.exitStatus) });
    if (failure) io.writeErr(`${syslogFailureMessage(failure)}\n`);
  }
}

/** The fields every line about an account starts with: where, TLS and AUTH as set. */
export function accountLogFields(account: ReadyAccount): Pick<LogRecord, 'host' | 'socket' | 'tls' | 'auth' | 'user'> {
  const auth = account.auth !== 'off';
  return {
    ...(account.socket !== null ? { socket: account.socket } : { host: account.host ?? '' }),
    tls: account.tls,
    auth,
    ...(auth && account.user ? { user: account.user } : {}),
  };
}

function logRecord(outcome: MailOutcome): LogRecord {
  const { account, result } = outcome;
  // After a fall-over the line is about the account tried last, and its own error; the earlier ones go in `failover`.
  const error = outcome.chain?.lastError ?? outcome.error;
  const reply = result?.finalReply ?? (error instanceof OutboxError ? error.reply : undefined);
  return {
    ...accountLogFields(account),
    from: outcome.reversePath,
    recipients: outcome.recipients,
    ...(result ? { mailsize: outcome.mailsize } : {}),
    ...(reply ? { reply } : {}),
    ...(error !== undefined ? { errormsg: errorMessage(error) } : {}),
    exitStatus: outcome.error === undefined ? 0 : exitStatusFor(outcome.error),
    ...(result ? { perRecipient: result.recipients.map((r) => ({ recipient: r.recipient, code: r.reply.code, ...(r.reply.enhanced ? { enhanced: r.reply.enhanced } : {}), text: r.reply.lines.join('\n'), delivered: r.delivered })) } : {}),
    ...(result?.tls ? { tlsProtocol: result.tls.protocol, tlsCipher: result.tls.cipher } : {}),
    ...(result?.authMechanism ? { authMechanism: result.authMechanism } : {}),
    ...(result ? { octetsSent: result.messageOctets, phasesMs: result.phasesMs } : {}),
    startedAt: outcome.startedAt,
    ...failoverFields(outcome.chain),
  };
}

/**
 * outbox's own fields (issue 16), only when the mail fell over: which account
 * the line is about (its host, TLS, auth and user), and those before it.
 */
export function failoverFields(chain: ChainReport | undefined): Partial<LogRecord> {
  if (!chain || chain.failures.length === 0 || !chain.account) return {};
  const failover = chain.failures.map(({ account, error }) => ({ account, errormsg: errorMessage(error), ...(error.reply ? { reply: error.reply } : {}) }));
  // host/socket and user are replaced, not merged: the first account's socket must not hide the fallback's host.
  return { host: undefined, socket: undefined, user: undefined, ...accountLogFields(chain.account), account: chain.account.name, failover };
}

/** As msmtp: the server's reply is in smtpstatus/smtpmsg, so errormsg says only what failed. */
function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const reply = error instanceof OutboxError ? error.reply : undefined;
  const suffix = reply ? `: ${describeReply(reply)}` : '';
  return suffix && error.message.endsWith(suffix) ? error.message.slice(0, -suffix.length) : error.message;
}
