/**
 * Which failures let a mail fall over to the next account of its chain
 * (`fallback_account`, issue 16): those that say the account cannot be
 * reached, or refuses us for now, before the mail was accepted by anyone.
 *
 * - Falls over: DNS (no such name, or no answer now), a connection refused,
 *   reset or timed out (also in the middle of a TLS handshake, which
 *   net/tls-errors.ts reports as a connection failure), and a 4xx (421
 *   included) to the greeting, EHLO/HELO/LHLO, STARTTLS or AUTH.
 * - Never: a 5xx anywhere (a permanent refusal is an answer, and another
 *   server would not make it right); a refused certificate or a failed TLS
 *   negotiation (security, not the network: falling over would let whoever
 *   forges a certificate or an alert choose our next server); STARTTLS or
 *   AUTH not offered; missing credentials; anything about the mail itself.
 * - Never once the envelope started (MAIL went out): from then on a 4xx or a
 *   dropped connection is the mail's temporary failure (exit 75, or the
 *   queue), since a recipient or the data may already have been accepted and
 *   a second server would deliver it twice. The one exception is a 4xx to an
 *   AUTH that led the pipelined envelope (RFC 4954 §4): the transaction then
 *   drops whatever the server accepted after it (transaction.ts), so nothing
 *   was delivered.
 */
import { OutboxError, type ErrorCode } from '../errors.js';
import type { TraceEvent } from '../smtp/connection.js';

/** When a failure of this kind falls over: always, only when temporary (4xx, network), or never. */
type Rule = 'always' | 'transient' | 'never';

/** Every error code has a rule, so a new code must be decided here before it compiles. */
const RULES: Readonly<Record<ErrorCode, Rule>> = {
  // Cannot be reached.
  E_HOST_NOT_FOUND: 'always',
  E_DNS_TEMPORARY: 'transient',
  E_CONNECTION: 'transient',
  E_TIMEOUT: 'transient',
  // Refuses us for now, before the mail.
  E_GREETING: 'transient',
  E_HELLO_REJECTED: 'transient',
  E_STARTTLS_REFUSED: 'transient',
  E_AUTH_FAILED: 'transient',
  // Security: no downgrade by whoever can forge a certificate or break a handshake.
  E_TLS_CERTIFICATE: 'never',
  E_TLS_HANDSHAKE: 'never',
  E_CAPABILITY: 'never',
  E_PROTOCOL: 'never',
  E_PROXY_FAILED: 'never',
  // Our own configuration or input: another server would fail the same way.
  E_USAGE: 'never',
  E_CONFIG: 'never',
  E_NO_ENVELOPE_FROM: 'never',
  E_IO: 'never',
  E_BAD_DATA: 'never',
  E_NO_CREDENTIALS: 'never',
  E_OAUTH2_LOGIN: 'never',
  E_NOT_SUPPORTED: 'never',
  // The mail's own fate.
  E_ENVELOPE_REJECTED: 'never',
  E_SIZE_EXCEEDED: 'never',
  E_MESSAGE_REJECTED: 'never',
  E_PARTIAL_DELIVERY: 'never',
  // Not sending at all.
  E_NO_SERVER_FOUND: 'never',
  E_ETRN_REFUSED: 'never',
  E_NOT_QUEUED: 'never',
  // Local delivery and parts (issue 15): not a server's answer, so no other account would do better.
  E_MDA_FAILED: 'never',
  E_MDA_ADDRESS: 'never',
  E_PARTS_FAILED: 'never',
  // 8-bit data the account will not convert or send (eightbit, a signed part): the mail's own fate.
  E_CONVERSION: 'never',
};

/** How far one attempt went: whether the envelope (MAIL) was written. */
export interface AttemptProgress {
  readonly envelopeStarted: boolean;
}

/** Whether the next account of the chain may be tried after this failure. */
export function fallsOver(error: unknown, progress: AttemptProgress): boolean {
  if (!(error instanceof OutboxError)) return false;
  const rule = RULES[error.code];
  if (rule === 'never' || (rule === 'transient' && !error.transient)) return false;
  return !progress.envelopeStarted || error.code === 'E_AUTH_FAILED';
}

/**
 * A trace hook that notes when MAIL is written, passing every event on to
 * `next` (the --debug transcript, when there is one).
 */
export function envelopeWatch(next?: (event: TraceEvent) => void): AttemptProgress & { readonly trace: (event: TraceEvent) => void } {
  let started = false;
  return {
    get envelopeStarted() {
      return started;
    },
    trace(event) {
      if (event.kind === 'command' && event.command.verb === 'MAIL') started = true;
      next?.(event);
    },
  };
}
