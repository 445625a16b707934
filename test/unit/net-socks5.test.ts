/**
 * SOCKS5 (RFC 1928) as msmtp's proxy_host/proxy_port use it: what is sent
 * (the host name unresolved, IP literals as such), replies parsed at every
 * split point, a line through the tunnel and back, TLS through it, and each
 * failure mapped to a clear message and the right exit status.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { OutboxError } from '../../src/errors.js';
import { connectTcp, createConnector, type ConnectOptions } from '../../src/net/connector.js';
import { tcpAttempt, type ConnectAttempt } from '../../src/net/happy-eyeballs.js';
import { encodeConnectRequest, encodeGreeting, parseConnectReply, SOCKS5_REPLIES } from '../../src/net/socks5.js';
import { connectTls } from '../../src/net/tls-connect.js';
import type { TlsPolicy } from '../../src/net/tls-policy.js';
import type { Transport } from '../../src/transport.js';
import { expectNoOpenHandles, greet, makeTestCertificates, startTlsServer, type LoopbackServer, type TestCertificates } from '../helpers/certs.js';
import { startSocksServer, type SocksServer, type SocksServerOptions } from '../helpers/socks-server.js';

async function ipv6Usable(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
const IPV6 = await ipv6Usable();
const IPV6_SKIP = IPV6 ? '' : ' (skipped: ::1 is not usable on this machine, IPv6 is disabled)';

const proxies: SocksServer[] = [];
const targets: Server[] = [];
const targetSockets: Socket[] = [];
const tlsServers: LoopbackServer[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const transport of transports.splice(0)) transport.destroy();
  for (const socket of targetSockets.splice(0)) socket.destroy();
  await Promise.all([
    ...proxies.splice(0).map((proxy) => proxy.close()),
    ...tlsServers.splice(0).map((server) => server.close()),
    ...targets.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  ]);
  await expectNoOpenHandles();
});

/** The SMTP server behind the proxy: "220 ready", then "250 ok <line>" for each line. */
async function target(host = '127.0.0.1'): Promise<number> {
  const server = createServer((socket) => {
    targetSockets.push(socket);
    greet(socket);
  });
  targets.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

async function proxy(options: SocksServerOptions = {}): Promise<SocksServer> {
  const server = await startSocksServer(options);
  proxies.push(server);
  return server;
}

const noDns = (host: string) => Promise.reject(Object.assign(new Error(`${host} must not be resolved here`), { code: 'EAI_FAIL' }));

function via(socks: SocksServer, host: string, port: number, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { host, port, timeoutMs: 2000, resolve: noDns, proxy: { host: '127.0.0.1', port: socks.port }, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<OutboxError> {
  const error = await promise.then((value) => {
    if (value && typeof value === 'object' && 'destroy' in value) (value as Transport).destroy();
    return undefined;
  }, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboxError);
  return error as OutboxError;
}

async function readText(transport: Transport): Promise<string> {
  const chunk = await transport.read(2000);
  return chunk === null ? '<end>' : Buffer.from(chunk).toString('latin1');
}

/** Greeting, one line out, its answer back. */
async function converse(transport: Transport): Promise<void> {
  transports.push(transport);
  expect(await readText(transport)).toBe('220 ready\r\n');
  await transport.write([Buffer.from('EHLO client.test\r\n')], 2000);
  expect(await readText(transport)).toBe('250 ok EHLO client.test\r\n');
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('SOCKS5 messages', () => {
  it('the greeting offers only "no authentication"', () => {
    expect(hex(encodeGreeting())).toBe('050100');
  });

  it.each([
    ['mail.example.org', 587, '05010003' + '10' + Buffer.from('mail.example.org').toString('hex') + '024b'],
    ['xn--bcher-kva.example', 25, '05010003' + '15' + Buffer.from('xn--bcher-kva.example').toString('hex') + '0019'],
    ['192.0.2.7', 465, '05010001' + 'c0000207' + '01d1'],
    ['::1', 25, '05010004' + '0'.repeat(30) + '01' + '0019'],
    ['2001:db8::25', 25, '05010004' + '20010db8' + '0'.repeat(20) + '0025' + '0019'],
    ['::ffff:192.0.2.1', 25, '05010004' + '0'.repeat(20) + 'ffff' + 'c0000201' + '0019'],
    ['fe80::1%eth0', 25, '05010004' + 'fe80' + '0'.repeat(24) + '0001' + '0019'],
  ])('CONNECT %s port %d', (host, port, expected) => {
    expect(hex(encodeConnectRequest({ host, port }))).toBe(expected);
  });

  it('a name of 255 bytes fits; 256 bytes is a clear E_CONFIG error; so is an empty name or a bad port', () => {
    const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    expect(longest).toHaveLength(255);
    expect(encodeConnectRequest({ host: longest, port: 25 })[4]).toBe(255);
    const tooLong = () => encodeConnectRequest({ host: `${longest}e`, port: 25 });
    expect(tooLong).toThrow(OutboxError);
    expect(tooLong).toThrow(/the name is 256 bytes long, SOCKS5 carries at most 255/);
    expect(() => encodeConnectRequest({ host: '', port: 25 })).toThrow(/empty host name/);
    expect(() => encodeConnectRequest({ host: 'a.test', port: 70000 })).toThrow(/not a port number/);
  });

  const replies: [string, string, { type: string; address: string; port: number }][] = [
    ['IPv4', '050000017f000001c350', { type: 'ipv4', address: '127.0.0.1', port: 50000 }],
    ['IPv6', '05000004' + '20010db8' + '0'.repeat(22) + '10' + '0019', { type: 'ipv6', address: '2001:db8::10', port: 25 }],
    ['IPv6 with zeros inside', '05000004' + '20010db8' + '0000000000010000' + '00000001' + '0019', { type: 'ipv6', address: '2001:db8::1:0:0:1', port: 25 }],
    ['domain', '05000003' + '0a' + Buffer.from('proxy.test').toString('hex') + '0438', { type: 'domain', address: 'proxy.test', port: 1080 }],
  ];
  it.each(replies)('a success reply with a BND.ADDR of type %s, split at every point, then followed by stream bytes', (_name, replyHex, bound) => {
    const reply = Buffer.from(replyHex, 'hex');
    for (let cut = 0; cut < reply.length; cut++) {
      expect(parseConnectReply(reply.subarray(0, cut)), `${cut} bytes`).toEqual({ kind: 'incomplete' });
    }
    const withStream = Buffer.concat([reply, Buffer.from('220 hi\r\n')]);
    expect(parseConnectReply(withStream)).toEqual({ kind: 'succeeded', bound, length: reply.length });
  });

  it('a refusal is known from its first two bytes; a wrong version or address type is invalid', () => {
    expect(parseConnectReply(Buffer.from('0505', 'hex'))).toEqual({ kind: 'failed', code: 5 });
    expect(parseConnectReply(Buffer.from('04', 'hex'))).toMatchObject({ kind: 'invalid' });
    expect(parseConnectReply(Buffer.from('05000009', 'hex'))).toEqual({ kind: 'invalid', reason: 'its reply to CONNECT has an unknown address type 0x09' });
  });
});

describe('connecting through a SOCKS5 proxy', () => {
  it('sends the host name unresolved (ATYP 3); a line goes through and its answer comes back', async () => {
    const port = await target();
    const socks = await proxy({ hosts: { 'mail.test': '127.0.0.1' } });
    const transport = await connectTcp(via(socks, 'mail.test', port));
    await converse(transport);
    expect(socks.requests).toEqual([{ methods: [0], command: 1, addressType: 3, host: 'mail.test', port, clientAddress: '127.0.0.1' }]);
    expect(transport.peer).toBe(`mail.test port ${port} via SOCKS5 proxy 127.0.0.1 (127.0.0.1) port ${socks.port}`);
    // The socket's peer is the proxy; the server's address is unknown to us.
    expect(transport.remoteAddress).toBeUndefined();
  });

  it('an IPv4 literal goes as ATYP 1', async () => {
    const port = await target();
    const socks = await proxy();
    await converse(await connectTcp(via(socks, '127.0.0.1', port)));
    expect(socks.requests[0]).toMatchObject({ addressType: 1, host: '127.0.0.1', port });
  });

  it('bytes the proxy sends right behind its reply belong to the SMTP stream and are not lost', async () => {
    const port = await target();
    const socks = await proxy({ hosts: { 'mail.test': '127.0.0.1' }, coalesce: true });
    await converse(await connectTcp(via(socks, 'mail.test', port)));
  });

  it('replies that arrive a byte at a time, with BND.ADDR as IPv6 or as a name', async () => {
    const port = await target();
    for (const bound of ['ipv4', 'ipv6', 'domain'] as const) {
      const socks = await proxy({ hosts: { 'mail.test': '127.0.0.1' }, dribble: true, bound });
      await converse(await connectTcp(via(socks, 'mail.test', port)));
    }
  });

  it("the proxy's own name is resolved and raced (Happy Eyeballs); the target's is not", async () => {
    const port = await target();
    const socks = await proxy({ hosts: { 'mail.test': '127.0.0.1' } });
    const looked: string[] = [];
    const started: string[] = [];
    const attempt: ConnectAttempt = (t, signal) => {
      started.push(t.address);
      return tcpAttempt(t, signal);
    };
    const transport = await createConnector({ attempt })({
      host: 'mail.test', port, timeoutMs: 2000, proxy: { host: 'proxy.test', port: socks.port },
      resolve: async (name) => {
        looked.push(name);
        return [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }];
      },
    });
    await converse(transport);
    expect(looked).toEqual(['proxy.test']);
    expect(started).toEqual(['127.0.0.2', '127.0.0.1']); // nothing listens on 127.0.0.2: refused, next one at once
    expect(transport.peer).toBe(`mail.test port ${port} via SOCKS5 proxy proxy.test (127.0.0.1) port ${socks.port}`);
  });

  it('the source address binds the connection to the proxy', async () => {
    const port = await target();
    const socks = await proxy({ hosts: { 'mail.test': '127.0.0.1' } });
    await converse(await connectTcp(via(socks, 'mail.test', port, { sourceAddress: '127.0.0.2' })));
    expect(socks.requests[0]?.clientAddress).toBe('127.0.0.2');
  });

  describe('TLS through the tunnel', () => {
    let certs: TestCertificates;
    beforeAll(() => { certs = makeTestCertificates(); });
    afterAll(() => certs.cleanup());

    it('implicit TLS to the target, verified against its name, over the SOCKS5 socket', async () => {
      const server = await startTlsServer({ key: certs.server.key, cert: certs.server.cert });
      tlsServers.push(server);
      const socks = await proxy({ hosts: { localhost: '127.0.0.1' } });
      const policy: TlsPolicy = {
        mode: 'tls', trustFile: certs.caFile, crlFile: null, fingerprint: null, certcheck: true, hostOverride: null,
        certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: null,
      };
      const { transport, info } = await connectTls(via(socks, 'localhost', server.port), policy);
      transports.push(transport);
      expect(info.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(await readText(transport)).toBe('220 ready\r\n');
      expect(socks.requests[0]).toMatchObject({ addressType: 3, host: 'localhost', port: server.port });
    });
  });

  describe.skipIf(!IPV6)(`IPv6${IPV6_SKIP}`, () => {
    it('an IPv6 literal target, with or without brackets, goes as ATYP 4', async () => {
      const port = await target('::1');
      const socks = await proxy();
      await converse(await connectTcp(via(socks, '[::1]', port)));
      await converse(await connectTcp(via(socks, '::1', port)));
      expect(socks.requests.map((r) => [r.addressType, r.host])).toEqual([[4, '::1'], [4, '::1']]);
    });
  });
});

describe('SOCKS5 failures', () => {
  const cases = Object.entries(SOCKS5_REPLIES).map(([code, { text, transient }]) => [Number(code), text, transient] as const);
  it.each(cases)('reply 0x0%i (%s): transient %s', async (code, text, transient) => {
    const socks = await proxy({ reply: code });
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: transient ? 'E_CONNECTION' : 'E_PROXY_FAILED', transient });
    expect(error.message).toBe(`SOCKS5 proxy 127.0.0.1 port ${socks.port}: cannot connect to mail.test port 25: ${text} (SOCKS5 reply 0x0${code})`);
    expect(exitStatusFor(error)).toBe(transient ? 75 : 69);
  });

  it('the RFC 1928 table: 01, 03, 04, 05, 06 temporary; 02, 07, 08 permanent', () => {
    expect(cases.map(([code, , transient]) => [code, transient])).toEqual([
      [1, true], [2, false], [3, true], [4, true], [5, true], [6, true], [7, false], [8, false],
    ]);
  });

  it('an unassigned reply code is permanent (69)', async () => {
    const socks = await proxy({ reply: 0x09 });
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: 'E_PROXY_FAILED', transient: false });
    expect(error.message).toContain('unassigned reply code (SOCKS5 reply 0x09)');
  });

  it('the target refusing the relayed connection comes back as reply 0x05: 75', async () => {
    const port = await target();
    const server = targets.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const socks = await proxy({ hosts: { 'mail.test': '127.0.0.1' } });
    const error = await failure(connectTcp(via(socks, 'mail.test', port)));
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toContain('connection refused (SOCKS5 reply 0x05)');
  });

  it('a proxy that accepts none of our authentication methods (0xFF): 69', async () => {
    const socks = await proxy({ method: 0xff });
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: 'E_PROXY_FAILED', transient: false });
    expect(error.message).toBe(`SOCKS5 proxy 127.0.0.1 port ${socks.port}: accepts none of our authentication methods (we offer only "no authentication", method 0x00)`);
    expect(exitStatusFor(error)).toBe(69);
  });

  it('a proxy that picks a method we did not offer: 69', async () => {
    const socks = await proxy({ method: 0x02 });
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: 'E_PROXY_FAILED', transient: false });
    expect(error.message).toContain('chose authentication method 0x02, which we did not offer');
  });

  it('not a SOCKS5 proxy at all (an SMTP server there): 69, saying what it sent', async () => {
    const socks = await proxy({ banner: Buffer.from('220 mail.test ESMTP\r\n') });
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: 'E_PROXY_FAILED', transient: false });
    expect(error.message).toContain('does not speak SOCKS5: its answer to our greeting starts with 0x32 0x32 0x30');
    expect(error.message).toContain('"220 mail.test ESMTP"; is proxy_host/proxy_port a SOCKS5 proxy?');
  });

  it('the proxy unreachable: 75, naming the proxy', async () => {
    const socks = await proxy();
    const port = socks.port;
    await proxies.pop()!.close();
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toBe(`cannot connect to SOCKS5 proxy 127.0.0.1 port ${port}: connection refused`);
    expect(exitStatusFor(error)).toBe(75);
  });

  it("the proxy's name not found: 68, naming the proxy host", async () => {
    const error = await failure(connectTcp({
      host: 'mail.test', port: 25, timeoutMs: 2000, proxy: { host: 'noproxy.test', port: 1080 },
      resolve: () => Promise.reject(Object.assign(new Error('x'), { code: 'ENOTFOUND' })),
    }));
    expect(error).toMatchObject({ code: 'E_HOST_NOT_FOUND', message: 'cannot locate proxy host noproxy.test: name or service not known' });
  });

  it('a proxy that never answers CONNECT: E_TIMEOUT when the connect timeout runs out', async () => {
    let asked!: () => void;
    const connectSent = new Promise<void>((resolve) => (asked = resolve));
    const socks = await proxy({ silentAfterGreeting: true, onRequest: () => asked() });
    // A fake clock (setTimeout and Date): the sockets run as usual, time moves only when told.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const tick = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms);
      await new Promise((resolve) => setImmediate(resolve));
    };
    let settled = false;
    const pending = failure(connectTcp(via(socks, 'mail.test', 25, { timeoutMs: 300 }))).finally(() => (settled = true));
    await connectSent;
    await tick(299);
    expect(settled).toBe(false);
    await tick(1);
    expect(settled).toBe(true);
    const error = await pending;
    expect(error).toMatchObject({ code: 'E_TIMEOUT', transient: true });
    expect(error.message).toMatch(new RegExp(`^SOCKS5 proxy 127\\.0\\.0\\.1 port ${socks.port}: no reply to CONNECT mail\\.test port 25 within 0\\.3 s$`));
  });

  it('a proxy that hangs up during the handshake: 75', async () => {
    const socks = await proxy({ closeAfterGreeting: true });
    const error = await failure(connectTcp(via(socks, 'mail.test', 25)));
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toBe(`SOCKS5 proxy 127.0.0.1 port ${socks.port}: closed the connection during the SOCKS5 handshake (asked to connect to mail.test port 25)`);
  });

  it('a host name too long for SOCKS5: E_CONFIG before anything is sent', async () => {
    const socks = await proxy();
    const error = await failure(connectTcp(via(socks, `${'a'.repeat(251)}.test`, 25)));
    expect(error).toMatchObject({ code: 'E_CONFIG' });
    expect(error.message).toMatch(/SOCKS5 carries at most 255/);
    expect(socks.connections()).toBe(0);
  });
});
