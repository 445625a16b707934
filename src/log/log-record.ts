/**
 * One mail's outcome, as the log sinks need it: the data behind msmtp's log
 * line (`msmtp_get_log_info()`), plus what the JSON format adds. The delivery
 * code fills it; `msmtp-line.ts` and `json-line.ts` render it. Everything here
 * is JSON-able except `startedAt`, which `json-line.ts` writes as ISO 8601.
 */

/** A server reply as the log shows it: the same shape as `Reply` in `src/smtp/reply.ts`. */
export interface LogReply {
  readonly code: number;
  /** The text of each line after the code and separator (the enhanced code, if any, still in it). */
  readonly lines: readonly string[];
  /** RFC 3463 enhanced status code of the reply, e.g. "2.0.0". */
  readonly enhanced?: string;
}

/** What became of one recipient (JSON format only). */
export interface RecipientResult {
  readonly recipient: string;
  /** The reply that decided it: the RCPT reply, or for LMTP the reply after the final dot. */
  readonly code?: number;
  readonly enhanced?: string;
  /** That reply's text, lines joined with "\n". */
  readonly text?: string;
  readonly delivered: boolean;
}

export interface LogRecord {
  /** `host=`; ignored when `socket` is set (msmtp logs `socket=` then). */
  readonly host?: string;
  /** `socket=`: the unix socket path, when the account uses one. */
  readonly socket?: string;
  /** `tls=on|off`: the account's `tls` setting (msmtp logs the setting, not what happened). */
  readonly tls: boolean;
  /** `auth=on|off`: the account's `auth` setting is anything but `off`. */
  readonly auth: boolean;
  /** `user=`: logged only when `auth` is on and the user name is not empty. */
  readonly user?: string;
  /** The envelope sender as sent in MAIL FROM (empty for `<>`). */
  readonly from: string;
  /** Every recipient after alias expansion, in order, delivered or not. */
  readonly recipients: readonly string[];
  /**
   * msmtp's mail size: the bytes of the mail after the header changes, each
   * line ending counted as 1, stuffed dots not counted. Logged only when
   * `exitStatus` is 0 (msmtp logs it on success only).
   */
  readonly mailsize?: number;
  /** The last reply the server sent, if any: `smtpstatus=` and `smtpmsg=`. */
  readonly reply?: LogReply;
  /** `errormsg=`: the error as printed on stderr; logged only when `exitStatus` is not 0. */
  readonly errormsg?: string;
  /** The sysexits status outbox exits with; logged by name (`exitcode=EX_…`). */
  readonly exitStatus: number;

  /* Beyond msmtp, for `logfile_format json`. */

  readonly perRecipient?: readonly RecipientResult[];
  /** As `TLSSocket.getProtocol()` says, e.g. "TLSv1.3". */
  readonly tlsProtocol?: string;
  /** The cipher's standard name, e.g. "TLS_AES_256_GCM_SHA384". */
  readonly tlsCipher?: string;
  /** The SASL mechanism used, when the client authenticated. */
  readonly authMechanism?: string;
  /** Octets of message data written to the socket (dot-stuffed, CRLF counted as 2). */
  readonly octetsSent?: number;
  /** Milliseconds spent in each phase, in the order they happened (connect, greeting, tls, auth, envelope, data, …). */
  readonly phasesMs?: Readonly<Record<string, number>>;
  /** When the attempt began. */
  readonly startedAt: Date;
  /** outbox's queue: which queued mail this line is about, and what became of it. */
  readonly queue?: QueueLogInfo;

  // --- outbox's own: fail-over (issue 16); only when the mail fell over from one account to another. ---
  /** `account=`: the account whose server the host/tls/auth/user fields describe (it delivered, or was tried last). */
  readonly account?: string;
  /** `failover=`: the accounts fallen over before it, in order, and why each failed. */
  readonly failover?: readonly FailoverEntry[];
}

/** One account of a fail-over chain that failed before the mail was accepted. */
export interface FailoverEntry {
  readonly account: string;
  /** The error as outbox reports it, without the server's reply (that is in `reply`). */
  readonly errormsg: string;
  readonly reply?: LogReply;
}

/** `queued` by a send, then per attempt of a flush `delivered`, `deferred` (retried later) or `failed` (given up). */
export type QueueEvent = 'queued' | 'delivered' | 'deferred' | 'failed';

export interface QueueLogInfo {
  readonly id: string;
  readonly event: QueueEvent;
}

/** sysexits.h names, as msmtp's `exitcode_to_string()` spells them. */
export const EXIT_CODE_NAMES: Readonly<Record<number, string>> = {
  0: 'EX_OK',
  64: 'EX_USAGE',
  65: 'EX_DATAERR',
  66: 'EX_NOINPUT',
  67: 'EX_NOUSER',
  68: 'EX_NOHOST',
  69: 'EX_UNAVAILABLE',
  70: 'EX_SOFTWARE',
  71: 'EX_OSERR',
  72: 'EX_OSFILE',
  73: 'EX_CANTCREAT',
  74: 'EX_IOERR',
  75: 'EX_TEMPFAIL',
  76: 'EX_PROTOCOL',
  77: 'EX_NOPERM',
  78: 'EX_CONFIG',
};

/** The name msmtp logs for an exit status; msmtp writes "BUG:UNKNOWN" for a status outside sysexits.h. */
export function exitCodeName(status: number, names: Readonly<Record<number, string>> = EXIT_CODE_NAMES): string {
  return names[status] ?? 'BUG:UNKNOWN';
}

/**
 * A reply's lines as the server sent them: "250-first", …, "250 last". The
 * reply parser keeps only the text, so an empty last line comes back as the
 * bare code, which is what RFC 5321 lets a server send.
 */
export function rawReplyLines(reply: LogReply): string[] {
  const lines = reply.lines.length > 0 ? reply.lines : [''];
  const last = lines.length - 1;
  return lines.map((text, i) => (i < last ? `${reply.code}-${text}` : text === '' ? `${reply.code}` : `${reply.code} ${text}`));
}
