/**
 * The capture server over real loopback sockets: a raw client checks exact
 * replies and how they arrive; nodemailer, an independent client, checks that
 * what it sends is what lands in the folder.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { startCaptureServer, type CaptureServer, type CaptureServerOptions } from '../helpers/capture-server.js';
import { ReplyReader } from '../helpers/reply-reader.js';

/** A client that writes exactly what it is told and collects replies as they arrive (test/helpers/reply-reader.ts). */
class RawClient {
  /** Each 'data' event's text, to see how replies were batched. */
  readonly chunks: string[] = [];
  private readonly reader: ReplyReader;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.chunks.push(text));
    this.reader = new ReplyReader(socket);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  /** The next `count` complete replies, each with its CRLFs. */
  replies(count: number): Promise<string[]> {
    return this.reader.replies(count);
  }

  /** Resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    await this.reader.closed();
  }

  end(): void {
    this.socket.end();
  }
}

let folder: string;
const servers: CaptureServer[] = [];
const clients: RawClient[] = [];

async function serve(options: Partial<CaptureServerOptions> = {}): Promise<CaptureServer> {
  folder = await mkdtemp(join(tmpdir(), 'outbox-capture-'));
  const server = await startCaptureServer({ folder, hostname: 'mx.test', ...options });
  servers.push(server);
  return server;
}

async function client(server: CaptureServer): Promise<RawClient> {
  const opened = await RawClient.open(server.port);
  clients.push(opened);
  return opened;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.end();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await rm(folder, { recursive: true, force: true });
});

describe('capture server over loopback', () => {
  it('listens on 127.0.0.1 with a system-chosen port', async () => {
    const server = await serve();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.folder).toBe(folder);
  });

  it('listens on ::1 when asked (skipped where the host has no IPv6)', async (context) => {
    const server = await serve({ host: '::1' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') context.skip();
      throw error;
    });
    expect(server.host).toBe('::1');
    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '::1', port: server.port });
      socket.once('data', (data) => {
        resolve(data.toString());
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(greeting).toBe('220 mx.test ESMTP outbox\r\n');
  });

  it('answers a pipelined group written at once with all its replies, in order, in one write', async () => {
    const server = await serve();
    const c = await client(server);
    expect(await c.replies(1)).toEqual(['220 mx.test ESMTP outbox\r\n']);
    const before = c.chunks.length;
    c.write('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nRCPT TO:<z@y.test>\r\nDATA\r\n');
    expect(await c.replies(5)).toEqual([
      '250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 SIZE\r\n',
      '250 2.1.0 Ok\r\n',
      '250 2.1.5 Ok\r\n',
      '250 2.1.5 Ok\r\n',
      '354 End data with <CR><LF>.<CR><LF>\r\n',
    ]);
    expect(c.chunks.length - before).toBe(1);
    c.write('Subject: t\r\n\r\n..x\r\n.\r\nQUIT\r\n');
    const [queued, bye] = await c.replies(2);
    expect(queued).toMatch(/^250 2\.0\.0 Ok: queued as [0-9A-Z]{19}\r\n$/);
    expect(bye).toBe('221 2.0.0 mx.test closing connection\r\n');
    await c.closed();
    const [message] = await server.messages();
    expect(message?.raw.toString()).toBe('Subject: t\r\n\r\n.x\r\n');
    expect(queued).toContain(message?.id);
  });

  it('answers out-of-sequence commands with 503 and an over-long line with 500', async () => {
    const server = await serve();
    const c = await client(server);
    await c.replies(1);
    c.write('RCPT TO:<x@y.test>\r\n');
    expect(await c.replies(1)).toEqual(['503 5.5.1 Error: send EHLO/HELO first\r\n']);
    c.write(`HELO c.test\r\nDATA\r\nNOOP ${'x'.repeat(5000)}\r\nNOOP\r\n`);
    expect(await c.replies(4)).toEqual([
      '250 mx.test\r\n',
      '503 5.5.1 Error: need MAIL command\r\n',
      '500 5.5.2 Line too long\r\n',
      '250 2.0.0 Ok\r\n',
    ]);
  });

  it('refuses a message over the size limit after its data and stores nothing', async () => {
    const server = await serve({ sizeLimit: 100 });
    const c = await client(server);
    await c.replies(1);
    c.write('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n');
    const [ehlo] = await c.replies(4);
    expect(ehlo).toContain('250 SIZE 100\r\n');
    c.write(`${'y'.repeat(200)}\r\n.\r\nNOOP\r\n`);
    expect(await c.replies(2)).toEqual([
      '552 5.3.4 Message size exceeds fixed maximum message size\r\n',
      '250 2.0.0 Ok\r\n',
    ]);
    expect(await server.messages()).toEqual([]);
    expect(await readdir(folder)).toEqual([]);
  });

  it('in LMTP mode answers the data once per recipient and captures for those delivered', async () => {
    const server = await serve({
      protocol: 'lmtp',
      lmtpDeliveryReply: (address) => (address === 'full@y.test' ? { code: 552, text: '5.2.2 Mailbox full' } : undefined),
    });
    const c = await client(server);
    expect(await c.replies(1)).toEqual(['220 mx.test LMTP outbox\r\n']);
    c.write('LHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<one@y.test>\r\nRCPT TO:<full@y.test>\r\nDATA\r\n');
    await c.replies(5);
    c.write('Subject: l\r\n\r\nbody\r\n.\r\n');
    const [one, full] = await c.replies(2);
    expect(one).toMatch(/^250 2\.0\.0 <one@y\.test> Ok: queued as [0-9A-Z]{19}\r\n$/);
    expect(full).toBe('552 5.2.2 Mailbox full\r\n');
    const [message] = await server.waitForMessages(1);
    expect(message).toMatchObject({ protocol: 'lmtp', helo: 'c.test', recipients: ['one@y.test'] });
  });

  it('says 421 and closes after the idle timeout', async () => {
    const server = await serve({ idleTimeoutMs: 150 });
    const c = await client(server);
    expect(await c.replies(2)).toEqual(['220 mx.test ESMTP outbox\r\n', '421 4.4.2 mx.test Error: timeout exceeded\r\n']);
    await c.closed();
  });

  it('greets connections beyond the session limit with 421 and closes them', async () => {
    const server = await serve({ maxSessions: 1 });
    const first = await client(server);
    expect(await first.replies(1)).toEqual(['220 mx.test ESMTP outbox\r\n']);
    const second = await client(server);
    expect(await second.replies(1)).toEqual(['421 4.3.2 Too many connections, try again later\r\n']);
    await second.closed();
    first.write('NOOP\r\n');
    expect(await first.replies(1)).toEqual(['250 2.0.0 Ok\r\n']);
  });

  it('closes open connections on close() and removes a half-received message', async () => {
    const server = await serve();
    const c = await client(server);
    await c.replies(1);
    c.write('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n');
    await c.replies(4);
    c.write('Subject: unfinished\r\n');
    // The temp file exists from the 354 on, and is invisible to readers.
    expect(await readdir(folder)).toEqual([expect.stringMatching(/^\.tmp-/)]);
    expect(await server.messages()).toEqual([]);
    await server.close();
    await c.closed();
    expect(await readdir(folder)).toEqual([]);
  });

  it('streams a large dot-stuffed message to disk intact', async () => {
    const server = await serve();
    const c = await client(server);
    await c.replies(1);
    c.write('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@y.test>\r\nDATA\r\n');
    await c.replies(4);
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i % 7 === 0 ? '.' : ''}line ${i} ${'z'.repeat(90)}\r\n`);
    const message = lines.join('');
    const wire = Buffer.from(`${message.replace(/^\./gm, '..')}.\r\n`);
    for (let at = 0; at < wire.length; at += 65_531) c.write(wire.subarray(at, at + 65_531));
    expect(await c.replies(1)).toEqual([expect.stringMatching(/^250 2\.0\.0 Ok: queued as /)]);
    const [captured] = await server.messages();
    expect(captured?.size).toBe(Buffer.byteLength(message));
    expect(captured?.raw.toString() === message).toBe(true);
  });

  it('waitForMessages says how many it found when time runs out', async () => {
    const server = await serve();
    await expect(server.waitForMessages(1, 50)).rejects.toThrow(/expected 1 message\(s\) in .*found 0/);
  });
});

describe('with nodemailer as the client', () => {
  const mail = {
    from: 'sender@example.test',
    to: ['one@example.test', 'two@example.test'],
    subject: 'capture',
    text: '.starts with a dot\n..two dots\n.\nend\n',
    messageId: '<fixed@example.test>',
    date: new Date(0),
  };

  it('captures the message byte for byte as nodemailer builds it, with its envelope', async () => {
    const server = await serve();
    const built = await nodemailer
      .createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
      .sendMail(mail);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true });
    try {
      const info = await transport.sendMail(mail);
      expect(info.accepted).toEqual(mail.to);
      const [message] = await server.waitForMessages(1);
      expect(message?.raw.equals(built.message as Buffer)).toBe(true);
      expect(message?.raw.toString()).toContain('\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n');
      expect(info.response).toBe(`250 2.0.0 Ok: queued as ${message?.id}`);
      expect(Object.keys(message ?? {}).sort()).toEqual(
        ['emlPath', 'helo', 'id', 'mailFrom', 'mailParams', 'protocol', 'raw', 'rcptParams', 'receivedAt', 'recipients', 'size'].sort(),
      );
      expect(message).toMatchObject({
        protocol: 'smtp',
        helo: expect.any(String),
        mailFrom: 'sender@example.test',
        recipients: ['one@example.test', 'two@example.test'],
        rcptParams: [{}, {}],
        size: message?.raw.length,
      });
      expect(Date.parse(message?.receivedAt ?? '')).not.toBeNaN();
      expect((await readdir(folder)).sort()).toEqual([`${message?.id}.eml`, `${message?.id}.json`]);
    } finally {
      transport.close();
    }
  });

  it('captures messages from several clients at once', async () => {
    const server = await serve();
    const transports = Array.from({ length: 5 }, () =>
      nodemailer.createTransport({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true }),
    );
    try {
      await Promise.all(transports.map((t, i) => t.sendMail({ ...mail, subject: `parallel ${i}` })));
      const messages = await server.waitForMessages(5);
      const subjects = messages.map((m) => /Subject: (parallel \d)/.exec(m.raw.toString())?.[1]);
      expect(subjects.sort()).toEqual(['parallel 0', 'parallel 1', 'parallel 2', 'parallel 3', 'parallel 4']);
    } finally {
      for (const t of transports) t.close();
    }
  });

  it('reports a refused recipient to nodemailer and delivers to the rest, several messages in order', async () => {
    const server = await serve({
      refuseRecipient: (address) => (address.startsWith('two@') ? { code: 550, text: '5.1.1 No such user' } : undefined),
    });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true });
    try {
      const first = await transport.sendMail({ ...mail, subject: 'first' });
      expect(first.rejected).toEqual(['two@example.test']);
      await transport.sendMail({ ...mail, subject: 'second', to: 'one@example.test' });
      const messages = await server.waitForMessages(2);
      expect(messages.map((m) => /Subject: (\w+)/.exec(m.raw.toString())?.[1])).toEqual(['first', 'second']);
      expect(messages.map((m) => m.recipients)).toEqual([['one@example.test'], ['one@example.test']]);
    } finally {
      transport.close();
    }
  });
});
