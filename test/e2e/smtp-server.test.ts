/**
 * The built CLI against `smtp-server` from npm: an independent implementation,
 * so a shared misunderstanding between our client and our server cannot hide.
 */
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { runOutbox } from '../helpers/run-cli.js';

/** Headers that make outbox add none of its own. */
const COMPLETE = 'From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <t1@example.com>\n';

interface Received { from: string; to: string[]; data: Buffer }

let server: SMTPServer | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function start(options: Partial<SMTPServerOptions>, received: Received[], lmtpReplies?: (to: string[]) => Array<string | Error>): Promise<number> {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    ...options,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((r) => r.address);
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, data: Buffer.concat(chunks) });
        if (lmtpReplies) callback(null, lmtpReplies(to) as unknown as string);
        else callback();
      });
    },
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return (s.server.address() as { port: number }).port;
}

describe('against smtp-server', () => {
  it('delivers the exact bytes, normalised and unstuffed, to every recipient of an address list', async () => {
    const received: Received[] = [];
    const port = await start({}, received);
    // A mail with From, Date and Message-ID already: outbox adds nothing to it.
    const mail = 'From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <dots@example.com>\nSubject: dots\n\n.leading dot\n..two dots\n.\nbare CR\rend\nno final newline';
    const result = await runOutbox(['--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', '-oi', '--', 'Bee <b@example.net>, c@example.net', 'Team: d@example.org;'], { input: mail });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(received).toHaveLength(1);
    expect(received[0]!.from).toBe('a@example.com');
    expect(received[0]!.to).toEqual(['b@example.net', 'c@example.net', 'd@example.org']);
    expect(received[0]!.data.toString('latin1')).toBe(mail.replace(/\r\n|\r|\n/g, '\r\n') + '\r\n');
  });

  it('sends 8-bit bytes unchanged', async () => {
    const received: Received[] = [];
    const port = await start({}, received);
    const mail = Buffer.concat([Buffer.from(`${COMPLETE}Subject: 8bit\n\n`), Buffer.from([0xe4, 0xf6, 0xfc, 0x0a, 0xff, 0x0a])]);
    const result = await runOutbox(['--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', 'b@example.net'], { input: mail });
    expect(result.status).toBe(0);
    expect(received[0]!.data).toEqual(Buffer.from(`${COMPLETE.replace(/\n/g, '\r\n')}Subject: 8bit\r\n\r\n\xe4\xf6\xfc\r\n\xff\r\n`, 'latin1'));
  });

  it('sends a bounce with the null reverse-path', async () => {
    const received: Received[] = [];
    const port = await start({}, received);
    for (const from of ['<>', 'MAILER-DAEMON', 'mailer-daemon']) {
      const result = await runOutbox(['--host=127.0.0.1', `--port=${port}`, '-f', from, 'b@example.net'], { input: 'Subject: bounce\n\nx\n' });
      expect(result.status).toBe(0);
    }
    expect(received.map((r) => r.from)).toEqual(['', '', '']);
  });

  it('takes -f as one address, bare or with a name', async () => {
    const received: Received[] = [];
    const port = await start({}, received);
    const result = await runOutbox(['--host=127.0.0.1', `--port=${port}`, '-f', 'Jane Doe <jane@example.com>', 'b@example.net'], { input: 'Subject: x\n\ny\n' });
    expect(result.status).toBe(0);
    expect(received[0]!.from).toBe('jane@example.com');
  });

  it('LMTP: all delivered exits 0; one refused after the data prints it and exits 69', async () => {
    const received: Received[] = [];
    const port = await start({ lmtp: true }, received, (to) => to.map((r) => (r.startsWith('nobody') ? Object.assign(new Error('5.1.1 user unknown'), { responseCode: 550 }) : 'delivered')));
    const base = ['--protocol=lmtp', '--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com'];
    expect((await runOutbox([...base, 'alice@example.net', 'bob@example.net'], { input: 'Subject: x\n\ny\n' })).status).toBe(0);
    const partial = await runOutbox([...base, 'alice@example.net', 'nobody@example.net'], { input: 'Subject: x\n\ny\n' });
    expect(partial.status).toBe(69);
    expect(partial.stderr).toContain('nobody@example.net');
    expect(partial.stderr).toContain('550 5.1.1 user unknown');
  });

  it('--debug prints the dialogue on stdout', async () => {
    const port = await start({}, []);
    const result = await runOutbox(['-d', '--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', 'b@example.net'], { input: `${COMPLETE}Subject: x\n\ny\n` });
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    // The settings first, as msmtp -d (what --pretend prints), then the dialogue.
    expect(lines[0]).toBe('using account specified on command line');
    expect(lines).toContain('host = 127.0.0.1');
    expect(lines.find((l) => l.startsWith('<-- ') || l.startsWith('--> '))).toMatch(/^<-- 220 /);
    expect(lines).toContain('--> EHLO localhost');
    expect(lines).toContain('--> MAIL FROM:<a@example.com>');
    expect(lines).toContain('--> [message data: 107 octets, then "."]');
    expect(lines).toContain('--> QUIT');
  });
});
