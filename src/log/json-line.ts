/**
 * `logfile_format json`: one JSON object per mail, on one line, for programs
 * rather than people. It keeps msmtp's field names where msmtp has the field
 * (host, socket, tls, auth, user, from, recipients, mailsize, smtpstatus,
 * smtpmsg, errormsg, exitcode) and the same rules for when they appear, and
 * adds what msmtp's line cannot say: per-recipient results, the enhanced
 * status code, the TLS version and cipher, the AUTH mechanism, the octets
 * sent and the time per phase. Text is not mangled: JSON escapes it.
 *
 * The keys always come in the order below; absent values are left out (never
 * null). "v" is the schema version: new keys may appear without a new version.
 */
import { exitCodeName, rawReplyLines, type LogRecord } from './log-record.js';

export const JSON_LOG_VERSION = 1;

export interface JsonLineOptions {
  /** When the line is written; "time" and "durationMs" come from it. The current time when absent. */
  readonly now?: Date;
  readonly exitCodeNames?: Readonly<Record<number, string>>;
}

/** The JSON object for one mail, as one line without the newline. */
export function formatJsonRecord(record: LogRecord, options: JsonLineOptions = {}): string {
  const now = options.now ?? new Date();
  const ok = record.exitStatus === 0;
  const out: Record<string, unknown> = {
    v: JSON_LOG_VERSION,
    time: isoTime(now),
    startedAt: isoTime(record.startedAt),
    durationMs: now.getTime() - record.startedAt.getTime(),
  };
  if (record.socket !== undefined) out['socket'] = record.socket;
  else out['host'] = record.host ?? '';
  out['tls'] = record.tls;
  put(out, 'tlsProtocol', record.tlsProtocol);
  put(out, 'tlsCipher', record.tlsCipher);
  out['auth'] = record.auth;
  if (record.auth && record.user !== undefined && record.user !== '') out['user'] = record.user;
  put(out, 'authMechanism', record.authMechanism);
  out['from'] = record.from;
  out['recipients'] = [...record.recipients];
  if (ok) put(out, 'mailsize', record.mailsize);
  put(out, 'octetsSent', record.octetsSent);
  if (record.reply) {
    out['smtpstatus'] = record.reply.code;
    put(out, 'enhanced', record.reply.enhanced);
    out['smtpmsg'] = rawReplyLines(record.reply);
  }
  if (!ok && record.errormsg !== undefined && record.errormsg !== '') out['errormsg'] = record.errormsg;
  // outbox's fail-over (issue 16), only when a mail fell over: the account described above, and those before it.
  put(out, 'account', record.account);
  if (record.failover && record.failover.length > 0) {
    out['failover'] = record.failover.map((f) => ({ account: f.account, errormsg: f.errormsg, ...(f.reply ? { smtpstatus: f.reply.code, smtpmsg: rawReplyLines(f.reply) } : {}) }));
  }
  if (record.queue) out['queue'] = { id: record.queue.id, event: record.queue.event };
  out['exitcode'] = exitCodeName(record.exitStatus, options.exitCodeNames);
  out['status'] = record.exitStatus;
  if (record.perRecipient) {
    out['perRecipient'] = record.perRecipient.map((r) => {
      const entry: Record<string, unknown> = { recipient: r.recipient, delivered: r.delivered };
      put(entry, 'code', r.code);
      put(entry, 'enhanced', r.enhanced);
      put(entry, 'text', r.text);
      return entry;
    });
  }
  if (record.phasesMs) out['phasesMs'] = { ...record.phasesMs };
  // JSON.stringify escapes control characters but not U+2028/U+2029, which some readers take for line ends.
  return JSON.stringify(out).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function isoTime(date: Date): string | null {
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
