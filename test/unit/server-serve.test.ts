/**
 * The product listener over loopback: sessions beyond maxSessions, the idle
 * and data timeouts, log events, STARTTLS with a real TLS client (and the
 * plaintext injected after it dropped), implicit TLS, a client that vanishes
 * mid-data, and serveStreams (--inetd) on a pair of pipes.
 */
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { connect as tlsConnect, createSecureContext, type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer, ServerConfig, ServerLogEvent } from '../../src/server/server-config.js';
import { SERVER_DEFAULTS } from '../../src/server/server-config.js';
import { serveStreams, startServer } from '../../src/server/server.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { MemoryBackend } from '../helpers/memory-backend.js';
import { ReplyReader } from '../helpers/reply-reader.js';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.cleanup());

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

function config(overrides: Partial<ServerConfig> = {}): ServerConfig & { backend: MemoryBackend; events: ServerLogEvent[] } {
  const events: ServerLogEvent[] = [];
  return {
    ...SERVER_DEFAULTS,
    hostname: 'mx.test',
    backend: new MemoryBackend(),
    loopback: true,
    onLog: (event) => events.push(event),
    events,
    ...overrides,
  } as ServerConfig & { backend: MemoryBackend; events: ServerLogEvent[] };
}

async function serve(settings: ServerConfig): Promise<RunningServer> {
  const server = await startServer(settings, { host: '127.0.0.1', port: 0 });
  servers.push(server);
  return server;
}

function open(port: number): Promise<{ socket: Socket; reader: ReplyReader }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve({ socket, reader: new ReplyReader(socket) }));
    sockets.push(socket);
    socket.once('error', reject);
  });
}

function tlsContext() {
  return createSecureContext({ cert: certs.server.cert, key: certs.server.key });
}

describe('startServer', () => {
  it('greets, takes a message with a Received field, and logs the session and the message', async () => {
    const settings = config();
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    expect(await reader.reply()).toBe('220 mx.test ESMTP outbox\r\n');
    socket.write('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n');
    await reader.replies(4);
    socket.write('hi\r\n.\r\nQUIT\r\n');
    expect(await reader.replies(2)).toEqual(['250 2.0.0 Ok: queued as M1\r\n', '221 2.0.0 mx.test closing connection\r\n']);
    await reader.closed();
    await server.close();
    expect(settings.backend.committed[0]?.data).toMatch(/^Received: from c\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby mx\.test \(outbox\) with ESMTP id [0-9A-F]{12}\r\n\tfor <c@d\.test>; .+ \+0000\r\nhi\r\n$/);
    expect(settings.events).toEqual([
      { type: 'listening', address: '127.0.0.1', port: server.port },
      { type: 'session', remoteAddress: '127.0.0.1', phase: 'start' },
      { type: 'message', remoteAddress: '127.0.0.1', mailFrom: 'a@b.test', recipients: ['c@d.test'], size: 4, reply: '250 2.0.0 Ok: queued as M1' },
      { type: 'session', remoteAddress: '127.0.0.1', phase: 'end' },
    ]);
  });

  it('answers a client that sends QUIT and closes its side at once', async () => {
    const server = await serve(config());
    const { socket, reader } = await open(server.port);
    socket.end('NOOP\r\nQUIT\r\n');
    expect(await reader.replies(3)).toEqual([
      '220 mx.test ESMTP outbox\r\n',
      '250 2.0.0 Ok\r\n',
      '221 2.0.0 mx.test closing connection\r\n',
    ]);
    await reader.closed();
  });

  it('greets a connection beyond maxSessions with 421 and closes it', async () => {
    const settings = config({ maxSessions: 1 });
    const server = await serve(settings);
    const first = await open(server.port);
    expect(await first.reader.reply()).toMatch(/^220 /);
    const second = await open(server.port);
    expect(await second.reader.reply()).toBe('421 4.3.2 Too many connections, try again later\r\n');
    await second.reader.closed();
    expect(settings.events).toContainEqual({ type: 'error', remoteAddress: '127.0.0.1', message: 'too many sessions (1): connection refused with 421' });
  });

  it('says 421 after the idle timeout between commands', async () => {
    const server = await serve(config({ idleTimeoutMs: 50 }));
    const { reader } = await open(server.port);
    expect(await reader.replies(2)).toEqual(['220 mx.test ESMTP outbox\r\n', '421 4.4.2 mx.test Error: timeout exceeded\r\n']);
    await reader.closed();
  });

  it('uses the data timeout inside the message, and aborts the half message', async () => {
    const settings = config({ idleTimeoutMs: 60_000, dataTimeoutMs: 50 });
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    socket.write('EHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nhalf a mess');
    const replies = await reader.replies(6);
    expect(replies[5]).toBe('421 4.4.2 mx.test Error: timeout exceeded\r\n');
    await reader.closed();
    await server.close();
    expect(settings.backend.calls).toContain('abort');
    expect(settings.backend.committed).toEqual([]);
  });

  it('drains: no new connection, a session mid-DATA still ends with its 250', async () => {
    const settings = config();
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    socket.write('EHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n');
    await reader.replies(5);
    const drained = server.drain!(10_000);
    await expect(open(server.port)).rejects.toThrow();
    socket.write('hi\r\n.\r\nQUIT\r\n');
    expect(await reader.replies(2)).toEqual(['250 2.0.0 Ok: queued as M1\r\n', '221 2.0.0 mx.test closing connection\r\n']);
    await drained;
    expect(settings.backend.committed).toHaveLength(1);
  });

  it('survives a client that vanishes mid-data', async () => {
    const settings = config();
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    socket.write('EHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n');
    await reader.replies(5);
    socket.write('half a message');
    socket.destroy();
    await server.close();
    expect(settings.backend.calls.slice(-2)).toEqual(['abort', 'logout']);
  });
});

