/**
 * A regular file on stdin, shared with the caller, as bsd-mailx hands over
 * its temporary file: outbox must read the mail from the file's current
 * offset and leave that offset where it was, so that a caller which saves
 * "the rest of the file" to dead.letter after a failure saves the whole mail.
 * The file descriptor is the test's own; the child gets the same open file
 * description, so the test sees the offset the child leaves behind.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';

/** What the caller already consumed: before the offset, never to be sent. */
const BEFORE = 'NOT PART OF THE MAIL: the caller read this far\n';
const MAIL = 'From: a@example.com\r\nTo: b@example.net\r\nDate: Fri, 21 Nov 2025 12:00:00 +0000\r\nMessage-ID: <stdin-file@example.com>\r\nSubject: from a file\r\n\r\nHello from a shared file.\r\n';

let dir: string;
let fd: number | undefined;
let server: FakeServer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-stdin-'));
});

afterEach(async () => {
  if (fd !== undefined) closeSync(fd);
  fd = undefined;
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a file holding `before` + `mail` and reads `before` through the descriptor, so its offset is past it. */
function openAtOffset(before: string, mail: string | Buffer): number {
  const path = join(dir, 'mail');
  writeFileSync(path, Buffer.concat([Buffer.from(before, 'latin1'), Buffer.from(mail)]));
  const opened = openSync(path, 'r');
  const skipped = readSync(opened, Buffer.alloc(before.length), 0, before.length, null);
  expect(skipped).toBe(before.length);
  return opened;
}

/** The shared offset as the kernel reports it (Linux). */
function offsetOf(descriptor: number): number {
  const match = /^pos:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${descriptor}`, 'utf8'));
  return Number(match?.[1]);
}

/** What a caller reading on from the shared offset gets (what mailx saves to dead.letter). */
function restOf(descriptor: number): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) {
    const buffer = Buffer.alloc(64 * 1024);
    const count = readSync(descriptor, buffer, 0, buffer.length, null);
    if (count === 0) break;
    chunks.push(buffer.subarray(0, count));
  }
  return Buffer.concat(chunks);
}

async function closedPort(): Promise<number> {
  const probe = await startFakeServer({ reply: (line) => normalReply(line) });
  const port = probe.port;
  await probe.close();
  return port;
}

describe.runIf(process.platform === 'linux')('stdin is a regular file shared with the caller', () => {
  it('server down: exit 75, and the shared offset has not moved, so the caller still has the whole mail', async () => {
    fd = openAtOffset(BEFORE, MAIL);
    const port = await closedPort();
    const result = await runOutbox(['--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', 'b@example.net'], { stdinFd: fd });
    expect(result.status, result.stderr).toBe(75);
    expect(offsetOf(fd)).toBe(BEFORE.length);
    expect(restOf(fd).toString('latin1')).toBe(MAIL);
  });

  it('server up: the mail sent starts at the offset, and the offset stays there', async () => {
    fd = openAtOffset(BEFORE, MAIL);
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', 'b@example.net'], { stdinFd: fd });
    expect(result.status, result.stderr).toBe(0);
    expect(server.messages).toEqual([MAIL]);
    expect(offsetOf(fd)).toBe(BEFORE.length);
  });

  it('-t with a mail of several megabytes (many reads): all of it from the offset, recipients from its header', async () => {
    const line = `${'x'.repeat(70)}\r\n`;
    const body = line.repeat(50_000); // 3.6 MB, far more than one read
    fd = openAtOffset(BEFORE, MAIL + body);
    server = await startFakeServer({ reply: (l) => normalReply(l) });
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', '-t'], { stdinFd: fd, timeoutMs: 30_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(server.commands).toContain('RCPT TO:<b@example.net>');
    expect(server.messages).toHaveLength(1);
    expect(server.messages[0]!.length).toBe(MAIL.length + body.length);
    expect(server.messages[0] === MAIL + body).toBe(true);
    expect(offsetOf(fd)).toBe(BEFORE.length);
  });

  it('a file whose offset is at its end: an empty mail, as from an empty pipe', async () => {
    fd = openAtOffset(BEFORE, '');
    server = await startFakeServer({ reply: (l) => normalReply(l) });
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', 'b@example.net'], { stdinFd: fd });
    expect(result.status, result.stderr).toBe(0);
    expect(server.messages).toHaveLength(1);
    expect(offsetOf(fd)).toBe(BEFORE.length);
  });
});
