/**
 * One transaction delivered per recipient, as an MTA does (the queue's
 * flush): recipients the server accepts get the mail, each refused one keeps
 * its reply, and the outcome comes back as data. Only a failure of the
 * session itself (a 421, a timeout, a broken connection) is thrown, because
 * then nothing more can be sent on it.
 *
 * Unlike the direct send (transaction.ts: nobody gets the mail if anyone is
 * refused) a small message with CHUNKING always goes as `BDAT n LAST` in the
 * envelope's group: delivering to the accepted recipients is the point.
 */
import { OutboxError, type ErrorCode } from '../errors.js';
import type { MessageSource } from '../message/header-reader.js';
import type { Command } from '../smtp/command.js';
import type { SmtpConnection } from '../smtp/connection.js';
import type { Reply } from '../smtp/reply.js';
import { sendChunks, smallMessage } from './bdat.js';
import { needsSevenBit, type EightBitPolicy } from './eightbit.js';
import type { Envelope, MessageFacts } from './envelope.js';
import { prepareEnvelope, type PreparedEnvelope } from './mail-parameters.js';
import { streamMessage } from './message-stream.js';
import type { Session } from './session.js';
import { envelopeCommands, type RecipientResult } from './transaction.js';

/** The next mail of the session, whose MAIL, RCPTs and DATA may go out with this mail's final dot. */
export interface Upcoming {
  readonly envelope: Envelope;
  readonly facts: MessageFacts;
  /** Its `eightbit` policy: a mail that must be converted (or refused) first never goes ahead. */
  readonly eightbitPolicy?: EightBitPolicy | undefined;
}

/** Commands of a mail already written (with the previous mail's final dot); their replies are still to be read. */
export interface SentAhead {
  readonly prepared: PreparedEnvelope;
  readonly commands: readonly Command[];
}

export interface PerRecipientOutcome {
  /** One result per recipient of the envelope, in its order. */
  readonly recipients: readonly RecipientResult[];
  /** MAIL was accepted but no message was completed: RSET before the next MAIL (RFC 5321 §4.1.1.5). */
  readonly needsReset: boolean;
  /** False when the connection cannot carry another transaction. */
  readonly usable: boolean;
  /** Octets of message data sent, 0 when none was. */
  readonly messageOctets: number;
  /** The upcoming mail's commands, when they went out with this mail's final dot. */
  readonly sentAhead?: SentAhead;
}

export interface TransactOptions {
  /** This mail's commands, already written with the previous mail's final dot. */
  readonly ahead?: SentAhead | undefined;
  /** The mail that follows on this session, if known: its commands may go out with this one's final dot. */
  readonly upcoming?: Upcoming | undefined;
}

export async function transactPerRecipient(session: Session, envelope: Envelope, message: MessageSource, facts: MessageFacts, options: TransactOptions = {}): Promise<PerRecipientOutcome> {
  let prepared: PreparedEnvelope;
  try {
    prepared = options.ahead?.prepared ?? prepareEnvelope(session.capabilities, envelope, facts, envelope.dsn);
  } catch (error) {
    // The server cannot take this mail at all (too big, SMTPUTF8 or DSN not offered): a refusal, not a session failure.
    if (!(error instanceof OutboxError) || error.transient) throw error;
    return refusedBeforeSending(envelope, error);
  }
  const { mail, rcpts } = envelopeCommands(prepared);
  const connection = session.connection;
  const pipelining = session.capabilities.has('PIPELINING');
  const chunking = session.capabilities.has('CHUNKING') && session.chunking;
  const whole = chunking && pipelining ? await smallMessage(message, facts) : undefined;
  const dataCommand: Command[] = !chunking ? [{ verb: 'DATA' }] : whole ? [{ verb: 'BDAT', size: whole.length, last: true }] : [];
  const replies = options.ahead
    ? await connection.readReplies(options.ahead.commands)
    : pipelining
      ? await connection.exchange([mail, ...rcpts, ...dataCommand], whole ? [whole] : [])
      : await oneByOne(connection, mail, rcpts, dataCommand);
  throwIfClosing(replies);
  const mailReply = replies[0]!;
  const rcptReplies = replies.slice(1, 1 + rcpts.length);
  const dataReply = replies[1 + rcpts.length];
  session.inData = dataReply?.code === 354 && !chunking;
  const accepted = rcptReplies.map((reply) => reply !== undefined && isPositive(reply));

  if (!isPositive(mailReply) || !accepted.includes(true)) {
    // Nobody to send to. A server that still said 354 gets an empty message ended at once.
    if (session.inData) await abandonData(session);
    const results = prepared.recipients.map((recipient, i) => ({ recipient, reply: isPositive(mailReply) ? rcptReplies[i] ?? mailReply : mailReply, delivered: false }));
    return { recipients: results, needsReset: isPositive(mailReply), usable: true, messageOctets: 0 };
  }
  const ahead = pipelining && !chunking ? commandsAhead(session, options.upcoming) : undefined;
  const data = await sendData(session, message, { chunking, pipelining, whole, dataReply, ahead }, accepted.filter(Boolean).length);
  let next = 0;
  const results = prepared.recipients.map((recipient, i): RecipientResult => {
    if (!accepted[i]) return { recipient, reply: rcptReplies[i]!, delivered: false };
    // One reply for all (SMTP, or a refused DATA), or one per accepted recipient in order (LMTP).
    const reply = data.replies[Math.min(next++, data.replies.length - 1)]!;
    return { recipient, reply, delivered: isPositive(reply) };
  });
  const sentAhead = data.aheadSent ? ahead : undefined;
  return { recipients: results, needsReset: data.open, usable: !data.broken, messageOctets: data.octets, ...(sentAhead ? { sentAhead } : {}) };
}

