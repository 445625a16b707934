/**
 * A session that carries many transactions, for the queue's flush: opened
 * once (connect, greeting, EHLO, STARTTLS, AUTH), then one mail after
 * another, each delivered per recipient (per-recipient.ts) with its results
 * returned as data, RSET between two only when a transaction was left open,
 * and one way out, close(), which QUITs or drops as Session.close decides.
 */
import { describeReply, OutboxError } from '../errors.js';
import type { MessageSource } from '../message/header-reader.js';
import { authenticateWithRefresh, type AuthSetup } from './auth.js';
import { sevenBitFor, type EightBitOptions } from './eightbit.js';
import type { Envelope, MessageFacts } from './envelope.js';
import { transactPerRecipient, type SentAhead, type Upcoming } from './per-recipient.js';
import { openSession, type Session, type SessionOptions } from './session.js';
import type { RecipientResult } from './transaction.js';

/** A mail for the session: `key` names it (the queue's id) so commands sent ahead are matched to it. */
export interface SessionMail {
  readonly key: string;
  readonly envelope: Envelope;
  readonly message: MessageSource;
  readonly facts: MessageFacts;
  /** What to do with 8-bit data the server cannot take (eightbit.ts); absent: send it as it is. */
  readonly eightbit?: EightBitOptions;
}

export interface UpcomingMail extends Upcoming {
  readonly key: string;
}

export class MailSession {
  /** What ended the session's usefulness; Session.close() decides from it whether QUIT may still be sent. */
  private failure: unknown;
  private needsReset = false;
  /** The mail whose commands went out with the previous final dot, by its key. */
  private ahead: { readonly key: string; readonly sent: SentAhead } | undefined;

  private constructor(readonly session: Session) {}

  static async open(options: SessionOptions, auth?: AuthSetup): Promise<MailSession> {
    const session = await openSession(options);
    try {
      if (auth) await authenticateWithRefresh(session, auth);
    } catch (error) {
      await session.close(error);
      throw error;
    }
    return new MailSession(session);
  }

  /** Whether another transaction may start on this connection (after commands sent ahead: only that mail's). */
  get usable(): boolean {
    return this.failure === undefined && (!this.session.inData || this.ahead !== undefined);
  }

  /**
   * One mail, per recipient. Throws only when the session failed; it is then
   * no longer usable. `upcoming`, the mail that will be sent next, lets its
   * MAIL, RCPTs and DATA go out with this mail's final dot; the next call must
   * then be for that mail.
   */
  async send(mail: SessionMail, upcoming?: UpcomingMail): Promise<readonly RecipientResult[]> {
    if (!this.usable) throw new OutboxError('E_CONNECTION', 'this session can carry no more mail', { transient: true });
    try {
      const ahead = this.ahead;
      this.ahead = undefined;
      if (ahead && ahead.key !== mail.key) throw new OutboxError('E_PROTOCOL', `commands for another mail (${ahead.key}) are already on their way`);
      if (this.needsReset) await this.reset();
      const converted = await sevenBitOrRefusal(this.session, mail);
      if ('refused' in converted) return converted.refused;
      const outcome = await transactPerRecipient(this.session, mail.envelope, converted.message, converted.facts, { ahead: ahead?.sent, upcoming });
      if (outcome.sentAhead && upcoming) this.ahead = { key: upcoming.key, sent: outcome.sentAhead };
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

/**
 * The mail as this server can take it (eightbit.ts). A mail that may not or
 * cannot be made 7-bit is refused for every recipient with 5.6.3
 * ("conversion required but not supported", RFC 3463): a permanent failure
 * the queue bounces, not a failure of the session.
 */
async function sevenBitOrRefusal(session: Session, mail: SessionMail): Promise<{ message: MessageSource; facts: MessageFacts } | { refused: RecipientResult[] }> {
  try {
    const { message, facts } = await sevenBitFor(session.capabilities, mail.message, mail.facts, mail.eightbit);
    return { message, facts: facts! };
  } catch (error) {
    if (!(error instanceof OutboxError) || error.code !== 'E_CONVERSION') throw error;
    const reply = { code: 554, enhanced: '5.6.3', lines: [`5.6.3 ${error.message}`] };
    return { refused: mail.envelope.recipients.map((recipient) => ({ recipient, reply, delivered: false })) };
  }
}
