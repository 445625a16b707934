/**
 * A conversation with one server over a `Transport`: commands go out in
 * groups, replies come back in order. RFC 2920 pipelining is this FIFO of
 * expected replies, written once; without PIPELINING the same code runs with
 * groups of one.
 */
import { OutboxError } from '../errors.js';
import { serializeCommand, type Command } from './command.js';
import { DEFAULT_REPLY_LIMITS, ReplyParser, type Reply, type ReplyParserLimits } from './reply.js';
import type { Timeouts } from './timeouts.js';
import type { Transport } from '../transport.js';

export type TraceEvent =
  | { readonly kind: 'command'; readonly command: Command; readonly line: string }
  | { readonly kind: 'reply'; readonly reply: Reply }
  | { readonly kind: 'data'; readonly octets: number };

export interface ConnectionOptions {
  readonly timeouts: Timeouts;
  readonly limits?: ReplyParserLimits;
  /** Sees every command, reply and data block; `src/log/` turns it into the debug transcript. */
  readonly trace?: (event: TraceEvent) => void;
}

export class SmtpConnection {
  readonly transport: Transport;
  readonly timeouts: Timeouts;
  private readonly parser: ReplyParser;
  private readonly ready: Reply[] = [];
  private readonly trace: (event: TraceEvent) => void;

  constructor(transport: Transport, options: ConnectionOptions) {
    this.transport = transport;
    this.timeouts = options.timeouts;
    this.parser = new ReplyParser(options.limits ?? DEFAULT_REPLY_LIMITS);
    this.trace = options.trace ?? (() => {});
  }

  /** Reads the server's greeting (RFC 5321 §3.1). */
  readGreeting(): Promise<Reply> {
    return this.nextReply('the greeting', this.timeouts.greeting);
  }

  /**
   * Sends the commands in one write and returns their replies, in order.
   * `trailing` is data that follows the last command in the same write (the
   * chunk of a `BDAT … LAST` that ends a pipelined group, RFC 3030 §4.2).
   */
  async exchange(commands: readonly Command[], trailing: readonly Uint8Array[] = []): Promise<Reply[]> {
    if (commands.length === 0) return [];
    await this.writeGroup(commands, [], trailing);
    return this.readReplies(commands);
  }

  /**
   * Writes a group in one write without reading its replies: `leading` data
   * first (the last block of a message and its final dot, RFC 2920 §3.1: the
   * next transaction's commands may follow it), then the commands, then
   * `trailing` data (a BDAT chunk). The replies come later, through readReplies.
   */
  async writeGroup(commands: readonly Command[], leading: readonly Uint8Array[], trailing: readonly Uint8Array[] = []): Promise<void> {
    const lines = commands.map(serializeCommand);
    commands.forEach((command, i) => this.trace({ kind: 'command', command, line: lines[i]!.slice(0, -2) }));
    const what = leading.length > 0 ? 'the message data' : describeCommand(commands[0]!);
    await this.write([...leading, Buffer.from(lines.join(''), 'utf8'), ...trailing], leading.length > 0 ? this.timeouts.dataBlock : this.timeouts.command, what);
  }

  /** The replies to commands written earlier, in order, each with its command's timeout. */
  async readReplies(commands: readonly Command[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const command of commands) {
      replies.push(await this.nextReply(describeCommand(command), this.replyTimeout(command)));
    }
    return replies;
  }

  /** Sends one command and returns its reply. */
  async command(command: Command): Promise<Reply> {
    const [reply] = await this.exchange([command]);
    return reply!;
  }

  /** Sends commands, in one write, whose replies we do not wait for (RSET and QUIT once the outcome is known). */
  async send(...commands: Command[]): Promise<void> {
    const lines = commands.map(serializeCommand);
    commands.forEach((command, i) => this.trace({ kind: 'command', command, line: lines[i]!.slice(0, -2) }));
    await this.write([Buffer.from(lines.join(''), 'utf8')], this.timeouts.command, commands[0]!.verb);
  }

  /** Writes one block of message data (already dot-stuffed) as one write. */
  async writeData(chunks: readonly Uint8Array[]): Promise<void> {
    await this.write(chunks, this.timeouts.dataBlock, 'the message data');
  }

