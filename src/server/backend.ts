/**
 * What the server hands a conversation's mail to, in the spirit of go-smtp:
 * the Backend makes one BackendSession per connection; the session core
 * (session.ts) does the protocol and asks the backend session about MAIL,
 * each RCPT, the message (streamed into a MessageSink, never held whole),
 * RSET and the end of the connection. Each hook may answer with a reply; no
 * answer means the core's default (250). What a backend cannot do answers
 * with a reply that tells the truth: 4xx when trying again may work (a
 * command's exit 75, a relay's 4xx or no connection, a full disk), 5xx when
 * it will not.
 *
 * Backends: capture/maildir (a folder), command (msmtpd's pipe), queue (the
 * outbox queue, 250 only once durable), relay (sent on through an account),
 * and filter (a decorator that runs a program on the message first).
 */
import type { EsmtpParamMap } from '../smtp/syntax.js';
import type { ReplySpec } from '../smtp/reply-format.js';

export type ServerProtocol = 'smtp' | 'lmtp';

/** Who is on the other end, for the backend, the log and the Received field. */
export interface ConnectionInfo {
  readonly protocol: ServerProtocol;
  /** The client's address; '' when there is none (--inetd on a pipe). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The client's host name, when something looked it up (the server does no DNS); for Received. */
  readonly remoteHost?: string;
}

/** One accepted transaction, as the backend is given it at the end of the data. */
export interface Envelope {
  readonly protocol: ServerProtocol;
  /** The domain the client gave in EHLO, HELO or LHLO. */
  readonly helo: string;
  /** The reverse-path without brackets; "" for the null path. */
  readonly mailFrom: string;
  readonly mailParams: EsmtpParamMap;
  /** The recipients the message is delivered to, in RCPT order (only those RCPT accepted). */
  readonly recipients: readonly string[];
  /** The parameters of each recipient's RCPT, parallel to `recipients`. */
  readonly rcptParams: readonly EsmtpParamMap[];
  /** The session was over TLS (STARTTLS or implicit) when the data was sent. */
  readonly tls?: boolean;
  /** The user AUTH authenticated, if any. */
  readonly authenticatedUser?: string;
}

/**
 * The outcome of a message. SMTP gives the client one reply: `delivered`
 * is 250 with the id; `refused` is that reply; `per-recipient` is 250 when
 * every reply is 2xx, else the first failure. LMTP (RFC 2033 §4.2) gives one
 * reply per recipient of the envelope, in order: `delivered` is 250 for
 * each, `refused` the same reply for each, `per-recipient` each its own.
 */
export type Delivery =
  | { readonly kind: 'delivered'; readonly id: string }
  | { readonly kind: 'refused'; readonly reply: ReplySpec }
  | { readonly kind: 'per-recipient'; readonly replies: readonly ReplySpec[]; readonly id?: string };

export interface MessageSink {
  /** Appends message bytes (dot-stuffing removed, CRLF line endings); resolves when the backend can take more. */
  write(bytes: Buffer): Promise<void>;
  /** The message is complete: deliver it (or make it durable) and say how it went. A throw is a 451 local error. */
  commit(envelope: Envelope): Promise<Delivery>;
  /** Forget the message; safe to call more than once, or after commit. */
  abort(): Promise<void>;
}

export interface BackendSession {
  /** MAIL passed the core's syntax and size checks; a reply of 400 or more refuses it. */
  mail?(from: string, params: EsmtpParamMap): Promise<ReplySpec | undefined> | ReplySpec | undefined;
  /** RCPT passed the core's checks; a reply of 400 or more refuses this recipient. */
  rcpt?(to: string, params: EsmtpParamMap): Promise<ReplySpec | undefined> | ReplySpec | undefined;
  /** DATA (or the first BDAT) was accepted: where the message goes. A throw is a 451 local error. */
  open(): Promise<MessageSink>;
  /** RSET, a new EHLO, or the end of a transaction: forget it. */
  reset?(): Promise<void> | void;
  /** The connection is over. */
  logout?(): Promise<void> | void;
}

export interface Backend {
  newSession(connection: ConnectionInfo): BackendSession;
}

/** A reply a backend gives when it cannot deliver now; the text says why (never a secret). */
export function temporaryFailure(why: string): ReplySpec {
  return { code: 451, text: `4.3.0 ${why}` };
}

/** A reply a backend gives when the message will never be delivered this way. */
export function permanentFailure(why: string, code = 554): ReplySpec {
  return { code, text: `5.3.0 ${why}` };
}
