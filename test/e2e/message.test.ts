/**
 * The message end to end: recipients and sender from headers, msmtp's header
 * changes, and what the server is told (SIZE, BODY=8BITMIME, SMTPUTF8),
 * checked in what the capture server received.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { OUTBOX, runOutbox } from '../helpers/run-cli.js';

let server: CaptureServer;

beforeEach(async () => {
  server = await startCaptureServer({ folder: await mkdtemp(join(tmpdir(), 'outbox-msg-')), sizeLimit: 64 * 1024 });
});
afterEach(async () => {
  await server.close();
  await rm(server.folder, { recursive: true, force: true });
});

const base = () => ['--host=127.0.0.1', `--port=${server.port}`];

async function only() {
  const messages = await server.messages();
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

describe('recipients and sender from the mail', () => {
  it('-t: the command line first, then To, Cc and Bcc in header order; Bcc removed from the mail', async () => {
    const mail = 'From: a@example.com\nTo: Team: x@example.net, "Y, Why" <y@example.net>;\nCc: z@example.net\nBcc: secret@example.net,\n  hidden@example.net\nSubject: t\n\nbody\n';
    const result = await runOutbox([...base(), '-t', '-f', 'a@example.com', 'first@example.net'], { input: mail });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const message = await only();
    expect(message.recipients).toEqual(['first@example.net', 'x@example.net', 'y@example.net', 'z@example.net', 'secret@example.net', 'hidden@example.net']);
    expect(message.raw.toString()).not.toMatch(/secret|hidden|^Bcc/im);
  });

  it('-t with Resent- headers: only the first Resent block', async () => {
    const mail = 'Resent-From: r@example.com\nResent-To: new@example.net\nResent-Date: Sat, 21 Nov 2026 12:00:00 +0000\nFrom: a@example.com\nTo: old@example.net\nSubject: t\n\nbody\n';
    const result = await runOutbox([...base(), '-t', '--read-envelope-from'], { input: mail });
    expect(result.status).toBe(0);
    const message = await only();
    expect(message.recipients).toEqual(['new@example.net']);
    expect(message.mailFrom).toBe('r@example.com'); // Resent-From comes before From
  });

  it('--read-envelope-from without a From exits 78 (EX_CONFIG: no envelope-from), as msmtp', async () => {
    const result = await runOutbox([...base(), '--read-envelope-from', 'r@example.net'], { input: 'Subject: no from\n\nx\n' });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('no envelope-from address');
    expect(result.stderr).not.toContain('--help');
    expect(await server.messages()).toEqual([]);
  });

  it('--pretend --read-envelope-from without a From says none was found and exits 0, as msmtp', async () => {
    const result = await runOutbox([...base(), '-P', '--read-envelope-from', 'r@example.net'], { input: 'Subject: no from\n\nx\n' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('envelope from address extracted from mail: (none)');
  });

  it("fetchmail's blank-separated recipients in one argument each get the mail", async () => {
    const result = await runOutbox([...base(), '-f', 'a@example.com', '--', 'alice@example.net bob@example.net'], { input: 'Subject: t\n\nx\n' });
    expect(result.status).toBe(0);
    expect((await only()).recipients).toEqual(['alice@example.net', 'bob@example.net']);
  });

  it('CR or LF inside a recipient argument is refused, never sent', async () => {
    const result = await runOutbox([...base(), '-f', 'a@example.com', 'r@example.net\r\nRCPT TO:<evil@example.net>'], { input: 'Subject: t\n\nx\n' });
    expect(result.status).toBe(64);
    expect(await server.messages()).toEqual([]);
  });

  it('-t with no recipient anywhere is a usage error', async () => {
    expect((await runOutbox([...base(), '-t', '-f', 'a@example.com'], { input: 'Subject: t\n\nx\n' })).status).toBe(64);
  });
});

describe('header changes', () => {
  it('From from -f and -F: a name with specials is quoted, a non-ASCII one encoded', async () => {
    await runOutbox([...base(), '-f', 'a@example.com', '-F', 'Doe, John', 'r@example.net'], { input: 'Subject: t\n\nx\n' });
    await runOutbox([...base(), '-f', 'a@example.com', '-F', 'Jörg Müller', 'r@example.net'], { input: 'Subject: t\n\nx\n' });
    const [quoted, encoded] = await server.messages();
    expect(quoted!.raw.toString()).toMatch(/^From: "Doe, John" <a@example\.com>\r\n/);
    // msmtp 1.8.27+'s bytes: one B word, the charset in lower case.
    expect(encoded!.raw.toString()).toMatch(/^From: =\?utf-8\?B\?SsO2cmcgTcO8bGxlcg==\?= <a@example\.com>\r\n/);
  });

  it('-F in a Latin-1 locale: the bytes are read in the locale charset, then RFC 2047-encoded', async () => {
    // The shell passes the raw byte 0xF6 (ö in ISO-8859-1), as a Latin-1 terminal would.
    const { spawn } = await import('node:child_process');
    const child = spawn('/bin/sh', ['-c', `exec "$0" "$1" --host=127.0.0.1 --port=${server.port} -f a@example.com -F "$(printf 'J\\366rg')" r@example.net`, process.execPath, OUTBOX], {
      env: { PATH: process.env['PATH'], HOME: process.env['OUTBOX_TEST_HOME'], LANG: 'de_DE.ISO-8859-1' },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.stdin.end('Subject: t\n\nx\n');
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const result = { status, stderr };
    expect(result.status, result.stderr.toString()).toBe(0);
    const from = /^From: (.*)\r\n/.exec((await only()).raw.toString())![1]!;
    expect(from).toBe('=?utf-8?B?SsO2cmc=?= <a@example.com>');
    const { parseAddressList } = await import('../../src/message/address-list.js');
    expect(parseAddressList(from)).toEqual([{ name: 'Jörg', address: 'a@example.com' }]);
  });

  it('a mail that has From, Date and Message-ID is sent unchanged', async () => {
    const mail = 'From: Me <me@example.com>\r\nDate: Sat, 21 Nov 2026 12:00:00 +0000\r\nMessage-ID: <x@example.com>\r\nSubject: t\r\n\r\nbody\r\n';
    expect((await runOutbox([...base(), '-f', 'a@example.com', 'r@example.net'], { input: mail })).status).toBe(0);
    expect((await only()).raw.toString()).toBe(mail);
  });

  it('--set-from-header=on replaces the From; undisclosed recipients replace To and Cc', async () => {
    const mail = 'From: old@example.com\nTo: t@example.net\nCc: c@example.net\nSubject: t\n\nx\n';
    const result = await runOutbox([...base(), '-f', 'new@example.com', '--set-from-header=on', '--undisclosed-recipients=on', 'r@example.net'], { input: mail });
    expect(result.status).toBe(0);
    const text = (await only()).raw.toString();
    expect(text).toMatch(/^From: new@example\.com\r\nTo: undisclosed-recipients:;\r\n/);
    expect(text).not.toContain('old@example.com');
    expect(text).not.toContain('c@example.net');
  });

  it('CR or LF smuggled into -F is refused, never a header injection', async () => {
    const result = await runOutbox([...base(), '-f', 'a@example.com', '-F', 'Eve\r\nBcc: victim@example.net', 'r@example.net'], { input: 'Subject: t\n\nx\n' });
    expect(result.status).toBe(64);
    expect(await server.messages()).toEqual([]);
  });
});

describe('what the server is told', () => {
  it('SIZE and BODY=8BITMIME on MAIL for an 8-bit mail', async () => {
    const mail = Buffer.from('From: a@example.com\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <8@example.com>\nSubject: 8bit\n\nGr\xfc\xdfe\n', 'latin1');
    expect((await runOutbox([...base(), '-f', 'a@example.com', 'r@example.net'], { input: mail })).status).toBe(0);
    const message = await only();
    expect(message.mailParams).toMatchObject({ SIZE: String(mail.length + 6), BODY: '8BITMIME' });
  });

  it("a mail over the server's SIZE is refused before DATA (exit 65)", async () => {
    const big = `Subject: big\n\n${'x'.repeat(70)}\n`.repeat(1000);
    const result = await runOutbox(['-d', ...base(), '-f', 'a@example.com', 'r@example.net'], { input: big });
    expect(result.status).toBe(65);
    expect(result.stderr).toContain("more than the server's limit");
    expect(result.stdout).not.toContain('--> MAIL');
    expect(await server.messages()).toEqual([]);
  });

  it('SMTPUTF8 when an address is not ASCII', async () => {
    const result = await runOutbox([...base(), '-f', 'a@example.com', 'jörg@bücher.example'], { input: 'Subject: t\n\nx\n' });
    expect(result.status).toBe(0);
    const message = await only();
    expect(message.recipients).toEqual(['jörg@bücher.example']);
    expect(Object.keys(message.mailParams)).toContain('SMTPUTF8');
  });

  it('a NUL byte is refused before anything is sent (exit 65)', async () => {
    const result = await runOutbox([...base(), '-f', 'a@example.com', 'r@example.net'], { input: Buffer.from('Subject: t\n\nline one\nnul \0 here\n') });
    expect(result.status).toBe(65);
    expect(result.stderr).toContain('NUL byte (line 4)');
  });
});