  /**
   * Writes the last block, which ends with the final ".", and notes the
   * message size in the trace. `next` are commands of the next transaction
   * sent in the same write (RFC 2920 §3.1); their replies follow the reply to
   * the data and are read with readReplies.
   */
  async finishData(chunks: readonly Uint8Array[], messageOctets: number, next: readonly Command[] = []): Promise<void> {
    this.trace({ kind: 'data', octets: messageOctets });
    if (next.length === 0) await this.writeData(chunks);
    else await this.writeGroup(next, chunks);
  }

  /** Writes one BDAT chunk, its command line and data in one write, without reading the reply. */
  async sendChunk(chunk: Uint8Array, last: boolean): Promise<void> {
    const command = { verb: 'BDAT', size: chunk.length, last } as const;
    const line = serializeCommand(command);
    this.trace({ kind: 'command', command, line: line.slice(0, -2) });
    await this.write([Buffer.from(line, 'latin1'), chunk], this.timeouts.dataBlock, 'BDAT');
  }

  /** Reads the reply to a BDAT chunk sent earlier. */
  readChunkReply(last: boolean): Promise<Reply> {
    return this.nextReply(last ? 'BDAT LAST' : 'BDAT', last ? this.timeouts.dataTermination : this.timeouts.dataBlock);
  }

  /** Reads the reply that ends the data (one per recipient in LMTP). */
  readDataReply(): Promise<Reply> {
    return this.nextReply('the end of the message data', this.timeouts.dataTermination);
  }

  /** True when the server sent more than it was asked for: a desynchronised or hostile peer. */
  get hasUnsolicitedInput(): boolean {
    return this.ready.length > 0 || this.parser.midReply;
  }

  private async nextReply(what: string, timeoutMs: number): Promise<Reply> {
    while (this.ready.length === 0) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.transport.read(timeoutMs);
      } catch (error) {
        throw withContext(error, `waiting for the reply to ${what}`, timeoutMs);
      }
      if (chunk === null) {
        throw new OutboxError('E_CONNECTION', `the server closed the connection while we waited for the reply to ${what}`, { transient: true });
      }
      this.ready.push(...this.parser.push(chunk));
    }
    const reply = this.ready.shift()!;
    this.trace({ kind: 'reply', reply });
    return reply;
  }

  private async write(chunks: readonly Uint8Array[], timeoutMs: number, what: string): Promise<void> {
    try {
      await this.transport.write(chunks, timeoutMs);
    } catch (error) {
      throw withContext(error, `sending ${what}`, timeoutMs);
    }
  }

  private replyTimeout(command: Command): number {
    switch (command.verb) {
      case 'MAIL': return this.timeouts.mail;
      case 'RCPT': return this.timeouts.rcpt;
      case 'DATA': return this.timeouts.dataInitiation;
      default: return this.timeouts.command;
    }
  }
}

/** How a command is named in messages: the verb, with the address for MAIL and RCPT. */
export function describeCommand(command: Command): string {
  switch (command.verb) {
    case 'AUTH': return `AUTH ${command.mechanism}`;
    case 'SASL': return 'the SASL response';
    case 'ETRN': return `ETRN ${command.node}`;
    case 'BDAT': return `BDAT ${command.size}${command.last ? ' LAST' : ''}`;
    case 'MAIL': return `MAIL FROM:<${command.reversePath}>`;
    case 'RCPT': return `RCPT TO:<${command.forwardPath}>`;
    default: return command.verb;
  }
}

function withContext(error: unknown, doing: string, timeoutMs: number): unknown {
  if (!(error instanceof OutboxError)) return error;
  if (error.code === 'E_TIMEOUT') {
    return new OutboxError('E_TIMEOUT', `timed out after ${formatSeconds(timeoutMs)} ${doing}`, { transient: true, cause: error });
  }
  if (error.code === 'E_CONNECTION') {
    return new OutboxError('E_CONNECTION', `${error.message} while ${doing}`, { transient: true, cause: error });
  }
  return error;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
