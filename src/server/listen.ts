/**
 * The capture server: a listening socket whose sessions write each accepted
 * message to a folder (see capture.ts). `npm run demo` and the end-to-end
 * tests use it as the other end of the client; tests read back what arrived
 * with `messages()` / `waitForMessages()` and must `close()` it.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import type { ServerProtocol } from './backend.js';
import { CaptureBackend, readCapturedMessages, type CapturedMessage } from './capture.js';
import { serveConnection } from './connection.js';
import { formatReply, type ReplySpec } from './reply.js';
import { Session, SESSION_DEFAULTS, type SessionOptions } from './session.js';

export type { CapturedMessage } from './capture.js';
export type { ReplySpec } from './reply.js';

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
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  const connectionOptions = {
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    onError: options.onError,
  };
  const sockets = new Set<Socket>();
  const sessions = new Set<Promise<void>>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (sessions.size >= maxSessions) return refuseConnection(socket, options.onTranscript);
    const session = new Session(sessionOptions, backend);
    const running = serveConnection(socket, session, connectionOptions);
    sessions.add(running);
    void running.then(() => sessions.delete(running));
  });
  await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  const address = server.address() as AddressInfo;

  const messages = (): Promise<CapturedMessage[]> => readCapturedMessages(folder);
  return {
    host: address.address,
    port: address.port,
    folder,
    protocol: sessionOptions.protocol,
    messages,
    waitForMessages: (count, timeoutMs = DEFAULT_WAIT_MS) => waitFor(messages, wakers, count, timeoutMs, folder),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await Promise.all(sessions);
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** RFC 5321 §3.1: a server that cannot take the session now greets with 421 and closes. */
function refuseConnection(socket: Socket, onTranscript: CaptureServerOptions['onTranscript']): void {
  const text = '4.3.2 Too many connections, try again later';
  onTranscript?.('S', `421 ${text}`);
  socket.on('error', () => socket.destroy());
  socket.end(formatReply(421, text));
  socket.resume();
  setTimeout(() => socket.destroy(), 2000).unref();
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
