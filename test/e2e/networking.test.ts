/**
 * The ways of reaching the server, end to end with the built CLI: through a
 * SOCKS5 proxy (the name resolved by the proxy), over a unix socket, from a
 * chosen source address, and over IPv6 — all on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';
import { startSocksServer, type SocksServer } from '../helpers/socks-server.js';

const MAIL = 'Subject: net\n\nx\n';
let server: FakeServer | undefined;
let socks: SocksServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  await socks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = socks = dir = undefined;
});

async function ipv6Available(): Promise<boolean> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

describe('networking end to end', () => {
  it('through a SOCKS5 proxy, which resolves the host name (as for Tor)', async () => {
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    socks = await startSocksServer({ hosts: { 'smtp.hidden.test': '127.0.0.1' } });
    const result = await runOutbox(['--host=smtp.hidden.test', `--port=${server.port}`, '--proxy-host=127.0.0.1', `--proxy-port=${socks.port}`, '-f', 'a@example.com', 'b@example.net'], { input: MAIL });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(socks.requests[0]).toMatchObject({ addressType: 3, host: 'smtp.hidden.test', port: server.port });
    expect(server.messages).toHaveLength(1);
  });

  it('a SOCKS5 refusal is reported clearly (host unreachable: 75)', async () => {
    socks = await startSocksServer({ reply: 0x04 });
    const result = await runOutbox(['--host=smtp.hidden.test', '--port=25', '--proxy-host=127.0.0.1', `--proxy-port=${socks.port}`, '-f', 'a@example.com', 'b@example.net'], { input: MAIL });
    expect(result.status).toBe(75);
    expect(result.stderr).toMatch(/host unreachable/i);
  });

  it('over a unix socket, which overrides host and port', async () => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-unix-'));
    const path = join(dir, 'smtp.sock');
    server = await startFakeServer({ listen: { path }, reply: (line) => normalReply(line) });
    const result = await runOutbox([`--host=ignored.invalid`, `--socket=${path}`, '-f', 'a@example.com', 'b@example.net'], { input: MAIL });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server.messages).toHaveLength(1);
  });

  it('from a chosen source address (127.0.0.2)', async () => {
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '--source-ip=127.0.0.2', '-f', 'a@example.com', 'b@example.net'], { input: MAIL });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server.clients).toEqual(['127.0.0.2']);
  });

  it('over IPv6 to ::1', async (context) => {
    if (!(await ipv6Available())) context.skip('no IPv6 on this machine');
    server = await startFakeServer({ listen: { host: '::1' }, reply: (line) => normalReply(line) });
    const result = await runOutbox(['--host=::1', `--port=${server.port}`, '-f', 'a@example.com', 'b@example.net'], { input: MAIL });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server.clients).toEqual(['::1']);
  });
});