/**
 * The next mail's MAIL, RCPTs and DATA, to go with this mail's final dot
 * (RFC 2920 §3.1): one round trip per mail instead of two. Only its envelope
 * goes early: its data waits until this mail's reply has been read and
 * recorded, so a crash still repeats at most one delivery.
 */
function commandsAhead(session: Session, upcoming: Upcoming | undefined): SentAhead | undefined {
  if (!upcoming || needsSevenBit(session.capabilities, upcoming.facts, upcoming.eightbitPolicy)) return undefined;
  let prepared: PreparedEnvelope;
  try {
    prepared = prepareEnvelope(session.capabilities, upcoming.envelope, upcoming.facts, upcoming.envelope.dsn);
  } catch {
    return undefined; // refused before sending: it is dealt with when its turn comes
  }
  const { mail, rcpts } = envelopeCommands(prepared);
  return { prepared, commands: [mail, ...rcpts, { verb: 'DATA' }] };
}

interface DataPlan {
  readonly chunking: boolean;
  readonly pipelining: boolean;
  readonly whole: Buffer | undefined;
  readonly dataReply: Reply | undefined;
  /** Commands of the next mail to write with the final dot. */
  readonly ahead: SentAhead | undefined;
}

interface DataOutcome {
  readonly octets: number;
  /** The reply that decides the message: one, or in LMTP one per accepted recipient. */
  readonly replies: readonly Reply[];
  /** The transaction was not ended by the server's verdict on the data (a refused DATA or BDAT): RSET. */
  readonly open: boolean;
  /** Chunk replies may still be on their way: the connection cannot be trusted for another mail. */
  readonly broken?: boolean;
  /** The plan's `ahead` commands went out with the final dot. */
  readonly aheadSent?: boolean;
}

async function sendData(session: Session, message: MessageSource, plan: DataPlan, accepted: number): Promise<DataOutcome> {
  if (!plan.chunking) {
    if (plan.dataReply?.code !== 354) return { octets: 0, replies: [plan.dataReply!], open: true };
    const octets = await streamMessage(session.connection, message, plan.ahead?.commands ?? []);
    // With the next mail's DATA on its way, a 354 may come: only that mail's data may follow.
    session.inData = plan.ahead !== undefined;
    return { octets, replies: await readFinals(session, accepted, []), open: false, aheadSent: plan.ahead !== undefined };
  }
  let octets: number;
  let last: Reply;
  if (plan.whole) {
    octets = plan.whole.length;
    last = plan.dataReply!;
  } else {
    try {
      ({ octets, lastReply: last } = await sendChunks(session.connection, message, plan.pipelining));
    } catch (error) {
      if (!(error instanceof OutboxError) || error.code !== 'E_MESSAGE_REJECTED' || !error.reply) throw error;
      return { octets: 0, replies: [error.reply as Reply], open: true, broken: true };
    }
  }
  const replies = await readFinals(session, accepted, [last]);
  return { octets, replies, open: session.protocol === 'smtp' && !isPositive(last) };
}

/** SMTP: the one reply after the data. LMTP (RFC 2033 §4.2): one per accepted recipient, in RCPT order. */
async function readFinals(session: Session, accepted: number, read: Reply[]): Promise<Reply[]> {
  const count = session.protocol === 'lmtp' ? accepted : 1;
  const replies = [...read];
  while (replies.length < count) replies.push(await session.connection.readDataReply());
  throwIfClosing(replies);
  return replies;
}

/** Without PIPELINING: MAIL, then each RCPT even after a refusal, then DATA only when someone was accepted. */
async function oneByOne(connection: SmtpConnection, mail: Command, rcpts: readonly Command[], data: readonly Command[]): Promise<Reply[]> {
  const replies = [await connection.command(mail)];
  if (!isPositive(replies[0]!)) return replies;
  for (const rcpt of rcpts) {
    const reply = await connection.command(rcpt);
    replies.push(reply);
    if (reply.code === 421) return replies;
  }
  if (replies.slice(1).some(isPositive)) for (const command of data) replies.push(await connection.command(command));
  return replies;
}

/** After 354 with nobody to deliver to: the empty message, whose reply is read and ignored. */
async function abandonData(session: Session): Promise<void> {
  await session.connection.finishData([Buffer.from('.\r\n')], 0);
  session.inData = false;
  throwIfClosing([await session.connection.readDataReply()]);
}

/** 421: the server is closing the connection (RFC 5321 §3.8); this session can carry nothing more. */
function throwIfClosing(replies: readonly Reply[]): void {
  const closing = replies.find((reply) => reply.code === 421);
  if (closing) {
    throw new OutboxError('E_CONNECTION', `the server is closing the connection: ${closing.code} ${closing.lines.join(' ')}`, { transient: true, reply: closing });
  }
}

function isPositive(reply: Reply): boolean {
  return reply.code >= 200 && reply.code < 300;
}

/** A refusal outbox itself makes, worded as a server's so the queue and the bounce treat it alike. */
const LOCAL_STATUS: Partial<Record<ErrorCode, string>> = { E_SIZE_EXCEEDED: '5.3.4' };

function refusedBeforeSending(envelope: Envelope, error: OutboxError): PerRecipientOutcome {
  const reply: Reply = error.reply ? (error.reply as Reply) : { code: 554, enhanced: LOCAL_STATUS[error.code] ?? '5.3.3', lines: [`${LOCAL_STATUS[error.code] ?? '5.3.3'} ${error.message}`] };
  return { recipients: envelope.recipients.map((recipient) => ({ recipient, reply, delivered: false })), needsReset: false, usable: true, messageOctets: 0 };
}
