/**
 * msmtp's `socket PATH`: connecting to a unix-domain socket, which overrides
 * host, port, proxy and source address; failures are transient and name the
 * path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { connectTcp } from '../../src/net/connector.js';
import type { Transport } from '../../src/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'outbox-net-unix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const servers: Server[] = [];
const sockets: Socket[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  for (const transport of transports.splice(0)) transport.destroy();
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

let counter = 0;
/** A line server on a fresh socket path: "220 ready", then "250 <line>" for each line. */
async function listenUnix(): Promise<string> {
  const path = join(dir, `smtp-${counter++}.sock`);
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.write('220 ready\r\n');
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        socket.write(`250 ${buffered.slice(0, end)}\r\n`);
        buffered = buffered.slice(end + 2);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return path;
}

async function failure(promise: Promise<unknown>): Promise<OutboxError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboxError);
  return error as OutboxError;
}

async function readText(transport: Transport): Promise<string> {
  const chunk = await transport.read(2000);
  return chunk === null ? '<end>' : Buffer.from(chunk).toString('latin1');
}

const noDns = () => Promise.reject(new Error('host must not be resolved when a socket is given'));

describe('unix-domain sockets (socket)', () => {
  it('connects, exchanges lines, and the peer names the socket', async () => {
    const path = await listenUnix();
    const transport = await connectTcp({ host: 'ignored.test', port: 25, timeoutMs: 2000, socketPath: path, resolve: noDns });
    transports.push(transport);
    expect(transport.peer).toBe(`socket ${path}`);
    expect(transport.remoteAddress).toBeUndefined();
    expect(await readText(transport)).toBe('220 ready\r\n');
    await transport.write([Buffer.from('EHLO x\r\n')], 2000);
    expect(await readText(transport)).toBe('250 EHLO x\r\n');
  });

  it('overrides host, port, proxy and source address', async () => {
    const path = await listenUnix();
    const transport = await connectTcp({
      host: 'ignored.test', port: 1, timeoutMs: 2000, socketPath: path, resolve: noDns,
      proxy: { host: '127.0.0.1', port: 1 }, sourceAddress: '192.0.2.1',
    });
    transports.push(transport);
    expect(await readText(transport)).toBe('220 ready\r\n');
  });

  it('a missing socket: E_CONNECTION, transient, with the path', async () => {
    const path = join(dir, 'missing.sock');
    const error = await failure(connectTcp({ host: 'x', port: 25, timeoutMs: 2000, socketPath: path }));
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toBe(`cannot connect to ${path}: no such file or directory (is the server running?)`);
  });

  it('a file that is not a listening socket: connection refused, transient, with the path', async () => {
    const path = join(dir, 'stale.sock');
    writeFileSync(path, '');
    const error = await failure(connectTcp({ host: 'x', port: 25, timeoutMs: 2000, socketPath: path }));
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toBe(`cannot connect to ${path}: connection refused (nothing is listening on this socket)`);
  });

  it('a path longer than the kernel holds: E_CONFIG rather than a misleading "no such file"', async () => {
    const path = join(dir, 'x'.repeat(200));
    const error = await failure(connectTcp({ host: 'x', port: 25, timeoutMs: 2000, socketPath: path }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toMatch(/unix-domain socket paths hold at most 10\d$/);
  });
});
