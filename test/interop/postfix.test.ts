/**
 * outbox through a real Postfix (plain listener): what arrives in the
 * mailboxes, byte for byte, and the exit status for refusals. Where msmtp is
 * run beside outbox, it is the reference for the exit status.
 */
import { describe, expect, it } from 'vitest';
import {
  asStored,
  headerValue,
  interopSetup,
  SENDER,
  sendWithMsmtp,
  sendWithOutbox,
  settledMail,
  takeLeadingHeaders,
  testMail,
  uniqueId,
  waitForMail,
  withoutServerHeaders,
} from './helpers.js';

const setup = interopSetup();
const { alice, bob, carol } = setup.users;
const NOBODY = `no-such-user@${setup.domain}`;

describe('outbox → Postfix', () => {
  it('delivers a mail whose bytes arrive as sent, apart from the headers Postfix puts on top', async () => {
    const id = uniqueId('exact');
    const mail = testMail(id, {
      body: [
        'A plain line.',
        '.A line that starts with a dot',
        '..two dots',
        '.',
        'Trailing spaces   ',
        '\ttab first',
        '',
        'The end.',
        '',
      ].join('\r\n'),
    });
    const result = await sendWithOutbox([alice], mail);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);

    const [stored] = await waitForMail('postfix', alice, id);
    const { removed, rest } = takeLeadingHeaders(stored!.raw);
    expect(rest.toString('latin1')).toBe(asStored(mail).toString('latin1'));
    // What Postfix added, and nothing else: the envelope as outbox gave it.
    expect(removed.map((h) => h.slice(0, h.indexOf(':')))).toEqual(['Return-Path', 'X-Original-To', 'Delivered-To', 'Received']);
    expect(removed[0]).toBe(`Return-Path: <${SENDER}>`);
    expect(removed[2]).toBe(`Delivered-To: ${alice}`);
    expect(removed[3]).toMatch(/^Received: from localhost \(localhost \[127\.0\.0\.1\]\)\n\tby postfix\.interop\.test \(Postfix\) with ESMTP id /);
  });

  it('streams a 600 KB mail with dot lines at every offset and it arrives byte for byte', async () => {
    const id = uniqueId('large');
    const lines: string[] = [];
    for (let i = 0; lines.join('\r\n').length < 600_000; i++) {
      // Lengths cycle so that dots and line ends fall at every position of outbox's read chunks.
      const filler = 'x'.repeat(i % 157);
      lines.push(i % 3 === 0 ? `.${filler}` : i % 7 === 0 ? '.' : i % 11 === 0 ? `..${filler}` : `${i} ${filler}`);
    }
    const mail = testMail(id, { body: `${lines.join('\r\n')}\r\n` });
    const result = await sendWithOutbox([bob], mail);
    expect(result.status).toBe(0);
    const [stored] = await waitForMail('postfix', bob, id);
    expect(withoutServerHeaders(stored!.raw).equals(asStored(mail))).toBe(true);
  });

  it('a mail that comes down a slow pipe in pieces, split before dots and between CR and LF, arrives byte for byte', async () => {
    const id = uniqueId('pieces');
    // Each piece is read on its own (a pause follows each), so the pieces are
    // outbox's read chunks: dots at chunk starts, CRLF split across chunks, a
    // lone "." chunk, and a last line without newline that is just ".".
    const pieces = [
      testMail(id).replace(/\r\n\r\n.*$/s, '\r'), '\n\r\n',
      'first line\r', '\n', '.dot at a chunk start\r\n', '.', '\r\n', '..', 'two dots\r\n',
      'unix line\n', '.unix dot line\n', 'text', '\r\n', '.\r', '\n', 'last line\r\n', '.',
    ];
    const result = await sendWithOutbox([alice], { pieces, pauseMs: 25 });
    expect(result.status, result.stderr).toBe(0);
    const [stored] = await waitForMail('postfix', alice, id);
    const sent = pieces.join('').replace(/\r?\n/g, '\n');
    expect(withoutServerHeaders(stored!.raw).toString('latin1')).toBe(`${sent}\n`);
  });

  it('delivers to several recipients, given as separate arguments and as one address list; each gets one copy', async () => {
    const id = uniqueId('several');
    const mail = testMail(id, { to: `${alice}, ${bob}, ${carol}` });
    const result = await sendWithOutbox([alice, `Bob <${bob}>, ${carol}`], mail);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    for (const user of [alice, bob, carol]) {
      const [stored] = await waitForMail('postfix', user, id);
      expect(headerValue(stored!.raw, 'Delivered-To')).toBe(user);
      expect(withoutServerHeaders(stored!.raw).equals(asStored(mail))).toBe(true);
    }
    for (const user of [alice, bob, carol]) expect(await settledMail('postfix', user, id)).toHaveLength(1);
  });

  it('a refused recipient: exit 65 (EX_DATAERR) like msmtp, with Postfix\'s 550, and nobody gets the mail', async () => {
    const id = uniqueId('refused');
    const mail = testMail(id, { to: `${alice}, ${NOBODY}` });
    const outbox = await sendWithOutbox([alice, NOBODY], mail);
    expect(outbox.status).toBe(65);
    expect(outbox.stderr).toContain(NOBODY);
    expect(outbox.stderr).toMatch(/550 5\.1\.1 .*User unknown in virtual mailbox table/);

    const msmtp = await sendWithMsmtp([alice, NOBODY], mail);
    expect(msmtp.status).toBe(65);
    expect(await settledMail('postfix', alice, id)).toHaveLength(0);
  });

  it('a refused recipient listed first: the good one after it gets nothing either', async () => {
    const id = uniqueId('refused-first');
    const outbox = await sendWithOutbox([NOBODY, bob], testMail(id));
    expect(outbox.status).toBe(65);
    expect(await settledMail('postfix', bob, id)).toHaveLength(0);
  });

  it('a mail over message_size_limit: outbox refuses it before MAIL (65); msmtp sends it all and gets 552 (69); nobody gets it', async () => {
    const id = uniqueId('too-big');
    const line = `${'y'.repeat(76)}\r\n`;
    const mail = testMail(id, { body: line.repeat(Math.ceil((setup.postfix.sizeLimit * 1.5) / line.length)) });
    const outbox = await sendWithOutbox([alice], mail, { extra: ['-d'] });
    // Postfix advertises "SIZE <message_size_limit>"; outbox compares before
    // MAIL (RFC 1870 §4) and sends nothing of the mail. msmtp ignores SIZE,
    // sends all the data and is refused after the final dot.
    expect(outbox.stdout).toMatch(new RegExp(`^<-- 250[- ]SIZE ${setup.postfix.sizeLimit}$`, 'm'));
    expect(outbox.status).toBe(65);
    expect(outbox.stderr).toContain(`more than the server's limit of ${setup.postfix.sizeLimit} octets`);
    expect(outbox.stdout).not.toMatch(/^--> MAIL FROM/m);
    expect(outbox.stdout).not.toMatch(/^--> (\[message data|BDAT)/m);

    const msmtp = await sendWithMsmtp([alice], mail);
    expect(msmtp.status).toBe(69);
    expect(await settledMail('postfix', alice, id)).toHaveLength(0);
  });

  // outbox exits 75 (EX_TEMPFAIL) for every temporary failure so that callers
  // and queues retry; msmtp exits 69 for a 4xx (docs: differences from msmtp).
  it('a temporary refusal at RCPT (450): outbox exits 75 where msmtp exits 69; nobody gets the mail', async () => {
    const id = uniqueId('rcpt-450');
    const mail = testMail(id);
    const outbox = await sendWithOutbox([bob, setup.postfix.tempfailRecipient], mail);
    expect(outbox.stderr).toContain('450 4.2.0');
    expect(outbox.status).toBe(75);
    const msmtp = await sendWithMsmtp([bob, setup.postfix.tempfailRecipient], mail);
    expect(msmtp.status).toBe(69);
    expect(await settledMail('postfix', bob, id)).toHaveLength(0);
  });

  it('a temporary refusal after the data (451): outbox exits 75 where msmtp exits 69; nobody gets the mail', async () => {
    const id = uniqueId('data-451');
    const mail = testMail(id);
    const from = setup.postfix.tempfailAfterDataSender;
    const outbox = await sendWithOutbox([carol], mail, { from, extra: ['-d'] });
    // Postfix offers CHUNKING: the mail goes as BDAT … LAST with the envelope; the refusal is its reply.
    expect(outbox.stdout).toMatch(/^--> BDAT \d+ LAST\n(?:<-- 250 [^\n]*\n)*<-- 451 4\.3\.0 /m);
    expect(outbox.stderr).toMatch(/451 4\.3\.0 .*Temporary failure after the data \(interop\)/);
    expect(outbox.status).toBe(75);
    const msmtp = await sendWithMsmtp([carol], mail, { from });
    expect(msmtp.status).toBe(69);
    expect(await settledMail('postfix', carol, id)).toHaveLength(0);
  });

  it('a permanent refusal after the data (554): outbox exits 69 like msmtp; nobody gets the mail', async () => {
    const id = uniqueId('data-554');
    const mail = testMail(id);
    const from = setup.postfix.rejectAfterDataSender;
    const outbox = await sendWithOutbox([carol], mail, { from, extra: ['-d'] });
    expect(outbox.stdout).toMatch(/^--> BDAT \d+ LAST\n(?:<-- 250 [^\n]*\n)*<-- 554 5\.7\.1 /m);
    expect(outbox.stderr).toMatch(/554 5\.7\.1 .*Refused after the data \(interop\)/);
    expect(outbox.status).toBe(69);
    const msmtp = await sendWithMsmtp([carol], mail, { from });
    expect(msmtp.status).toBe(69);
    expect(await settledMail('postfix', carol, id)).toHaveLength(0);
  });

  it('the null sender (-f "<>"), as for a bounce, arrives with Return-Path: <>', async () => {
    const id = uniqueId('null-sender');
    const result = await sendWithOutbox([carol], testMail(id), { from: '<>' });
    expect(result.status).toBe(0);
    const [stored] = await waitForMail('postfix', carol, id);
    expect(headerValue(stored!.raw, 'Return-Path')).toBe('<>');
  });
});
