import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import type { HeaderBlock } from '../../src/message/header-block.js';
import { HeaderScanner } from '../../src/message/header-reader.js';
import { envelopeFromHeader, firstResentBlock, recipientsFromHeader } from '../../src/message/recipients.js';

function header(text: string): HeaderBlock {
  const scanner = new HeaderScanner();
  return (scanner.push(Buffer.from(text, 'utf8')) ?? scanner.end()).header;
}

const madness = [
  'From: "Sender, The" <sender@example.org>',
  'To: alice@example.org, "Bob (not a comment)" <bob@example.org>,',
  ' (a comment) carol@example.org (another one),',
  '\tundisclosed-recipients:;',
  'Cc: Team: dave@example.org, "Eve E." <eve@example.org>;, =?UTF-8?B?SsO2cmc=?= <joerg@example.org>',
  'cc: frank@example.org',
  'Subject: recipient madness, To: not@an.address',
  'BCC: "q u"@example.org, root, <@route.example:grace@example.org>',
  'Reply-To: reply@example.org',
  'To: alice@example.org',
  'Bcc :',
  'Bcc: Henry <henry@[192.0.2.1]>, ivan(comment)@example.org, Empty Group:;',
  '',
  'To: body@example.org',
  '',
].join('\n');

describe('recipientsFromHeader (-t)', () => {
  it('reads the "recipient madness" mail in header order, groups flattened, duplicates kept', () => {
    expect(recipientsFromHeader(header(madness))).toEqual([
      'alice@example.org',
      'bob@example.org',
      'carol@example.org',
      'dave@example.org',
      'eve@example.org',
      'joerg@example.org',
      'frank@example.org',
      '"q u"@example.org',
      'root',
      'grace@example.org',
      'alice@example.org',
      'henry@[192.0.2.1]',
      'ivan@example.org',
    ]);
  });

  it('gives nothing for a mail without recipient fields', () => {
    expect(recipientsFromHeader(header('Subject: x\n\n'))).toEqual([]);
  });

  it('uses only the first Resent block when there are Resent fields (as msmtp 1.8.23 does)', () => {
    const text = [
      'Resent-From: resender@example.org',
      'Resent-Date: Sat, 21 Nov 2026 20:45:14 +0000',
      'Resent-To: r1@example.org',
      'Resent-Cc: r2@example.org, r3@example.org',
      'Resent-Bcc: r4@example.org',
      'Received: from somewhere',
      'Resent-To: older@example.org',
      'To: original@example.org',
      'Cc: original-cc@example.org',
      '',
    ].join('\n');
    expect(recipientsFromHeader(header(text))).toEqual(['r1@example.org', 'r2@example.org', 'r3@example.org', 'r4@example.org']);
    expect(firstResentBlock(header(text)).map((f) => f.name)).toEqual([
      'Resent-From', 'Resent-Date', 'Resent-To', 'Resent-Cc', 'Resent-Bcc',
    ]);
  });

  it('takes the first Resent block even when it is below other fields', () => {
    const text = 'Received: x\nresent-to: r@example.org\nTo: t@example.org\nResent-To: later@example.org\n\n';
    expect(recipientsFromHeader(header(text))).toEqual(['r@example.org']);
  });

  it('gives no recipients for a Resent block without Resent-To/Cc/Bcc (the plain To is not used)', () => {
    expect(recipientsFromHeader(header('Resent-From: a@example.org\nTo: t@example.org\n\n'))).toEqual([]);
  });

  it('refuses an unparseable address field with E_BAD_DATA naming it and its line', () => {
    const h = header('Subject: x\nTo: ok@example.org\nCc: a@example.org, <broken@example.org\n\n');
    expect(() => recipientsFromHeader(h)).toThrow(OutboxError);
    try {
      recipientsFromHeader(h);
    } catch (error) {
      expect((error as OutboxError).code).toBe('E_BAD_DATA');
      expect((error as OutboxError).message).toMatch(/Cc header \(line 3\) is not a valid address list/);
    }
  });

  it('reads 8-bit addresses (RFC 6532) and latin1 names', () => {
    expect(recipientsFromHeader(header('To: Jörg <jörg@bücher.example>\n\n'))).toEqual(['jörg@bücher.example']);
    const latin1 = new HeaderScanner().push(Buffer.from('To: J\xf6rg <j@example.org>\n\n', 'latin1'))!.header;
    expect(recipientsFromHeader(latin1)).toEqual(['j@example.org']);
  });
});

describe('envelopeFromHeader (--read-envelope-from)', () => {
  const cases: Array<[string, string | undefined]> = [
    ['From: Alice <alice@example.org>\n\n', 'alice@example.org'],
    ['from: alice@example.org\n\n', 'alice@example.org'],
    ['From : alice@example.org\n\n', 'alice@example.org'],
    ['From: Alice <alice@example.org>, bob@example.org\nSender: bob@example.org\n\n', 'alice@example.org'],
    ['Resent-From: re@example.org\nFrom: alice@example.org\n\n', 're@example.org'],
    ['From: alice@example.org\nResent-From: re@example.org\n\n', 'alice@example.org'],
    ['From:\nResent-From: re@example.org\n\n', 're@example.org'],
    ['From: Empty Group:;\n\n', undefined],
    ['From: g: member@example.org;\n\n', 'member@example.org'],
    ['Subject: no sender\n\n', undefined],
    ['From: (just a comment)\n\n', undefined],
    ['From: "Quoted Local"@example.org\n\n', '"Quoted Local"@example.org'],
  ];
  it.each(cases)('%j → %j', (text, expected) => {
    expect(envelopeFromHeader(header(text))).toBe(expected);
  });

  it('refuses an unparseable From with E_BAD_DATA', () => {
    expect(() => envelopeFromHeader(header('From: <a@example.org\n\n'))).toThrow(/From header \(line 1\)/);
  });
});
