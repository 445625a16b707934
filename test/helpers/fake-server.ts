/**
 * A loopback SMTP server whose every reply a test chooses: for failure cases
 * (hangs, garbage, drops) that a correct server would never produce. Input is
 * read line by line, pipelined or not; after a 354 it reads data until the
 * final dot and then asks for the reply to ".".
 */
import { createServer, type Server, type Socket } from 'node:net';

/** A reply to send (CRLF added per line), or an action. */
export type FakeReply = string | string[] | { close: true } | { hang: true } | { stopReading: string } | { raw: string };

export interface FakeServerOptions {
  greeting?: FakeReply;
  /** Where to listen: 127.0.0.1 port 0 by default; another loopback host, or a unix socket path. */
  listen?: { host: string } | { path: string };
  /** The reply to a command line (without CRLF), or to "." at the end of the data. */
  reply(line: string, received: FakeServerLog): FakeReply;
  /** Called as each connection arrives, before the greeting: lets a test record what was true then. */
  onConnection?(): void;
}

export interface FakeServerLog {
  readonly commands: string[];
  /** The message data of each transaction as received (still dot-stuffed), without the final dot. */
  readonly messages: string[];
}

export interface FakeServer extends FakeServerLog {
  readonly port: number;
  /** The address each client connected from. */
  readonly clients: string[];
  close(): Promise<void>;
}

export async function startFakeServer(options: FakeServerOptions): Promise<FakeServer> {
  const log: FakeServerLog = { commands: [], messages: [] };
  const sockets = new Set<Socket>();
  const clients: string[] = [];
  const server: Server = createServer((socket) => {
    options.onConnection?.();
    sockets.add(socket);
    clients.push(socket.remoteAddress ?? 'unix');
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    serve(socket, options, log);
  });
  const where = options.listen ?? { host: '127.0.0.1' };
  await new Promise<void>((resolve) => ('path' in where ? server.listen(where.path, resolve) : server.listen(0, where.host, resolve)));
  const address = server.address();
  if (address === null) throw new Error('not listening');
  return {
    commands: log.commands,
    messages: log.messages,
    port: typeof address === 'string' ? 0 : address.port,
    clients,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

function serve(socket: Socket, options: FakeServerOptions, log: FakeServerLog): void {
  let buffer = '';
  let data: string | undefined;
  let silent = false;
  const send = (reply: FakeReply): void => {
    if (silent) return;
    if (typeof reply === 'string') socket.write(`${reply}\r\n`);
    else if (Array.isArray(reply)) socket.write(reply.map((l) => `${l}\r\n`).join(''));
    else if ('raw' in reply) socket.write(reply.raw);
    else if ('close' in reply) { silent = true; socket.end(); }
    else if ('stopReading' in reply) { socket.write(`${reply.stopReading}\r\n`); socket.pause(); }
    else silent = true; // hang: read on, answer nothing
  };
  send(options.greeting ?? '220 fake.example ESMTP');
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      if (data !== undefined) {
        const end = buffer.indexOf('\r\n.\r\n');
        const empty = data === '' && buffer.startsWith('.\r\n');
        if (end === -1 && !empty) return;
        const cut = empty ? 0 : end + 2;
        log.messages.push(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 3);
        data = undefined;
        send(options.reply('.', log));
        continue;
      }
      const lf = buffer.indexOf('\n');
      if (lf === -1) return;
      const line = buffer.slice(0, lf).replace(/\r$/, '');
      buffer = buffer.slice(lf + 1);
      log.commands.push(line);
      const reply = options.reply(line, log);
      send(reply);
      if (typeof reply === 'string' && reply.startsWith('354')) data = '';
    }
  });
}

/** The replies of a plain, well-behaved server; tests override what they need. */
export function normalReply(line: string, extensions: readonly string[] = ['PIPELINING']): FakeReply {
  const verb = line.slice(0, 4).toUpperCase();
  if (verb === 'EHLO' || verb === 'LHLO') {
    const lines = ['fake.example', ...extensions];
    return lines.map((l, i) => `250${i === lines.length - 1 ? ' ' : '-'}${l}`);
  }
  if (verb === 'HELO') return '250 fake.example';
  if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') return '250 2.0.0 ok';
  if (verb === 'DATA') return '354 go ahead';
  if (verb === 'QUIT') return '221 bye';
  if (line === '.') return '250 2.0.0 queued';
  return '500 5.5.1 unknown command';
}
