/**
 * The one table from failure to exit status (sysexits.h), as msmtp documents
 * them, with one deliberate difference: every temporary failure exits 75
 * (EX_TEMPFAIL) so that callers and queues retry. See docs/differences.md.
 */
import { OutboxError, type ErrorCode } from '../errors.js';

export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOHOST = 68;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_IOERR = 74;
export const EX_TEMPFAIL = 75;
export const EX_PROTOCOL = 76;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

const PERMANENT_STATUS: Readonly<Record<ErrorCode, number>> = {
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
  E_AUTH_FAILED: EX_NOPERM,
  E_ENVELOPE_REJECTED: EX_DATAERR,
  E_SIZE_EXCEEDED: EX_DATAERR,
  E_MESSAGE_REJECTED: EX_UNAVAILABLE,
  E_PARTIAL_DELIVERY: EX_UNAVAILABLE,
  E_TLS_CERTIFICATE: EX_UNAVAILABLE,
  E_TLS_HANDSHAKE: EX_PROTOCOL,
};


/** The exit status for a failure. Anything that is not an OutboxError is a bug in outbox: EX_SOFTWARE. */
export function exitStatusFor(error: unknown): number {
  if (!(error instanceof OutboxError)) return EX_SOFTWARE;
  if (error.transient) return EX_TEMPFAIL;
  return PERMANENT_STATUS[error.code];
}
