/**
 * What a session hands accepted mail to. The capture backend writes it to a
 * folder; later backends relay it through an account or pipe it to a
 * command. A session opens a sink when it answers DATA with 354, streams the
 * message into it, and then either commits it with the final envelope or
 * aborts it (refused, too big, connection lost).
 */
import type { EsmtpParams } from './envelope-syntax.js';

export type ServerProtocol = 'smtp' | 'lmtp';

export interface Envelope {
  readonly protocol: ServerProtocol;
  /** The domain the client gave in EHLO, HELO or LHLO. */
  readonly helo: string;
  /** The reverse-path without brackets; "" for the null path. */
  readonly mailFrom: string;
  readonly mailParams: EsmtpParams;
  /** The recipients the message is delivered to, in RCPT order. */
  readonly recipients: readonly string[];
  /** The parameters of each recipient's RCPT, parallel to `recipients`. */
  readonly rcptParams: readonly EsmtpParams[];
}

export interface MessageSink {
  /** Appends message bytes; resolves when the backend can take more. */
  write(bytes: Buffer): Promise<void>;
  /** The message is complete: make it durable and return its id. */
  commit(envelope: Envelope): Promise<string>;
  /** Forget the message; safe to call more than once or after a failed commit. */
  abort(): Promise<void>;
}

export interface Backend {
  open(): Promise<MessageSink>;
}
