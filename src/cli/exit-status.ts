/**
 * The one table from failure to exit status (sysexits.h), as msmtp documents
 * them, with one deliberate difference: every temporary failure exits 75
 * (EX_TEMPFAIL) so that callers and queues retry. See docs/differences.md.
 * Error codes say what happened; the status each gets is decided here only.
 * The log names these statuses with EXIT_CODE_NAMES (src/log/log-record.ts).
 */
import { OutboxError, PartsFailedError, type ErrorCode } from '../errors.js';

export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOINPUT = 66;
export const EX_NOHOST = 68;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_IOERR = 74;
export const EX_TEMPFAIL = 75;
export const EX_PROTOCOL = 76;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

/** A status, or a rule for the few codes whose status depends on the reply. */
type StatusRule = number | ((error: OutboxError) => number);

const PERMANENT_STATUS: Readonly<Record<ErrorCode, StatusRule>> = {
  E_USAGE: EX_USAGE,
  E_CONFIG: EX_CONFIG,
  // msmtp's check_account-like "envelope-from address is missing".
  E_NO_ENVELOPE_FROM: EX_CONFIG,
  E_IO: EX_IOERR,
  E_BAD_DATA: EX_DATAERR,
  E_HOST_NOT_FOUND: EX_NOHOST,
  E_DNS_TEMPORARY: EX_TEMPFAIL,
  E_CONNECTION: EX_TEMPFAIL,
  E_TIMEOUT: EX_TEMPFAIL,
  E_GREETING: EX_PROTOCOL,
  E_HELLO_REJECTED: EX_PROTOCOL,
  E_PROTOCOL: EX_PROTOCOL,
  E_CAPABILITY: EX_UNAVAILABLE,
  // msmtp: "missing user or password" is SMTP_EUNAVAIL.
  E_NO_CREDENTIALS: EX_UNAVAILABLE,
  // msmtp: a method or TLS support not compiled in.
  E_NOT_SUPPORTED: EX_UNAVAILABLE,
  // msmtp: NET_EPROXY.
  E_PROXY_FAILED: EX_UNAVAILABLE,
  E_NO_SERVER_FOUND: EX_UNAVAILABLE,
  // msmtp: a STARTTLS reply that is not 220 is a protocol failure.
  E_STARTTLS_REFUSED: EX_PROTOCOL,
  E_ETRN_REFUSED: etrnStatus,
  E_AUTH_FAILED: EX_NOPERM,
  E_ENVELOPE_REJECTED: EX_DATAERR,
  E_SIZE_EXCEEDED: EX_DATAERR,
  E_MESSAGE_REJECTED: EX_UNAVAILABLE,
  E_PARTIAL_DELIVERY: EX_UNAVAILABLE,
  E_TLS_CERTIFICATE: EX_UNAVAILABLE,
  E_TLS_HANDSHAKE: EX_PROTOCOL,
  E_NOT_QUEUED: EX_NOINPUT,
  // Like a refused AUTH: the credentials are missing or no longer valid.
  E_OAUTH2_LOGIN: EX_NOPERM,
  // Local delivery (issue 15): a permanent MDA failure is "service unavailable", as a refused message is.
  E_MDA_FAILED: EX_UNAVAILABLE,
  E_MDA_ADDRESS: EX_DATAERR,
  // Parts (issues 15, 16): the status of the first part that failed for good (see cli/parts-report.ts).
  E_PARTS_FAILED: partsStatus,
  E_CONVERSION: EX_UNAVAILABLE,
};

/**
 * msmtp's smtp_etrn(): 500/501, a syntax error, is the request's fault (65);
 * any other refusal is a reply RFC 1985 does not allow (76). 458/459 are 4xx,
 * temporary, and never get here.
 */
function etrnStatus(error: OutboxError): number {
  const code = error.reply?.code;
  return code === 500 || code === 501 ? EX_DATAERR : EX_PROTOCOL;
}

/** The first permanently failed part's own status. */
function partsStatus(error: OutboxError): number {
  return (error instanceof PartsFailedError ? error.partStatus : undefined) ?? EX_UNAVAILABLE;
}

/** The exit status for a failure. Anything that is not an OutboxError is a bug in outbox: EX_SOFTWARE. */
export function exitStatusFor(error: unknown): number {
  if (!(error instanceof OutboxError)) return EX_SOFTWARE;
  if (error.transient) return EX_TEMPFAIL;
  const rule = PERMANENT_STATUS[error.code];
  return typeof rule === 'number' ? rule : rule(error);
}
