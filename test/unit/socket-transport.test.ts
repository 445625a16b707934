/**
 * The TCP transport over real loopback sockets: groups leave in one write,
 * a server that stops reading makes a write time out instead of hanging, and
 * connect/DNS failures carry the right meaning.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { connectTcp } from '../../src/net/connector.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function listen(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function failure(promise: Promise<unknown>): Promise<OutboxError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboxError);
  return error as OutboxError;
}

describe('connectTcp and SocketTransport', () => {
  it('writes the chunks of one call together and reads what the peer sends', async () => {
    let firstChunk!: (text: string) => void;
    const received = new Promise<string>((resolve) => (firstChunk = resolve));
    const port = await listen((socket) => {
      socket.once('data', (chunk) => firstChunk(chunk.toString()));
      socket.write('220 hello\r\n');
    });
    const transport = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(Buffer.from((await transport.read(2000))!).toString()).toBe('220 hello\r\n');
    await transport.write([Buffer.from('MAIL FROM:<a@b>\r\n'), Buffer.from('RCPT TO:<c@d>\r\n'), Buffer.from('DATA\r\n')], 2000);
    // cork/uncork: one writev, one segment on loopback, so the server's first read has all three.
    expect(await received).toBe('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n');
    transport.destroy();
  });

  it('a read waits at most its timeout', async () => {
    const port = await listen(() => {});
    const transport = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000 });
    const error = await failure(transport.read(100));
    expect(error).toMatchObject({ code: 'E_TIMEOUT', transient: true });
    transport.destroy();
  });

  it('a write to a peer that never reads times out instead of hanging', async () => {
    const port = await listen((socket) => socket.pause());
    const transport = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000 });
    const block = Buffer.alloc(1024 * 1024, 0x61);
    const error = await failure((async () => {
      for (let i = 0; i < 256; i++) await transport.write([block], 300);
    })());
    expect(error.code).toBe('E_TIMEOUT');
    transport.destroy();
  });

  it('end of stream reads as null; a reset is a transient connection error', async () => {
    const port = await listen((socket) => socket.end('221 bye\r\n'));
    const transport = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000 });
    expect(Buffer.from((await transport.read(2000))!).toString()).toBe('221 bye\r\n');
    expect(await transport.read(2000)).toBeNull();
    transport.destroy();

    // Depending on timing the reset arrives while connecting, as a read error or as
    // the end of the stream; never as data, and always as a transient failure.
    const resetPort = await listen((socket) => socket.resetAndDestroy());
    const outcome = await connectTcp({ host: '127.0.0.1', port: resetPort, timeoutMs: 2000 })
      .then((t) => t.read(2000).finally(() => t.destroy()))
      .then((v) => v, (e: unknown) => e);
    if (outcome !== null) expect(outcome).toMatchObject({ code: 'E_CONNECTION', transient: true });
  });

  it('maps DNS answers: no such name is permanent, a resolver failure is temporary', async () => {
    const notFound = await failure(connectTcp({ host: 'nowhere.test', port: 25, timeoutMs: 1000, resolve: () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })) }));
    expect(notFound).toMatchObject({ code: 'E_HOST_NOT_FOUND', transient: false });
    const again = await failure(connectTcp({ host: 'flaky.test', port: 25, timeoutMs: 1000, resolve: () => Promise.reject(Object.assign(new Error('x'), { code: 'EAI_AGAIN' })) }));
    expect(again).toMatchObject({ code: 'E_DNS_TEMPORARY', transient: true });
  });

  it('tries every address in turn', async () => {
    const port = await listen((socket) => socket.end('220 second address\r\n'));
    // 127.0.0.2 is loopback too, but nothing listens on this port there.
    const transport = await connectTcp({ host: 'two.test', port, timeoutMs: 2000, resolve: async () => [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }] });
    expect(Buffer.from((await transport.read(2000))!).toString()).toBe('220 second address\r\n');
    transport.destroy();
  });
});
