/**
 * Sending one mail, start to end: open a session, authenticate when asked,
 * run the transaction, close the session on the one way out, success or
 * failure.
 */
import type { MessageSource } from '../message/header-reader.js';
import type { TlsSessionInfo } from '../net/tls-policy.js';
import type { Reply } from '../smtp/reply.js';
import { authenticateWithRefresh, checkPipelinedAuthReply, prepareAuthentication, type AuthSetup } from './auth.js';
import { sevenBitFor, type EightBitOptions } from './eightbit.js';
import type { Envelope, MessageFacts } from './envelope.js';
import { openSession, type SessionOptions } from './session.js';
import { runTransaction, type TransactionResult } from './transaction.js';

export interface DeliveryRequest {
  readonly session: SessionOptions;
  /** Absent: no authentication (`auth off`). */
  readonly auth?: AuthSetup;
  readonly envelope: Envelope;
  readonly message: MessageSource;
  /** Size and 8-bit-ness of the message, when it was spooled before connecting. */
  readonly facts?: MessageFacts;
  /** What to do with 8-bit data the server cannot take (eightbit.ts); absent: send it as it is. */
  readonly eightbit?: EightBitOptions;
}

/** The transaction's result, and how the session went (for the JSON log). */
export interface DeliveryResult extends TransactionResult {
  readonly tls: TlsSessionInfo | undefined;
  readonly authMechanism: string | undefined;
  /** Milliseconds: opening the session (connect, greeting, EHLO, TLS), AUTH on its own, the transaction. */
  readonly phasesMs: { readonly session: number; readonly auth: number; readonly transaction: number };
}

/** Milliseconds on a monotonic clock; not `performance.now()`, whose first use loads perf_hooks (issue 17). */
function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function deliver(request: DeliveryRequest): Promise<DeliveryResult> {
  const started = now();
  const session = await openSession(request.session);
  const opened = now();
  let failure: unknown;
  try {
    let auth = request.auth ? await prepareAuthentication(session, request.auth) : undefined;
    // RFC 4954 §4: a one-round-trip AUTH may lead the pipelined envelope, saving a round trip.
    // Not with a token outbox can refresh: a refused one is retried on its own, before any MAIL is out.
    const refreshable = request.auth?.refreshSecret !== undefined;
    const pipelined = auth !== undefined && auth.oneRoundTrip && session.capabilities.has('PIPELINING') && !refreshable;
    if (auth && !pipelined) auth = await authenticateWithRefresh(session, request.auth!, auth);
    const authenticated = now();
    const leading = pipelined ? { command: auth!.command, check: (reply: Reply, after: readonly Reply[]) => checkPipelinedAuthReply(auth!, reply, after) } : undefined;
    // After AUTH, before MAIL: the capabilities are known and nothing of the mail is sent yet.
    const { message, facts } = await sevenBitFor(session.capabilities, request.message, request.facts, request.eightbit);
    const result = await runTransaction(session, request.envelope, message, facts, leading);
    const phasesMs = { session: opened - started, auth: authenticated - opened, transaction: now() - authenticated };
    return { ...result, tls: session.tls, authMechanism: auth?.sasl.mechanism, phasesMs };
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await session.close(failure);
  }
}
