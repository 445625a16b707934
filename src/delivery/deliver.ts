/**
 * Sending one mail, start to end: open a session, run the transaction, close
 * the session on the one way out, success or failure.
 */
import type { MessageFacts } from './mail-parameters.js';
import type { MessageSource } from '../message/header-reader.js';
import { openSession, type SessionOptions } from './session.js';
import { runTransaction, type Envelope, type TransactionResult } from './transaction.js';

export interface DeliveryRequest {
  readonly session: SessionOptions;
  readonly envelope: Envelope;
  readonly message: MessageSource;
  /** Size and 8-bit-ness of the message, when it was spooled before connecting. */
  readonly facts?: MessageFacts;
}

export async function deliver(request: DeliveryRequest): Promise<TransactionResult> {
  const session = await openSession(request.session);
  let failure: unknown;
  try {
    return await runTransaction(session, request.envelope, request.message, request.facts);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await session.close(failure);
  }
}
