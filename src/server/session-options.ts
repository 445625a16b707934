/**
 * The session's settings and the transaction it builds, in a module of their
 * own so that session.ts and intake.ts can share them without a circle.
 */
import type { Sleep } from './auth.js';
import type { ServerProtocol } from './backend.js';
import { DEFAULT_MAX_LINE_LENGTH } from './command-reader.js';
import type { EsmtpParamMap } from '../smtp/syntax.js';
import type { ReplySpec } from '../smtp/reply-format.js';
import type { ServerAuth, ServerLogEvent } from './server-config.js';

export interface SessionOptions {
  readonly protocol: ServerProtocol;
  /** Our name in the greeting, in EHLO's reply and in the Received field. */
  readonly hostname: string;
  /** Largest message in octets; 0 means no limit (advertised as bare "SIZE"). */
  readonly sizeLimit: number;
  readonly maxRecipients: number;
  readonly maxLineLength: number;
  /** Test hook: a reply of 400 or more refuses the recipient at RCPT. */
  readonly refuseRecipient?: ((address: string) => ReplySpec | undefined) | undefined;
  /** Test hook (LMTP): a reply of 400 or more fails the recipient after the data. */
  readonly lmtpDeliveryReply?: ((address: string) => ReplySpec | undefined) | undefined;
  readonly onTranscript?: ((direction: 'C' | 'S', line: string) => void) | undefined;
  /** The product server's set: CHUNKING and DSN, and STARTTLS and AUTH when configured. */
  readonly full?: boolean | undefined;
  /** 'starttls': offer STARTTLS; 'implicit': the connection is TLS from its first byte. */
  readonly tls?: 'starttls' | 'implicit' | undefined;
  /** Offer AUTH (SCRAM-SHA-256 with stored keys, PLAIN, LOGIN) and want it before MAIL. */
  readonly auth?: ServerAuth | undefined;
  /** The server listens on loopback: AUTH is allowed without TLS. */
  readonly loopback?: boolean | undefined;
  /** Prepend a Received field to each message (RFC 5321 §4.4). */
  readonly received?: boolean | undefined;
  readonly maxErrors?: number | undefined;
  readonly maxJunkCommands?: number | undefined;
  /** The wait after a failed AUTH (tests pass a fake). */
  readonly sleep?: Sleep | undefined;
  /** The clock of the Received field (tests pass a fixed one). */
  readonly now?: (() => Date) | undefined;
  /** The longest wait for a backend hook or the password check (deadline.ts); default 60 s. */
  readonly hookTimeoutMs?: number | undefined;
  /** The longest wait for a message's commit; default 11 minutes, a backstop above the backends' own limits. */
  readonly commitTimeoutMs?: number | 'none' | undefined;
  readonly onLog?: ((event: ServerLogEvent) => void) | undefined;
}

export const SESSION_DEFAULTS = {
  protocol: 'smtp',
  sizeLimit: 0,
  maxRecipients: 1000,
  maxLineLength: DEFAULT_MAX_LINE_LENGTH,
} as const;

/** A mail transaction from MAIL on: the envelope so far. */
export interface Transaction {
  readonly mailFrom: string;
  readonly mailParams: EsmtpParamMap;
  readonly smtputf8: boolean;
  readonly recipients: string[];
  readonly rcptParams: EsmtpParamMap[];
}
