/**
 * Issue 15 end to end: the built CLI with an 8-bit mail and `smtp-server`
 * from npm with 8BITMIME hidden, on each path that sends: the direct send,
 * the queue's flush, and `outbox serve`'s relay.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killChildren, runOutbox } from '../helpers/run-cli.js';
import { startServe } from '../helpers/serve-cli.js';

interface Received { size: unknown; body: unknown; data: Buffer }

const LATIN1_MAIL = Buffer.from('From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <e1@example.com>\nSubject: Gr\xfc\xdfe\n\nK\xf6ln \n', 'latin1');
const CONVERTED = `From: a@example.com\r\nDate: Sat, 21 Nov 2026 12:00:00 +0000\r\nMessage-ID: <e1@example.com>\r\nSubject: =?iso-8859-1?B?${Buffer.from('Gr\xfc\xdfe', 'latin1').toString('base64')}?=\r\n`;
const SIGNED = Buffer.from(
  'From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <e2@example.com>\nSubject: signed\nMIME-Version: 1.0\n' +
    'Content-Type: multipart/signed; boundary=s\n\n--s\nContent-Type: text/plain; charset=utf-8\n\nGr\xc3\xbc\xc3\x9fe\n--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n',
  'latin1',
);

let server: SMTPServer | undefined;
let dir: string;
const children = new Set<ChildProcess>();
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-eightbit-e2e-'));
});
afterEach(async () => {
  await killChildren(children);
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** smtp-server without 8BITMIME (and so, per RFC 6152, a server that must not get 8-bit data). */
async function start(received: Received[]): Promise<number> {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hide8BITMIME: true,
    size: 10_000_000,
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const args = (session.envelope.mailFrom as { args?: Record<string, string> }).args ?? {};
        received.push({ size: args['SIZE'], body: args['BODY'], data: Buffer.concat(chunks) });
        callback();
      });
    },
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return (s.server.address() as { port: number }).port;
}

const env = () => ({ HOME: dir, XDG_STATE_HOME: join(dir, 'state'), OUTBOX_SYSTEM_CONFIG: join(dir, 'none'), OUTBOX_BACKGROUND_FLUSH: 'off' });

function expectConverted(received: Received): void {
  expect(received.data.some((b) => b >= 0x80)).toBe(false);
  expect(received.body).toBeUndefined();
  // SIZE= is the size of what was sent (smtp-server's data has the final CRLF before the dot).
  expect(Number(received.size)).toBe(received.data.length);
  expect(received.data.toString('latin1')).toBe(
    `${CONVERTED}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln=20\r\n`,
  );
}

describe('8-bit mail to a server without 8BITMIME (issue 15)', () => {
  it('the direct send converts; -B 7BIT with eightbit refuse exits 69; a signed part exits 69', async () => {
    const received: Received[] = [];
    const port = await start(received);
    const args = ['--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', 'b@example.net'];
    expect(await runOutbox(args, { input: LATIN1_MAIL, env: env() })).toMatchObject({ status: 0, stderr: '' });
    expectConverted(received[0]!);
    const refused = await runOutbox(['--eightbit=refuse', '-B', '7BIT', ...args], { input: LATIN1_MAIL, env: env() });
    expect(refused.status).toBe(69);
    expect(refused.stderr).toContain('declared 7-bit (-B 7BIT)');
    const signed = await runOutbox(args, { input: SIGNED, env: env() });
    expect(signed.status).toBe(69);
    expect(signed.stderr).toContain('multipart/signed');
    expect(received).toHaveLength(1);
  });

  it('the queue flush converts, and fails a signed mail for good with 5.6.3', async () => {
    const received: Received[] = [];
    const port = await start(received);
    const queue = join(dir, 'queue');
    const args = ['--host=127.0.0.1', `--port=${port}`, '--queue=always', `--queue-dir=${queue}`, '-f', 'a@example.com', 'b@example.net'];
    expect((await runOutbox(args, { input: LATIN1_MAIL, env: env() })).status).toBe(0);
    expect((await runOutbox(args, { input: SIGNED, env: env() })).status).toBe(0);
    expect(received).toHaveLength(0);
    expect(await runOutbox([`--queue-dir=${queue}`, '-q'], { env: env() })).toMatchObject({ status: 0 });
    const converted = received.filter((r) => r.data.includes('Message-ID: <e1@example.com>'));
    expect(converted).toHaveLength(1);
    expectConverted(converted[0]!);
    // The signed mail is never sent; its sender gets a bounce saying why (RFC 3463 5.6.3, conversion required but not supported).
    const bounces = received.filter((r) => r.data.includes('multipart/report'));
    expect(bounces).toHaveLength(1);
    expect(bounces[0]!.data.toString('latin1')).toMatch(/^Status: 5\.6\.3\r$/m);
    expect(bounces[0]!.data.toString('latin1')).toContain('Message-ID: <e2@example.com>');
    expect(received).toHaveLength(2);
  });

  it('the queue flush keeps each mail to its own eightbit, even for the same server (no shared session across policies)', async () => {
    const received: Received[] = [];
    const port = await start(received);
    const queue = join(dir, 'queue');
    const args = ['--host=127.0.0.1', `--port=${port}`, '--queue=always', `--queue-dir=${queue}`, '-f', 'a@example.com', 'b@example.net'];
    expect((await runOutbox(args, { input: LATIN1_MAIL, env: env() })).status).toBe(0);
    const sendAsIs = Buffer.from(LATIN1_MAIL.toString('latin1').replace('<e1@example.com>', '<e3@example.com>'), 'latin1');
    expect((await runOutbox(['--eightbit=send', ...args], { input: sendAsIs, env: env() })).status).toBe(0);
    expect(await runOutbox([`--queue-dir=${queue}`, '-q'], { env: env() })).toMatchObject({ status: 0 });
    expect(received).toHaveLength(2);
    expectConverted(received.find((r) => r.data.includes('<e1@example.com>'))!);
    const asIs = received.find((r) => r.data.includes('<e3@example.com>'))!;
    expect(asIs.data.some((b) => b >= 0x80)).toBe(true);
  });

  it("outbox serve's relay converts what a client sent with BODY=8BITMIME, and with eightbit refuse answers 554 5.6.3", async () => {
    const received: Received[] = [];
    const port = await start(received);
    const relay = async (extra: string): Promise<number> => {
      const config = join(dir, `msmtprc${extra === '' ? '' : '-refuse'}`);
      await writeFile(config, `account default\nhost 127.0.0.1\nport ${port}\ntls off\n${extra}`, { mode: 0o600 });
      const serve = await startServe(['-C', config], { ...env(), PATH: process.env['PATH'] }, `${config}.log`);
      children.add(serve.child);
      return serve.port;
    };
    const send = async (servePort: number) => runOutbox(['--host=127.0.0.1', `--port=${servePort}`, '-f', 'a@example.com', 'b@example.net'], { input: LATIN1_MAIL, env: env() });
    expect(await send(await relay(''))).toMatchObject({ status: 0, stderr: '' });
    expect(received).toHaveLength(1);
    expect(received[0]!.data.some((b) => b >= 0x80)).toBe(false);
    expect(received[0]!.data.toString('latin1')).toContain('Content-Transfer-Encoding: quoted-printable\r\n\r\nK=F6ln=20\r\n');
    expect(Number(received[0]!.size)).toBe(received[0]!.data.length);
    const refused = await send(await relay('eightbit refuse\n'));
    expect(refused.status).toBe(69);
    expect(refused.stderr).toContain('554 5.6.3');
    expect(received).toHaveLength(1);
  });
});
