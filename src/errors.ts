/**
 * One error type for the whole program. Every layer throws an `OutboxError`
 * with a stable `code`; only `src/cli/exit-status.ts` turns it into an exit
 * status. The `transient` flag is decided where the failure is understood (a
 * 4xx reply, a timeout, a dropped connection) and wins over the code: every
 * temporary failure exits 75 so callers and the queue retry.
 */

/** The shape of a server reply as errors carry it (see `src/smtp/reply.ts`). */
export interface ServerReply {
  readonly code: number;
  /** RFC 3463 enhanced status code, e.g. "5.1.1", when the server sent one. */
  readonly enhanced?: string;
  /** The text of each line, without the code and separator. */
  readonly lines: readonly string[];
}

export type ErrorCode =
  /** Bad command line. */
  | 'E_USAGE'
  /** A configuration error (file, value, account choice). */
  | 'E_CONFIG'
  /** No envelope-from address: none configured, or none in the mail for --read-envelope-from. */
  | 'E_NO_ENVELOPE_FROM'
  /** Reading the mail or another local file failed. */
  | 'E_IO'
  /** Data we were asked to send cannot be put on the wire (CR/LF in an address, over-long command). */
  | 'E_BAD_DATA'
  /** The host name does not exist. */
  | 'E_HOST_NOT_FOUND'
  /** DNS could not answer now. */
  | 'E_DNS_TEMPORARY'
  /** Connecting failed, or the connection was closed or reset mid-session. */
  | 'E_CONNECTION'
  /** A network wait ran out of time. */
  | 'E_TIMEOUT'
  /** The server's greeting was not 220. */
  | 'E_GREETING'
  /** EHLO and HELO (or LHLO) were refused. */
  | 'E_HELLO_REJECTED'
  /** The server sent something that is not SMTP, or out of sequence. */
  | 'E_PROTOCOL'
  /** The server refused our authentication (535 and the like). */
  | 'E_AUTH_FAILED'
  /** A capability we need is not offered. */
  | 'E_CAPABILITY'
  /** Authentication needs a user name, password, token or client certificate that is not configured. */
  | 'E_NO_CREDENTIALS'
  /** outbox does not implement what was asked (a mode, an authentication method). */
  | 'E_NOT_SUPPORTED'
  /** The SOCKS5 proxy refused to connect us, or does not speak SOCKS5. */
  | 'E_PROXY_FAILED'
  /** No submission server is published for the domain (--configure's SRV lookup). */
  | 'E_NO_SERVER_FOUND'
  /** The server refused STARTTLS. */
  | 'E_STARTTLS_REFUSED'
  /** The server refused ETRN (RFC 1985). */
  | 'E_ETRN_REFUSED'
  /** MAIL, RCPT or DATA was refused. */
  | 'E_ENVELOPE_REJECTED'
  /** The mail is larger than the server's declared SIZE limit. */
  | 'E_SIZE_EXCEEDED'
  /** The reply after the final dot was not 250. */
  | 'E_MESSAGE_REJECTED'
  /** LMTP: some recipients got the mail, others did not. */
  | 'E_PARTIAL_DELIVERY'
  /** The server's TLS certificate was refused: untrusted, expired, revoked, wrong name, fingerprint mismatch. */
  | 'E_TLS_CERTIFICATE'
  /** The TLS handshake failed: no common protocol version or cipher, a peer that does not speak TLS, an alert. */
  | 'E_TLS_HANDSHAKE'
  /** An 8-bit mail for a server without 8BITMIME that may not or cannot be made 7-bit (`eightbit refuse`, a signed part). */
  | 'E_CONVERSION'
  /** No queued mail has the id given (--queue-remove). */
  | 'E_NOT_QUEUED'
  /** OAuth2: no stored token, or the authorisation server refused ours (invalid_grant): `outbox oauth2 login` is needed. */
  | 'E_OAUTH2_LOGIN'
  /** Local delivery (issue 15): the MDA failed (its exit status, a signal, a write error of the built-in maildir/mbox). */
  | 'E_MDA_FAILED'
  /** Local delivery: an address that must not reach the MDA's command line (a leading -, a control character). */
  | 'E_MDA_ADDRESS'
  /** Several parts (local and remote, or several accounts) and not all were delivered; each part's result is reported. */
  | 'E_PARTS_FAILED';

export interface OutboxErrorOptions {
  transient?: boolean;
  reply?: ServerReply;
  /** The SMTP command (verb) whose reply failed, e.g. "RCPT". */
  command?: string;
  recipient?: string;
  cause?: unknown;
}

export class OutboxError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;
  readonly reply?: ServerReply;
  readonly command?: string;
  readonly recipient?: string;

  constructor(code: ErrorCode, message: string, options: OutboxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OutboxError';
    this.code = code;
    this.transient = options.transient ?? false;
    if (options.reply) this.reply = options.reply;
    if (options.command) this.command = options.command;
    if (options.recipient) this.recipient = options.recipient;
  }
}

/**
 * A mail of several parts (routes, local delivery) of which some were not
 * delivered: `partStatus` is the exit status of the first part that failed
 * for good; none means every failure was temporary (75).
 */
export class PartsFailedError extends OutboxError {
  constructor(message: string, readonly partStatus: number | undefined) {
    super('E_PARTS_FAILED', message, { transient: partStatus === undefined });
  }
}

/** A reply is transient when its code is 4xx (RFC 5321 §4.2.1). */
export function isTransientReply(reply: ServerReply): boolean {
  return reply.code >= 400 && reply.code < 500;
}

/** The server's reply as people read it: "550 5.1.1 no such user", lines joined. */
export function describeReply(reply: ServerReply): string {
  const prefix = String(reply.code);
  if (reply.lines.length === 0) return prefix;
  return reply.lines.map((line) => (line ? `${prefix} ${line}` : prefix)).join(' / ');
}

/** strerror(3)'s text for the errors a file or socket meets, as msmtp prints it. */
const STRERROR: Readonly<Record<string, string>> = {
  EACCES: 'Permission denied',
  EAGAIN: 'Resource temporarily unavailable',
  EBADF: 'Bad file descriptor',
  EBUSY: 'Device or resource busy',
  EDQUOT: 'Disk quota exceeded',
  EEXIST: 'File exists',
  EFBIG: 'File too large',
  EINVAL: 'Invalid argument',
  EIO: 'Input/output error',
  EISDIR: 'Is a directory',
  ELOOP: 'Too many levels of symbolic links',
  EMFILE: 'Too many open files',
  ENAMETOOLONG: 'File name too long',
  ENFILE: 'Too many open files in system',
  ENODEV: 'No such device',
  ENOENT: 'No such file or directory',
  ENOSPC: 'No space left on device',
  ENOTDIR: 'Not a directory',
  ENXIO: 'No such device or address',
  EPERM: 'Operation not permitted',
  EPIPE: 'Broken pipe',
  EROFS: 'Read-only file system',
  ETXTBSY: 'Text file busy',
};

/**
 * The C library's words for a system error (strerror(3)), as msmtp prints
 * them; an error without a known code keeps its own message. One table for
 * every layer that reports a file or socket error (configuration files,
 * aliases, the log file).
 */
export function strerror(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && Object.hasOwn(STRERROR, code)) return STRERROR[code]!;
  return error instanceof Error ? error.message : String(error);
}
