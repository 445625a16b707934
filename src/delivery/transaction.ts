/**
 * One mail transaction (RFC 5321 §3.3): MAIL, RCPT for each recipient, DATA,
 * the message, and the reply (or, in LMTP, one reply per recipient) after the
 * final dot. With PIPELINING, MAIL, every RCPT and DATA go out in one group
 * (RFC 2920 §3.1: DATA ends the group); without it, one command at a time.
 *
 * A refused recipient means nobody gets the mail, as in msmtp: a relay client
 * that silently delivers to some recipients leaves the caller no way to retry
 * correctly. Partial failure after the data (LMTP) is reported as data.
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import type { Command } from '../smtp/command.js';
import { describeCommand, type SmtpConnection } from '../smtp/connection.js';
import type { Reply } from '../smtp/reply.js';
import type { Session } from './session.js';
import type { Envelope, MessageFacts } from './envelope.js';
import { prepareEnvelope, type PreparedEnvelope } from './mail-parameters.js';
import type { MessageSource } from '../message/header-reader.js';
import { sendChunks, smallMessage } from './bdat.js';
import { streamMessage } from './message-stream.js';

export interface RecipientResult {
  readonly recipient: string;
  /** The reply to RCPT, or in LMTP the reply after the data. */
  readonly reply: Reply;
  readonly delivered: boolean;
}

export interface TransactionResult {
  /** The reply after the final dot (SMTP), or the last per-recipient reply (LMTP). */
  readonly finalReply: Reply;
  readonly recipients: readonly RecipientResult[];
  /** Octets of message data after line-ending normalisation, before dot-stuffing. */
  readonly messageOctets: number;
}

/** LMTP: some recipients got the mail and others did not. */
export class PartialDeliveryError extends OutboxError {
  readonly results: readonly RecipientResult[];

  constructor(results: readonly RecipientResult[]) {
    const refused = results.filter((r) => !r.delivered);
    const allTemporary = refused.every((r) => isTransientReply(r.reply));
    super('E_PARTIAL_DELIVERY', `delivery to ${refused.length} of ${results.length} recipients failed`, {
      transient: allTemporary,
      reply: refused[0]!.reply,
    });
    this.results = results;
  }
}

/**
 * A command that leads the pipelined envelope group (RFC 4954 §4: an AUTH
 * that completes in one round trip), and the check of its reply, which
 * throws when it failed.
 */
export interface LeadingCommand {
  readonly command: Command;
  /** Throws when the leading command failed; `after` are the replies to the commands that followed it. */
  check(reply: Reply, after: readonly Reply[]): void;
}

/**
 * Runs the transaction. With `facts` about the spooled message, the server is
 * told its size and 8-bit-ness, and a mail over its SIZE limit is refused
 * before MAIL (see mail-parameters.ts). A `leading` command goes in the same
 * group (the caller only passes one when the server offers PIPELINING).
 */
export async function runTransaction(
  session: Session,
  envelope: Envelope,
  message: MessageSource,
  facts?: MessageFacts,
  leading?: LeadingCommand,
): Promise<TransactionResult> {
  const connection = session.connection;
  const prepared = prepareEnvelope(session.capabilities, envelope, facts, envelope.dsn);
  const { mail, rcpts } = envelopeCommands(prepared);
  const pipelining = session.capabilities.has('PIPELINING');
  const chunking = session.capabilities.has('CHUNKING') && session.chunking;
  // A small message with CHUNKING goes whole as a BDAT that ends the group: MAIL, RCPTs and the
  // data in one write. It is LAST only with one recipient and no AUTH in the group: otherwise a
  // refusal must still mean nobody gets the mail, so the transaction is committed by a
  // "BDAT 0 LAST" once everything was accepted (and abandoned with RSET otherwise).
  const whole = chunking && pipelining ? await smallMessage(message, facts) : undefined;
  // A pipelined AUTH that fails must not let the mail through either.
  const commitLater = whole !== undefined && (rcpts.length > 1 || leading !== undefined);
  const dataCommands: Command[] = !chunking ? [{ verb: 'DATA' }] : whole ? [{ verb: 'BDAT', size: whole.length, last: !commitLater }] : [];
  const commands = [...(leading ? [leading.command] : []), mail, ...rcpts, ...dataCommands];
  const replies = pipelining
    ? await connection.exchange(commands, whole ? [whole] : [])
    : await exchangeOneByOne(connection, commands);
  // A 354 means the server now reads message data, whatever else failed.
  session.inData = !chunking && replies[commands.length - 1]?.code === 354;
  // The reply to a BDAT in the group is the message's, not the envelope's.
  const leadingReply = leading ? replies.shift()! : undefined;
  const wholeReply = whole ? replies.pop() : undefined;
  try {
    // A failed leading AUTH is the failure to report, whatever the envelope's replies say.
    if (leading) leading.check(leadingReply!, [...replies, ...(wholeReply ? [wholeReply] : [])]);
    checkEnvelopeReplies(commands.slice(leading ? 1 : 0, whole ? -1 : undefined), replies);
  } catch (error) {
    // Accepted recipients must not get a mail another recipient refused: the framed chunk is dropped.
    session.resetBeforeQuit = commitLater;
    throw error;
  }

  let messageOctets: number;
  let firstFinal: Reply | undefined;
  if (whole) {
    messageOctets = whole.length;
    firstFinal = commitLater ? await commitChunks(connection, wholeReply!) : wholeReply;
  } else if (chunking) {
    ({ octets: messageOctets, lastReply: firstFinal } = await sendChunks(connection, message, pipelining));
  } else {
    messageOctets = await streamMessage(connection, message);
    session.inData = false; // the final dot is out: commands may follow again
  }
  const recipients = await readDataReplies(session, prepared.recipients, firstFinal);
  const finalReply = recipients[recipients.length - 1]!.reply;
  if (session.protocol === 'lmtp' && recipients.some((r) => !r.delivered)) {
    throw new PartialDeliveryError(recipients);
  }
  return { finalReply, recipients, messageOctets };
}