describe('STARTTLS', () => {
  function startTls(socket: Socket): Promise<{ tls: TLSSocket; reader: ReplyReader }> {
    return new Promise((resolve, reject) => {
      const tls = tlsConnect({ socket, ca: certs.ca, servername: 'localhost' }, () => resolve({ tls, reader: new ReplyReader(tls) }));
      tls.once('error', reject);
    });
  }

  it('upgrades with a real TLS client, drops what was pipelined after it, and starts over', async () => {
    const settings = config({ loopback: false, tls: { context: tlsContext(), implicit: false } });
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    await reader.reply();
    socket.write('EHLO c.test\r\n');
    expect(await reader.reply()).toMatch(/250-DSN\r\n250 STARTTLS\r\n$/);
    // The injection: a MAIL in the same packet as STARTTLS must never be read as a command.
    socket.write('STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n');
    expect(await reader.reply()).toBe('220 2.0.0 Ready to start TLS\r\n');
    socket.removeAllListeners('data');
    const { tls, reader: secure } = await startTls(socket);
    tls.write('RCPT TO:<c@d.test>\r\nEHLO c.test\r\n');
    expect(await secure.replies(2)).toEqual([
      '503 5.5.1 Error: send EHLO/HELO first\r\n',
      '250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-SIZE\r\n250-CHUNKING\r\n250 DSN\r\n',
    ]);
    // Had the MAIL been read in the clear, the backend would have been asked about it.
    expect(settings.backend.calls.filter((call) => call.startsWith('mail'))).toEqual([]);
    tls.write('STARTTLS\r\nQUIT\r\n');
    expect(await secure.replies(2)).toEqual(['503 5.5.1 Error: TLS already active\r\n', '221 2.0.0 mx.test closing connection\r\n']);
    tls.destroy();
  });

  it('is not offered with implicit TLS, where the session is TLS from the first byte', async () => {
    const settings = config({ loopback: false, tls: { context: tlsContext(), implicit: true }, auth: { verify: async () => true } });
    const server = await serve(settings);
    const tls = tlsConnect({ host: '127.0.0.1', port: server.port, ca: certs.ca, servername: 'localhost' });
    sockets.push(tls);
    const reader = new ReplyReader(tls);
    expect(await reader.reply()).toBe('220 mx.test ESMTP outbox\r\n');
    tls.write('EHLO c.test\r\nSTARTTLS\r\n');
    expect(await reader.replies(2)).toEqual([
      '250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-SIZE\r\n250-CHUNKING\r\n250-DSN\r\n250 AUTH PLAIN LOGIN\r\n',
      '502 5.5.1 Error: command not implemented\r\n',
    ]);
  });

  it('with implicit TLS, logs a client that does not speak TLS and goes on serving', async () => {
    const settings = config({ tls: { context: tlsContext(), implicit: true } });
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    socket.write('EHLO c.test\r\n');
    await reader.closed();
    const tls = tlsConnect({ host: '127.0.0.1', port: server.port, ca: certs.ca, servername: 'localhost' });
    sockets.push(tls);
    expect(await new ReplyReader(tls).reply()).toBe('220 mx.test ESMTP outbox\r\n');
    expect(settings.events).toContainEqual(expect.objectContaining({ type: 'error', remoteAddress: '127.0.0.1' }));
  });

  it('logs a failed handshake and goes on serving', async () => {
    const settings = config({ tls: { context: tlsContext(), implicit: false } });
    const server = await serve(settings);
    const { socket, reader } = await open(server.port);
    await reader.reply();
    socket.write('EHLO c.test\r\nSTARTTLS\r\n');
    await reader.replies(2);
    socket.write('this is not a ClientHello\r\n');
    await reader.closed();
    const again = await open(server.port);
    expect(await again.reader.reply()).toBe('220 mx.test ESMTP outbox\r\n');
    expect(settings.events).toContainEqual(expect.objectContaining({ type: 'error', remoteAddress: '127.0.0.1', message: expect.stringMatching(/^TLS handshake failed/) }));
  });
});

