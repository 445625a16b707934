/**
 * The built CLI against our own capture server (src/server), and the demo.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { runOutbox } from '../helpers/run-cli.js';

let folder: string;
let server: CaptureServer | undefined;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'outbox-e2e-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(folder, { recursive: true, force: true });
});

/** A deterministic message of about `octets` bytes, LF line endings, with dot lines. */
function* bigMessage(octets: number): Generator<Buffer> {
  yield Buffer.from('From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <big@example.com>\nSubject: big\n\n');
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again....\n';
  const block = Buffer.from(Array.from({ length: 800 }, (_, i) => (i % 50 === 0 ? `.${line}` : line)).join(''));
  for (let sent = 0; sent < octets; sent += block.length) yield block;
}

describe('against the capture server', () => {
  it('delivers exact bytes with CRLF line endings and dots restored', async () => {
    server = await startCaptureServer({ folder });
    const mail = 'From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <t@example.com>\nSubject: t\n\n.one\n..two\nx\r\ny';
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', 'b@example.net'], { input: mail });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const [message] = await server.waitForMessages(1);
    expect(message!.raw.toString()).toBe(mail.replace(/\r?\n/g, '\r\n') + '\r\n');
    expect(message!.mailFrom).toBe('a@example.com');
    expect(message!.recipients).toEqual(['b@example.net']);
  });

  it('streams a 64 MB message intact', async () => {
    server = await startCaptureServer({ folder });
    const chunks = [...bigMessage(64 * 1024 * 1024)];
    const expected = Buffer.concat(chunks).toString('latin1').replace(/\n/g, '\r\n');
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', 'b@example.net'], { input: chunks, timeoutMs: 60_000 });
    expect(result.status).toBe(0);
    const [message] = await server.waitForMessages(1);
    expect(message!.size).toBe(expected.length);
    expect(message!.raw.equals(Buffer.from(expected, 'latin1'))).toBe(true);
  }, 90_000);

  it('LMTP: per-recipient results after the data', async () => {
    server = await startCaptureServer({
      folder,
      protocol: 'lmtp',
      lmtpDeliveryReply: (address) => (address.startsWith('full') ? { code: 452, text: '4.2.2 mailbox full' } : undefined),
    });
    const base = ['--protocol=lmtp', '--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com'];
    const result = await runOutbox([...base, 'ok@example.net', 'full@example.net'], { input: 'Subject: x\n\ny\n' });
    expect(result.status).toBe(75); // the only refusal is temporary: retry
    expect(result.stderr).toMatch(/delivered to ok@example.net: 250 /);
    expect(result.stderr).toMatch(/temporarily refused for full@example.net: 452 4.2.2 mailbox full/);
  });

  it('npm run demo: sends a sample mail to outbox serve --maildir and shows where it landed', async () => {
    const demo = fileURLToPath(new URL('../../dist/cli/demo.js', import.meta.url));
    const { status, stdout } = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [demo], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
      child.on('close', (code) => resolve({ status: code, stdout: out }));
    });
    expect(status).toBe(0);
    expect(stdout).toContain('--> MAIL FROM:<demo@outbox.example>');
    const delivered = /delivered \d+ octets to (\S+\/Maildir\/new\/\S+)/.exec(stdout);
    expect(delivered).not.toBeNull();
    await rm(dirname(dirname(dirname(delivered![1]!))), { recursive: true, force: true });
  });
});
