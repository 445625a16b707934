/**
 * What a session says: each reply formatted once (smtp/reply-format.ts),
 * shown to the transcript, and kept until the connection writes the lot in
 * one write; and the two limits that make the session say goodbye (421)
 * to a client that only wastes the server's time (Postfix's hard error and
 * junk command limits):
 *
 * - after `maxErrors` (10) protocol errors: 500-504, 530, 535, 538, 555
 *   from the session itself, not a backend's refusal of a recipient;
 * - after `maxJunkCommands` (100) NOOP, RSET, VRFY, HELP or hello commands
 *   without an accepted MAIL in between (a client that sends mail, even
 *   mail that is then refused, is not idling).
 */
import { formatReply, formatSpec, replyLines, type ReplySpec } from '../smtp/reply-format.js';
import type { SessionOptions } from './session-options.js';

export const DEFAULT_MAX_ERRORS = 10;
export const DEFAULT_MAX_JUNK_COMMANDS = 100;

const PROTOCOL_ERRORS = new Set([500, 501, 502, 503, 504, 530, 535, 538, 555]);

export class SessionOutput {
  /** The session has said goodbye: write the output, then close. */
  closing = false;
  private errors = 0;
  private junk = 0;
  private output = '';

  constructor(private readonly options: Pick<SessionOptions, 'onTranscript' | 'maxErrors' | 'maxJunkCommands'>) {}

  /** A reply whose text the session wrote itself; a protocol error counts towards the limit. */
  reply(code: number, text: string | readonly string[]): void {
    this.emit(formatReply(code, text));
    this.countError(code);
  }

  /** A stated reply (a backend's, a hook's): an enhanced code is added where it lacks one. */
  replySpec(spec: ReplySpec): void {
    this.emit(formatSpec(spec));
  }

  countError(code: number): void {
    if (this.closing || !PROTOCOL_ERRORS.has(code)) return;
    if (++this.errors >= (this.options.maxErrors ?? DEFAULT_MAX_ERRORS)) {
      this.goodbye('4.7.0 Error: too many errors, closing connection');
    }
  }

  /** One more command that sends no mail; false (and 421) when it is one too many. */
  junkCommand(): boolean {
    if (++this.junk <= (this.options.maxJunkCommands ?? DEFAULT_MAX_JUNK_COMMANDS)) return true;
    this.goodbye('4.7.0 Error: too many commands without mail, closing connection');
    return false;
  }

  /** MAIL was accepted: the client is sending mail, not idling. */
  mailAccepted(): void {
    this.junk = 0;
  }

  goodbye(text: string): void {
    this.reply(421, text);
    this.closing = true;
  }

  /** Everything said since the last call, for one write. */
  take(): string {
    const output = this.output;
    this.output = '';
    return output;
  }

  private emit(formatted: string): void {
    const onTranscript = this.options.onTranscript;
    if (onTranscript) for (const line of replyLines(formatted)) onTranscript('S', line);
    this.output += formatted;
  }
}