describe('serveStreams (--inetd)', () => {
  it('runs one session on a pair of pipes, without STARTTLS, and ends at the input\'s end', async () => {
    const settings = config({ tls: { context: tlsContext(), implicit: false } });
    const input = new PassThrough();
    const output = new PassThrough();
    const reader = new ReplyReader(output);
    const done = serveStreams(settings, input, output);
    expect(await reader.reply()).toBe('220 mx.test ESMTP outbox\r\n');
    input.write('EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nhi\r\n.\r\n');
    input.end('QUIT\r\n');
    const replies = await reader.replies(7);
    expect(replies[0]).toMatch(/250 DSN\r\n$/);
    expect(replies.slice(1)).toEqual([
      '502 5.5.1 Error: command not implemented\r\n',
      '250 2.1.0 Ok\r\n',
      '250 2.1.5 Ok\r\n',
      '354 End data with <CR><LF>.<CR><LF>\r\n',
      '250 2.0.0 Ok: queued as M1\r\n',
      '221 2.0.0 mx.test closing connection\r\n',
    ]);
    await done;
    expect(settings.backend.committed[0]?.data).toMatch(/^Received: from c\.test\r\n\tby mx\.test \(outbox\) with ESMTP id /);
    expect(settings.backend.calls.at(-1)).toBe('logout');
  });

  it('ends when the client closes its input without QUIT', async () => {
    const settings = config();
    const input = new PassThrough();
    const output = new PassThrough();
    const reader = new ReplyReader(output);
    const done = serveStreams(settings, input, output, { remoteAddress: '192.0.2.7' });
    await reader.reply();
    input.end('NOOP\r\n');
    expect(await reader.reply()).toBe('250 2.0.0 Ok\r\n');
    await done;
    expect(settings.events.map((event) => event.type)).toEqual(['session', 'session']);
  });
});
