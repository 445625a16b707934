/**
 * Sending one mail, start to end: open a session, authenticate when asked,
 * run the transaction, close the session on the one way out, success or
 * failure.
 */
import type { MessageSource } from '../message/header-reader.js';
import type { Reply } from '../smtp/reply.js';
import { authenticate, checkPipelinedAuthReply, prepareAuthentication, type AuthSetup } from './auth.js';
import type { MessageFacts } from './mail-parameters.js';
import { openSession, type SessionOptions } from './session.js';
import { runTransaction, type Envelope, type TransactionResult } from './transaction.js';

export interface DeliveryRequest {
  readonly session: SessionOptions;
  /** Absent: no authentication (`auth off`). */
  readonly auth?: AuthSetup;
  readonly envelope: Envelope;
  readonly message: MessageSource;
  /** Size and 8-bit-ness of the message, when it was spooled before connecting. */
  readonly facts?: MessageFacts;
}

export async function deliver(request: DeliveryRequest): Promise<TransactionResult> {
  const session = await openSession(request.session);
  let failure: unknown;
  try {
    const auth = request.auth ? await prepareAuthentication(session, request.auth) : undefined;
    // RFC 4954 §4: a one-round-trip AUTH may lead the pipelined envelope, saving a round trip.
    if (auth && auth.oneRoundTrip && session.capabilities.has('PIPELINING')) {
      const leading = { command: auth.command, check: (reply: Reply, after: readonly Reply[]) => checkPipelinedAuthReply(auth, reply, after) };
      return await runTransaction(session, request.envelope, request.message, request.facts, leading);
    }
    if (auth) await authenticate(session, auth);
    return await runTransaction(session, request.envelope, request.message, request.facts);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await session.close(failure);
  }
}
