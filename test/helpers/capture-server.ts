/**
 * The capture server, the client's test oracle: a listening socket whose
 * sessions write each accepted message to a folder (capture-backend.ts), on
 * the product server's listener and session core (src/server) but with the
 * base set of extensions and no Received field, so the client's tests see
 * exactly the bytes the client sent. Tests read back what arrived with
 * `messages()` / `waitForMessages()` and must `close()` it. It lives with the
 * tests: the product (`outbox serve`) is proved against independent clients
 * (nodemailer, swaks, msmtp, Postfix: test/e2e/serve*.test.ts and
 * test/interop/), and the client against independent servers too
 * (smtp-server, Postfix, Dovecot), so neither is tested only against itself.
 * The session core writes its replies and reads paths and parameters with
 * src/smtp's vocabulary (reply-format.ts, syntax.ts), which the client uses
 * only for its parameter syntax, never to read replies: those two sides are
 * tied by a round-trip property test and by the independent servers above.
 */
import { mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import type { ServerProtocol } from '../../src/server/backend.js';
import { CaptureBackend, readCapturedMessages, type CapturedMessage } from './capture-backend.js';
import type { ReplySpec } from '../../src/smtp/reply-format.js';
import { listenForSessions } from '../../src/server/server.js';
import { SESSION_DEFAULTS, type SessionOptions } from '../../src/server/session.js';

export type { CapturedMessage } from './capture-backend.js';
export type { ReplySpec } from '../../src/smtp/reply-format.js';

export interface CaptureServerOptions {
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; default 0 (the system picks one, read it from `port`). */
  port?: number;
  folder: string;
  protocol?: ServerProtocol;
  /** Our name in the greeting; default the machine's host name. */
  hostname?: string;
  /** Largest message in octets; default 0, no limit. */
  sizeLimit?: number;
  /** Default 1000; further RCPTs get 452 (RFC 5321 §4.5.3.1.10). */
  maxRecipients?: number;
  /** Longest command line in octets without its line ending; default 4096. */
  maxLineLength?: number;
  /** Default 16; more connections are greeted with 421 and closed. */
  maxSessions?: number;
  /** Default 300 000 (5 minutes). */
  idleTimeoutMs?: number;
  refuseRecipient?: (address: string) => ReplySpec | undefined;
  lmtpDeliveryReply?: (address: string) => ReplySpec | undefined;
  onTranscript?: (direction: 'C' | 'S', line: string) => void;
  /** A fault in the server itself; the client has been told 421. */
  onError?: (error: unknown) => void;
}

export interface CaptureServer {
  readonly host: string;
  readonly port: number;
  readonly folder: string;
  readonly protocol: ServerProtocol;
  /** Every message captured so far (in the folder), oldest first. */
  messages(): Promise<CapturedMessage[]>;
  /** Resolves once at least `count` messages are in the folder; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<CapturedMessage[]>;
  /** Stops listening, drops every open connection, and waits for their sessions to end. */
  close(): Promise<void>;
}

const DEFAULT_MAX_SESSIONS = 16;
const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
const DEFAULT_WAIT_MS = 5000;
/** waitForMessages also polls the folder, for messages written by another process. */
const POLL_MS = 100;

export async function startCaptureServer(options: CaptureServerOptions): Promise<CaptureServer> {
  const folder = options.folder;
  await mkdir(folder, { recursive: true });
  const wakers = new Set<() => void>();
  const backend = new CaptureBackend(folder, () => wakers.forEach((wake) => wake()));
  const sessionOptions: SessionOptions = {
    protocol: options.protocol ?? SESSION_DEFAULTS.protocol,
    hostname: options.hostname ?? osHostname(),
    sizeLimit: options.sizeLimit ?? SESSION_DEFAULTS.sizeLimit,
    maxRecipients: options.maxRecipients ?? SESSION_DEFAULTS.maxRecipients,
    maxLineLength: options.maxLineLength ?? SESSION_DEFAULTS.maxLineLength,
    refuseRecipient: options.refuseRecipient,
    lmtpDeliveryReply: options.lmtpDeliveryReply,
    onTranscript: options.onTranscript,
  };
  const server = await listenForSessions(
    {
      backend,
      session: sessionOptions,
      connection: { idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, onError: options.onError },
      maxSessions: options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      onTranscript: options.onTranscript,
    },
    options.host ?? '127.0.0.1',
    options.port ?? 0,
  );

  const messages = (): Promise<CapturedMessage[]> => readCapturedMessages(folder);
  return {
    host: server.host,
    port: server.port,
    folder,
    protocol: sessionOptions.protocol,
    messages,
    waitForMessages: (count, timeoutMs = DEFAULT_WAIT_MS) => waitFor(messages, wakers, count, timeoutMs, folder),
    close: () => server.close(),
  };
}

async function waitFor(
  messages: () => Promise<CapturedMessage[]>,
  wakers: Set<() => void>,
  count: number,
  timeoutMs: number,
  folder: string,
): Promise<CapturedMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await messages();
    if (found.length >= count) return found;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(`expected ${count} message(s) in ${folder}, found ${found.length} after ${timeoutMs} ms`);
    }
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.min(left, POLL_MS));
      wakers.add(wake);
    });
  }
}
