/**
 * A backend that keeps messages in memory and records every hook call, for
 * the server's session tests. Hooks' replies are set per test.
 */
import type { Backend, BackendSession, ConnectionInfo, Envelope, MessageSink } from '../../src/server/backend.js';
import type { EsmtpParamMap } from '../../src/smtp/syntax.js';
import type { ReplySpec } from '../../src/smtp/reply-format.js';
import { Session, SESSION_DEFAULTS, type SessionOptions } from '../../src/server/session.js';

export interface Committed {
  readonly id: string;
  readonly envelope: Envelope;
  /** The bytes the sink got, as latin1 text. */
  readonly data: string;
}

export class MemoryBackend implements Backend {
  readonly committed: Committed[] = [];
  /** Every hook call in order: "mail a@b.test", "rcpt c@d.test", "open", "reset", "logout", "abort". */
  readonly calls: string[] = [];
  readonly connections: ConnectionInfo[] = [];
  mailReply: ((from: string, params: EsmtpParamMap) => ReplySpec | undefined) | undefined;
  rcptReply: ((to: string, params: EsmtpParamMap) => ReplySpec | undefined) | undefined;
  failOpen = false;

  newSession(connection: ConnectionInfo): BackendSession {
    this.connections.push(connection);
    return {
      mail: async (from, params) => {
        this.calls.push(`mail ${from}`);
        return this.mailReply?.(from, params);
      },
      rcpt: async (to, params) => {
        this.calls.push(`rcpt ${to}`);
        return this.rcptReply?.(to, params);
      },
      open: () => this.open(),
      reset: () => {
        this.calls.push('reset');
      },
      logout: () => {
        this.calls.push('logout');
      },
    };
  }

  private async open(): Promise<MessageSink> {
    this.calls.push('open');
    if (this.failOpen) throw new Error('disk full');
    const chunks: Buffer[] = [];
    return {
      write: async (bytes) => {
        chunks.push(Buffer.from(bytes));
      },
      commit: async (envelope) => {
        const id = `M${this.committed.length + 1}`;
        this.committed.push({ id, envelope, data: Buffer.concat(chunks).toString('latin1') });
        this.calls.push('commit');
        return { kind: 'delivered' as const, id };
      },
      abort: async () => {
        this.calls.push('abort');
      },
    };
  }
}

/** The product server's session options (full set, Received at a fixed time), as startServer makes them. */
export function productOptions(options: Partial<SessionOptions> = {}): SessionOptions {
  return {
    ...SESSION_DEFAULTS,
    hostname: 'mx.test',
    full: true,
    received: true,
    now: () => new Date(Date.UTC(2026, 11, 5, 6, 50, 0)),
    ...options,
  };
}

export function startSession(options: Partial<SessionOptions> = {}, connection?: ConnectionInfo) {
  const backend = new MemoryBackend();
  const session = new Session(productOptions(options), backend, connection);
  const say = (text: string | Buffer): Promise<string> =>
    session.receive(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  return { session, backend, say };
}

export const LOOPBACK_CLIENT: ConnectionInfo = {
  protocol: 'smtp',
  remoteAddress: '127.0.0.1',
  remotePort: 40000,
  localAddress: '127.0.0.1',
  localPort: 25,
};

/** The Received field's id is random; tests compare with it replaced. */
export function withoutReceivedId(data: string): string {
  return data.replace(/ id [0-9A-F]{12}/, ' id ID');
}