/** MAIL and one RCPT per recipient, with the parameters decided for this server. */
export function envelopeCommands(prepared: PreparedEnvelope): { mail: Command; rcpts: Command[] } {
  const mail: Command = { verb: 'MAIL', reversePath: prepared.reversePath, ...(prepared.mailParams.length ? { params: prepared.mailParams } : {}) };
  const rcpts: Command[] = prepared.recipients.map((forwardPath, i) => {
    const params = prepared.rcptParams[i] ?? [];
    return { verb: 'RCPT', forwardPath, ...(params.length ? { params } : {}) };
  });
  return { mail, rcpts };
}

/** The chunk in the group was accepted (or not); "BDAT 0 LAST" ends the message and its reply is the message's. */
async function commitChunks(connection: SmtpConnection, chunkReply: Reply): Promise<Reply> {
  if (chunkReply.code !== 250) {
    throw new OutboxError('E_MESSAGE_REJECTED', `the server did not accept the mail (BDAT): ${describeReply(chunkReply)}`, {
      transient: isTransientReply(chunkReply),
      reply: chunkReply,
      command: 'BDAT',
    });
  }
  return connection.command({ verb: 'BDAT', size: 0, last: true });
}

/** Without PIPELINING: each command waits for its reply, and the first refusal ends the exchange. */
async function exchangeOneByOne(connection: SmtpConnection, commands: readonly Command[]): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const command of commands) {
    const reply = await connection.command(command);
    replies.push(reply);
    if (!accepted(command, reply)) break;
  }
  return replies;
}

function accepted(command: Command, reply: Reply): boolean {
  return command.verb === 'DATA' ? reply.code === 354 : reply.code >= 200 && reply.code < 300;
}

/** The first refusal in command order is the one reported (RFC 2920 §3.1: later replies may only echo it). */
function checkEnvelopeReplies(commands: readonly Command[], replies: readonly Reply[]): void {
  commands.forEach((command, i) => {
    const reply = replies[i];
    if (reply && !accepted(command, reply)) throw envelopeError(command, reply);
  });
}

function envelopeError(command: Command, reply: Reply): OutboxError {
  const recipient = command.verb === 'RCPT' ? command.forwardPath : undefined;
  const what = recipient !== undefined
    ? `recipient address ${recipient} not accepted by the server`
    : command.verb === 'MAIL'
      ? `envelope from address ${command.reversePath || '<>'} not accepted by the server`
      : 'the server did not accept the mail data (DATA)';
  return new OutboxError('E_ENVELOPE_REJECTED', `${what}: ${describeReply(reply)}`, {
    transient: isTransientReply(reply),
    reply,
    command: describeCommand(command),
    ...(recipient !== undefined ? { recipient } : {}),
  });
}

/**
 * SMTP: one reply for the message. LMTP (RFC 2033 §4.2): one per accepted
 * recipient, in RCPT order. `first` is the first of them when it was already
 * read (the reply to a BDAT LAST).
 */
async function readDataReplies(session: Session, recipients: readonly string[], first?: Reply): Promise<RecipientResult[]> {
  if (session.protocol === 'smtp') {
    const reply = first ?? await session.connection.readDataReply();
    if (reply.code !== 250) {
      throw new OutboxError('E_MESSAGE_REJECTED', `the server did not accept the mail: ${describeReply(reply)}`, {
        transient: isTransientReply(reply),
        reply,
        command: 'end of data',
      });
    }
    return recipients.map((recipient) => ({ recipient, reply, delivered: true }));
  }
  const results: RecipientResult[] = [];
  for (const [i, recipient] of recipients.entries()) {
    const reply = i === 0 && first ? first : await session.connection.readDataReply();
    results.push({ recipient, reply, delivered: reply.code === 250 });
  }
  return results;
}
