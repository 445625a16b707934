/**
 * The product server's settings, as `outbox serve` (src/cli/serve.ts) builds
 * them and the listener (server.ts) and session core (session.ts) use them.
 * Types only: the CLI turns options into this, the server never reads argv.
 */
import type { SecureContext } from 'node:tls';
import type { ScramCredentials } from '../sasl/server.js';
import type { Backend, ServerProtocol } from './backend.js';

export interface ServerTls {
  /** The certificate and key (--tls-cert-file, --tls-key-file), loaded. */
  readonly context: SecureContext;
  /** TLS from the first byte (RFC 8314, a submissions port); otherwise STARTTLS is offered. */
  readonly implicit: boolean;
}

export interface ServerAuth {
  /** Checks a user and password (msmtpd's --auth=USER[,passwordeval]); never logs the password. */
  verify(user: string, password: string): Promise<boolean>;
  /**
   * The user's SCRAM-SHA-256 stored keys (RFC 5802 §3), undefined for an
   * unknown user. With it, EHLO offers SCRAM-SHA-256 before PLAIN and LOGIN.
   */
  scram?(user: string): Promise<ScramCredentials | undefined>;
}

/** What the server tells the log: one event per session start/end and per message. Never a password. */
export type ServerLogEvent =
  | { readonly type: 'listening'; readonly address: string; readonly port: number }
  | { readonly type: 'session'; readonly remoteAddress: string; readonly phase: 'start' | 'end' }
  | { readonly type: 'message'; readonly remoteAddress: string; readonly mailFrom: string; readonly recipients: readonly string[]; readonly size: number; readonly reply: string }
  | { readonly type: 'auth-failed'; readonly remoteAddress: string; readonly user: string }
  | { readonly type: 'error'; readonly remoteAddress: string; readonly message: string };

export interface ServerConfig {
  readonly protocol: ServerProtocol;
  /** Our name in the greeting, EHLO and Received. */
  readonly hostname: string;
  readonly backend: Backend;
  /** Largest message in octets; 0: no limit (advertised as bare SIZE). */
  readonly sizeLimit: number;
  readonly maxRecipients: number;
  /** Concurrent sessions; more are greeted with 421 (msmtpd's default is 16). */
  readonly maxSessions: number;
  readonly maxLineLength: number;
  /** A client that says nothing between commands for this long is told 421 and dropped. */
  readonly idleTimeoutMs: number;
  /** Between two chunks of message data. */
  readonly dataTimeoutMs: number;
  readonly tls?: ServerTls;
  /** With it, AUTH PLAIN and LOGIN are offered and MAIL needs a successful AUTH. */
  readonly auth?: ServerAuth;
  /** The listening address is loopback: AUTH with a readable password is allowed without TLS. */
  readonly loopback: boolean;
  /**
   * The longest wait for a backend's MAIL, RCPT, open, write, reset, logout
   * or abort hook and for `auth.verify`; then 451 4.3.0 (454 4.7.0 for
   * AUTH) and the session goes on. Default 60 s (server/deadline.ts).
   */
  readonly hookTimeoutMs?: number;
  /**
   * The longest wait for a message's commit, then 451 4.3.0; default 11
   * minutes, above the backends' own limits. `none` for a backend whose
   * every step is bounded already (the relay: RFC 5321's timeouts), where a
   * 451 while the delivery goes on would make the client send it again.
   */
  readonly commitTimeoutMs?: number | 'none';
  readonly onLog?: (event: ServerLogEvent) => void;
}

export const SERVER_DEFAULTS = {
  protocol: 'smtp',
  sizeLimit: 0,
  maxRecipients: 1000,
  maxSessions: 16,
  maxLineLength: 4096,
  idleTimeoutMs: 300_000,
  dataTimeoutMs: 600_000,
} as const;

/** A running server: where it listens and how to stop it (its sessions are ended, their messages aborted). */
export interface RunningServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
  /**
   * Optional (SIGTERM in `outbox serve`): stops accepting connections, lets
   * the open sessions end on their own for up to `graceMs`, then closes as
   * `close()` does.
   */
  drain?(graceMs: number): Promise<void>;
}
