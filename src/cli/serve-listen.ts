/**
 * Where `outbox serve` meets the listening side of src/server: the two calls
 * the protocol core provides, `startServer` (a listening socket) and
 * `serveStreams` (one session on given streams, for --inetd).
 *
 * stand-in until the protocol core lands: the bodies below run the existing
 * `Session` + `serveConnection` (as startCaptureServer does), without TLS or
 * AUTH, so the CLI and its tests work now. The lead swaps this module for
 * re-exports of src/server/listen.ts; the signatures are the core's.
 */
import { once } from 'node:events';
import { createServer, Socket, type AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { OutboxError } from '../errors.js';
import type { Backend, ConnectionInfo } from '../server/backend.js';
import { serveConnection } from '../server/connection.js';
import { formatReply } from '../server/reply.js';
import type { RunningServer, ServerConfig } from '../server/server-config.js';
import { Session, type SessionOptions } from '../server/session.js';

export type { RunningServer } from '../server/server-config.js';

function sessionOptions(config: ServerConfig): SessionOptions {
  // The old session core has no AUTH and no TLS: serving without them would
  // make --auth a silent open relay. Refuse until the protocol core lands.
  if (config.auth || config.tls) {
    throw new OutboxError('E_NOT_SUPPORTED', `${config.auth ? '--auth' : 'TLS'} needs the new protocol core, which this build does not have yet`);
  }
  return {
    protocol: config.protocol,
    hostname: config.hostname,
    sizeLimit: config.sizeLimit,
    maxRecipients: config.maxRecipients,
    maxLineLength: config.maxLineLength,
  };
}

/** stand-in: one `message` log event per committed message (the core logs these itself). */
function loggingBackend(config: ServerConfig): Backend {
  const log = config.onLog;
  if (!log) return config.backend;
  return {
    newSession(connection) {
      const session = config.backend.newSession(connection);
      return {
        ...session,
        open: async () => {
          const sink = await session.open();
          let size = 0;
          return {
            write: (bytes) => {
              size += bytes.length;
              return sink.write(bytes);
            },
            abort: () => sink.abort(),
            commit: async (envelope) => {
              const delivery = await sink.commit(envelope);
              const reply = delivery.kind === 'delivered' ? `250 ${delivery.id}` : delivery.kind === 'refused' ? `${delivery.reply.code} ${delivery.reply.text}` : delivery.replies.map((r) => r.code).join(',');
              log({ type: 'message', remoteAddress: connection.remoteAddress, mailFrom: envelope.mailFrom, recipients: envelope.recipients, size, reply });
              return delivery;
            },
          };
        },
      };
    },
  };
}

// stand-in until the protocol core lands
export async function startServer(config: ServerConfig, listen: { host: string; port: number }): Promise<RunningServer> {
  const options = sessionOptions(config);
  const backend = loggingBackend(config);
  const sockets = new Set<Socket>();
  const sessions = new Set<Promise<void>>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const remoteAddress = socket.remoteAddress ?? '';
    if (sessions.size >= config.maxSessions) {
      socket.on('error', () => socket.destroy());
      socket.end(formatReply(421, '4.3.2 Too many connections, try again later'));
      return;
    }
    const info: ConnectionInfo = {
      protocol: config.protocol,
      remoteAddress,
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    };
    config.onLog?.({ type: 'session', remoteAddress, phase: 'start' });
    const running = serveConnection(socket, new Session(options, backend, info), {
      idleTimeoutMs: config.idleTimeoutMs,
      onError: (error) => config.onLog?.({ type: 'error', remoteAddress, message: String(error) }),
    });
    sessions.add(running);
    void running.then(() => {
      sessions.delete(running);
      config.onLog?.({ type: 'session', remoteAddress, phase: 'end' });
    });
  });
  server.listen({ host: listen.host, port: listen.port });
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  const address = server.address() as AddressInfo;
  config.onLog?.({ type: 'listening', address: address.address, port: address.port });
  return {
    host: address.address,
    port: address.port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await Promise.all(sessions);
    },
    async drain(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(sessions), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await closed;
      await Promise.all(sessions);
    },
  };
}

// stand-in until the protocol core lands
export async function serveStreams(config: ServerConfig, input: Readable, output: Writable, info?: ConnectionInfo): Promise<void> {
  const session = new Session(sessionOptions(config), loggingBackend(config), info ?? { protocol: config.protocol, remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0 });
  const write = async (text: string): Promise<void> => {
    if (text !== '' && !output.write(text)) await once(output, 'drain');
  };
  try {
    await write(session.greeting());
    for await (const chunk of input) {
      await write(await session.receive(chunk as Buffer));
      if (session.closed) break;
    }
  } finally {
    await session.end();
    output.end();
  }
}
