import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareMessage, type PrepareOptions } from '../../src/message/prepare.js';
import type { RewriteSettings } from '../../src/message/rewrite.js';

const scratch = mkdtempSync(join(tmpdir(), 'outbox-prepare-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const settings: RewriteSettings = {
  setFromHeader: 'auto',
  envelopeFrom: 'alice@example.org',
  setDateHeader: 'auto',
  setMsgidHeader: 'auto',
  removeBccHeaders: true,
  domain: 'localhost',
  host: 'mail.example.net',
  now: new Date(Date.UTC(2026, 10, 21, 20, 45, 14)),
  timeZoneOffsetMinutes: 0,
  random: () => 'fixed.id',
};

/** Feeds the mail in small pieces, as a pipe would. */
async function* pipe(mail: string | Buffer, size = 7): AsyncGenerator<Buffer> {
  const bytes = typeof mail === 'string' ? Buffer.from(mail, 'utf8') : mail;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function run(mail: string | Buffer, options: Partial<PrepareOptions> = {}) {
  const prepared = await prepareMessage(pipe(mail), { settings, spool: { tmpDir: scratch }, ...options });
  const parts: Buffer[] = [];
  for await (const chunk of prepared.spool.chunks()) parts.push(chunk);
  await prepared.spool.dispose();
  return { ...prepared, text: Buffer.concat(parts).toString('utf8') };
}

const crlf = (...lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');

/** As mutt 2.2 hands a mail to its sendmail program (LF line endings, 8bit body). */
const mutt = [
  'Date: Sat, 21 Nov 2026 21:00:00 +0100',
  'From: Mutt User <mutt-user@sender.test>',
  'To: alice@example.org, Bob <bob@example.org>',
  'Cc: carol@example.org',
  'Bcc: secret@example.org',
  'Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= from mutt',
  'Message-ID: <20261121200000.GA1234@host.sender.test>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Disposition: inline',
  'Content-Transfer-Encoding: 8bit',
  'User-Agent: Mutt/2.2.12 (2023-09-09)',
  '',
  'Grüße from mutt.',
  '.',
  '..a dotted line',
  '',
].join('\n');

/** As git send-email 2.43 writes a patch (folded Cc and References). */
const gitSendEmail = [
  'From: Dev Eloper <dev@example.org>',
  'To: list@example.org',
  'Cc: Reviewer One <r1@example.org>,',
  '\tReviewer Two <r2@example.org>',
  'Subject: [PATCH v2 1/2] message: read headers as a stream',
  'Date: Sat, 21 Nov 2026 21:00:00 +0100',
  'Message-ID: <20261121200000.12345-2-dev@example.org>',
  'X-Mailer: git-send-email 2.43.0',
  'In-Reply-To: <20261121200000.12345-1-dev@example.org>',
  'References: <20261120100000.11111-1-dev@example.org>',
  ' <20261121200000.12345-1-dev@example.org>',
  'MIME-Version: 1.0',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Read the header block as a stream.',
  '',
  'Signed-off-by: Dev Eloper <dev@example.org>',
  '---',
  ' src/message/header-reader.ts | 2 +-',
  ' 1 file changed, 1 insertion(+), 1 deletion(-)',
  '',
].join('\n');

/** As PHP 8's mail() writes to `sendmail_path -t -i`: its own To and Subject with LF, the extra headers joined by CRLF. */
const phpMail =
  'To: alice@example.org, bob@example.org\n' +
  'Subject: php test\n' +
  'From: PHP Script <php-user@sender.test>\r\nX-Mailer: PHP/8.2.7\r\nContent-Type: text/plain; charset=UTF-8\n' +
  '\n' +
  'Sent by PHP mail().\n.\nbye\n';

describe('realistic mails', () => {
  it('mutt: nothing to add, Bcc removed, recipients from the header, 8-bit', async () => {
    const result = await run(mutt, { readRecipients: true });
    expect(result.info.recipients).toEqual(['alice@example.org', 'bob@example.org', 'carol@example.org', 'secret@example.org']);
    expect(result.text).toBe(
      crlf(
        'Date: Sat, 21 Nov 2026 21:00:00 +0100',
        'From: Mutt User <mutt-user@sender.test>',
        'To: alice@example.org, Bob <bob@example.org>',
        'Cc: carol@example.org',
        'Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= from mutt',
        'Message-ID: <20261121200000.GA1234@host.sender.test>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Disposition: inline',
        'Content-Transfer-Encoding: 8bit',
        'User-Agent: Mutt/2.2.12 (2023-09-09)',
        '',
        'Grüße from mutt.',
        '.',
        '..a dotted line',
      ),
    );
    expect(result.spool.has8bit).toBe(true);
    expect(result.spool.octets).toBe(Buffer.byteLength(result.text));
  });

  it('git send-email: passed through byte for byte, with CRLF', async () => {
    const result = await run(gitSendEmail, { readRecipients: true, readEnvelopeFrom: true });
    expect(result.text).toBe(gitSendEmail.replace(/\n/g, '\r\n'));
    expect(result.info.recipients).toEqual(['list@example.org', 'r1@example.org', 'r2@example.org']);
    expect(result.info.envelopeFrom).toBe('dev@example.org');
    expect(result.spool.has8bit).toBe(false);
    expect(result.header.get('references')?.value).toBe(
      '<20261120100000.11111-1-dev@example.org> <20261121200000.12345-1-dev@example.org>',
    );
  });

  it('PHP mail() with -t and -f: Date and Message-ID added, mixed line endings made CRLF', async () => {
    const result = await run(phpMail, {
      readRecipients: true,
      settings: { ...settings, envelopeFrom: 'php-user@sender.test' },
    });
    expect(result.info.recipients).toEqual(['alice@example.org', 'bob@example.org']);
    expect(result.text).toBe(
      crlf(
        'Date: Sat, 21 Nov 2026 20:45:14 +0000',
        'Message-ID: <fixed.id@sender.test>',
        'To: alice@example.org, bob@example.org',
        'Subject: php test',
        'From: PHP Script <php-user@sender.test>',
        'X-Mailer: PHP/8.2.7',
        'Content-Type: text/plain; charset=UTF-8',
        '',
        'Sent by PHP mail().',
        '.',
        'bye',
      ),
    );
  });
});

describe('prepareMessage', () => {
  it('lets the settings depend on what the header says (account chosen by the envelope-from)', async () => {
    const seen: unknown[] = [];
    const result = await run('From: Bob <bob@work.example>\nSubject: x\n\nbody\n', {
      readEnvelopeFrom: true,
      settings: async (info) => {
        seen.push(info.envelopeFrom, info.recipients);
        return { ...settings, envelopeFrom: info.envelopeFrom ?? '', domain: 'work.example' };
      },
    });
    expect(seen).toEqual(['bob@work.example', []]);
    expect(result.text).toBe(
      crlf('Date: Sat, 21 Nov 2026 20:45:14 +0000', 'Message-ID: <fixed.id@work.example>', 'From: Bob <bob@work.example>', 'Subject: x', '', 'body'),
    );
  });

  it('does not read recipients or the sender unless asked (a broken To does not matter then)', async () => {
    const result = await run('To: <broken\n\nbody\n');
    expect(result.info.recipients).toEqual([]);
    expect(result.info.envelopeFrom).toBeUndefined();
    await expect(run('To: <broken\n\nbody\n', { readRecipients: true })).rejects.toMatchObject({ code: 'E_BAD_DATA' });
  });

  it('drops an mbox From line and inserts the separator before a headerless body', async () => {
    const result = await run('From someone Sat Nov 21 20:45:14 2026\nhello\n', { settings: { ...settings, setMsgidHeader: 'off' } });
    expect(result.header.mboxFromLine?.toString()).toBe('From someone Sat Nov 21 20:45:14 2026');
    expect(result.text).toBe(crlf('From: alice@example.org', 'Date: Sat, 21 Nov 2026 20:45:14 +0000', '', 'hello'));
  });

  it('gives the input line of the first NUL in the body', async () => {
    const result = await run('Subject: x\n\nline 3\nline\0 4\n\0\n');
    expect(result.spool.hasNul).toBe(true);
    expect(result.spool.firstNulLine).toBe(7); // in the message as sent: three lines were prepended
    expect(result.firstNulInputLine).toBe(4);
    const headerless = await run('first\nsecond \0\n', { settings: { ...settings, setMsgidHeader: 'off', setDateHeader: 'off' } });
    expect(headerless.firstNulInputLine).toBe(2);
  });

  it('refuses NUL in the header with the input line (E_BAD_DATA)', async () => {
    await expect(run('Subject: x\nX-Bad: a\0b\n\nbody\n')).rejects.toMatchObject({ code: 'E_BAD_DATA', message: /line 2/ });
  });

  it('counts the size as sent: CRLF, before dot-stuffing', async () => {
    const result = await run('Subject: x\n\n.\n..\n', { settings: { ...settings, setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' } });
    expect(result.text).toBe('Subject: x\r\n\r\n.\r\n..\r\n');
    expect(result.spool.octets).toBe(21);
    expect(result.spool.longestLine).toBe(10);
  });
});
