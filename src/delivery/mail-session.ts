/**
 * A session that carries many transactions, for the queue's flush: opened
 * once (connect, greeting, EHLO, STARTTLS, AUTH), then one mail after
 * another, each delivered per recipient (per-recipient.ts) with its results
 * returned as data, RSET between two only when a transaction was left open,
 * and one way out, close(), which QUITs or drops as Session.close decides.
 */
import { describeReply, OutboxError } from '../errors.js';
import type { MessageSource } from '../message/header-reader.js';
import { authenticate, prepareAuthentication, type AuthSetup } from './auth.js';
import type { Envelope, MessageFacts } from './envelope.js';
import { transactPerRecipient } from './per-recipient.js';
import { openSession, type Session, type SessionOptions } from './session.js';
import type { RecipientResult } from './transaction.js';

export class MailSession {
  /** What ended the session's usefulness; Session.close() decides from it whether QUIT may still be sent. */
  private failure: unknown;
  private needsReset = false;

  private constructor(readonly session: Session) {}

  static async open(options: SessionOptions, auth?: AuthSetup): Promise<MailSession> {
    const session = await openSession(options);
    try {
      if (auth) await authenticate(session, await prepareAuthentication(session, auth));
    } catch (error) {
      await session.close(error);
      throw error;
    }
    return new MailSession(session);
  }

  /** Whether another transaction may start on this connection. */
  get usable(): boolean {
    return this.failure === undefined && !this.session.inData;
  }

  /** One mail, per recipient. Throws only when the session failed; it is then no longer usable. */
  async send(envelope: Envelope, message: MessageSource, facts: MessageFacts): Promise<readonly RecipientResult[]> {
    if (!this.usable) throw new OutboxError('E_CONNECTION', 'this session can carry no more mail', { transient: true });
    try {
      if (this.needsReset) await this.reset();
      const outcome = await transactPerRecipient(this.session, envelope, message, facts);
      this.needsReset = outcome.needsReset;
      if (!outcome.usable) this.failure = new OutboxError('E_PROTOCOL', 'a chunk of the mail was refused while more were on their way', { transient: true });
      return outcome.recipients;
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }

  /** RSET, waiting for its reply (RFC 5321 §4.1.1.5); anything but 250 ends the session. */
  async reset(): Promise<void> {
    const reply = await this.session.connection.command({ verb: 'RSET' });
    if (reply.code !== 250) {
      throw new OutboxError(reply.code === 421 ? 'E_CONNECTION' : 'E_PROTOCOL', `the server refused RSET: ${describeReply(reply)}`, { transient: true, reply });
    }
    this.needsReset = false;
  }

  async close(): Promise<void> {
    await this.session.close(this.failure);
  }
}
