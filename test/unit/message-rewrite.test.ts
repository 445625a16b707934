import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { HeaderScanner } from '../../src/message/header-reader.js';
import { rewriteHeader, type RewriteSettings } from '../../src/message/rewrite.js';
import { formatDate, messageIdDomain, formatMessageId } from '../../src/message/new-fields.js';
import { decodeLocale, encodeDisplayName, localeCharset } from '../../src/message/display-name.js';

/** msmtp's defaults: set_from_header auto, set_date_header auto, set_msgid_header auto, remove_bcc_headers on, domain localhost. */
const defaults: RewriteSettings = {
  setFromHeader: 'auto',
  envelopeFrom: 'alice@example.org',
  setDateHeader: 'auto',
  setMsgidHeader: 'auto',
  removeBccHeaders: true,
  domain: 'localhost',
  host: 'mail.example.net',
  now: new Date(Date.UTC(2026, 10, 21, 20, 45, 14)),
  timeZoneOffsetMinutes: 60,
  random: () => 'unique.1',
};

const DATE = 'Date: Sat, 21 Nov 2026 21:45:14 +0100';
const MSGID = 'Message-ID: <unique.1@example.org>';

function rewrite(mail: string, changes: Partial<RewriteSettings> = {}): string {
  const scanner = new HeaderScanner();
  const result = scanner.push(Buffer.from(mail, 'utf8')) ?? scanner.end();
  return rewriteHeader(result.header, { ...defaults, ...changes }).serialize().toString('utf8');
}

const lines = (...l: string[]): string => l.map((x) => `${x}\r\n`).join('');

type Case = [title: string, mail: string, changes: Partial<RewriteSettings>, expected: string];

const cases: Case[] = [
  ['defaults: From, Date, Message-ID prepended in msmtp order', 'Subject: hi\n\nbody\n', {},
    lines('From: alice@example.org', DATE, MSGID, 'Subject: hi', '')],
  ['defaults with a complete mail: nothing added', 'From: A <a@x>\nDate: x\nMessage-ID: <m@x>\n\n', {},
    lines('From: A <a@x>', 'Date: x', 'Message-ID: <m@x>', '')],
  ['names match in any case and with obsolete blanks', 'from : A <a@x>\nDATE: x\nmessage-id: <m@x>\n\n', {},
    lines('from : A <a@x>', 'DATE: x', 'message-id: <m@x>', '')],
  ['set_from_header auto, with a full name, mail without From', 'Subject: hi\n\n', { fromFullName: 'Alice Example' },
    lines('From: Alice Example <alice@example.org>', DATE, MSGID, 'Subject: hi', '')],
  ['set_from_header auto: the full name is not used when the mail has a From', 'From: a@x\n\n', { fromFullName: 'Alice' },
    lines(DATE, MSGID, 'From: a@x', '')],
  ['set_from_header on replaces every From', 'From: a@x\nSubject: hi\nFrom: b@x\n\n', { setFromHeader: 'on' },
    lines('From: alice@example.org', DATE, MSGID, 'Subject: hi', '')],
  ['set_from_header on with a full name with specials: quoted, unlike msmtp', 'From: a@x\n\n', { setFromHeader: 'on', fromFullName: 'Doe, John' },
    lines('From: "Doe, John" <alice@example.org>', DATE, MSGID, '')],
  ['a non-ASCII full name is one RFC 2047 word, B, `utf-8` in lower case: msmtp 1.8.27+\'s bytes', '\n', { fromFullName: 'Jörg Müller' },
    lines('From: =?utf-8?B?SsO2cmcgTcO8bGxlcg==?= <alice@example.org>', DATE, MSGID, '')],
  ['a mostly ASCII full name is B-encoded too, as msmtp does', '\n', { fromFullName: 'Jürgen Großmann-Schmidt' },
    lines('From: =?utf-8?B?SsO8cmdlbiBHcm/Dn21hbm4tU2NobWlkdA==?= <alice@example.org>', DATE, MSGID, '')],
  ['a name of more than 45 UTF-8 bytes: several words of at most 75 characters, folded (msmtp: one long word)', '\n',
    { fromFullName: 'Ünïcödé Nämé Thät Ïs Löngër Thän Önë Wörd' },
    lines('From: =?utf-8?B?w5xuw69jw7Zkw6kgTsOkbcOpIFRow6R0IMOPcyBMw7ZuZ8OrciBUaMOkbiA=?=',
      ' =?utf-8?B?w5Zuw6sgV8O2cmQ=?= <alice@example.org>', DATE, MSGID, '')],
  ['set_from_header off', 'Subject: hi\n\n', { setFromHeader: 'off', fromFullName: 'Alice' },
    lines(DATE, MSGID, 'Subject: hi', '')],
  ['the null reverse-path writes no From', 'Subject: hi\n\n', { envelopeFrom: '', setFromHeader: 'on' },
    lines(DATE, 'Message-ID: <unique.1@mail.example.net>', 'Subject: hi', '')],
  ['set_date_header off', 'Subject: hi\n\n', { setDateHeader: 'off' },
    lines('From: alice@example.org', MSGID, 'Subject: hi', '')],
  ['set_msgid_header off', 'Subject: hi\n\n', { setMsgidHeader: 'off' },
    lines('From: alice@example.org', DATE, 'Subject: hi', '')],
  ['everything off, Bcc kept', 'Bcc: b@x\n\n', { setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off', removeBccHeaders: false },
    lines('Bcc: b@x', '')],
  ['remove_bcc_headers on: Bcc with its continuation lines, any case, obsolete blanks, Resent-Bcc', 
    'To: t@x\nBcc: a@x,\n  b@x\nSubject: s\nbcc : c@x\nResent-Bcc: r@x\n\tmore@x\nX: y\n\n', { setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' },
    lines('To: t@x', 'Subject: s', 'X: y', '')],
  ['remove_bcc_headers off keeps them', 'Bcc: a@x,\n  b@x\n\n', { removeBccHeaders: false, setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' },
    lines('Bcc: a@x,', '  b@x', '')],
  ['undisclosed_recipients replaces To, Cc and Bcc; placed after From, before Date',
    'To: a@x\nCc: b@x,\n c@x\nBcc: d@x\nSubject: s\n\n', { undisclosedRecipients: true },
    lines('From: alice@example.org', 'To: undisclosed-recipients:;', DATE, MSGID, 'Subject: s', '')],
  ['set_to_header on is the same', 'To: a@x\n\n', { setToHeader: 'on', setFromHeader: 'off' },
    lines('To: undisclosed-recipients:;', DATE, MSGID, '')],
  ['set_to_header auto adds the empty group when the mail has no To (Cc and Bcc as usual)', 'Cc: b@x\nBcc: c@x\n\n', { setToHeader: 'auto', setFromHeader: 'off' },
    lines('To: undisclosed-recipients:;', DATE, MSGID, 'Cc: b@x', '')],
  ['set_to_header auto leaves a mail with a To alone', 'to : a@x\nCc: b@x\n\n', { setToHeader: 'auto', setFromHeader: 'off' },
    lines(DATE, MSGID, 'to : a@x', 'Cc: b@x', '')],
  ['set_to_header off is the default', 'To: a@x\nCc: b@x\n\n', { setToHeader: 'off', setFromHeader: 'off' },
    lines(DATE, MSGID, 'To: a@x', 'Cc: b@x', '')],
  ['Message-ID domain: the domain setting when it is not localhost', 'X: y\n\n', { domain: 'client.example.com', setFromHeader: 'off', setDateHeader: 'off' },
    lines('Message-ID: <unique.1@client.example.com>', 'X: y', '')],
  ['Message-ID domain: LOCALHOST counts as localhost', 'X: y\n\n', { domain: 'LOCALHOST', setFromHeader: 'off', setDateHeader: 'off' },
    lines(MSGID, 'X: y', '')],
  ['a mail that is only headers gets no separator', 'Subject: x', { setFromHeader: 'off' }, lines(DATE, MSGID, 'Subject: x')],
  ['a mail without headers gets the separator before its first line', 'hello\n', {},
    lines('From: alice@example.org', DATE, MSGID, '')],
  ['an empty mail', '', {}, lines('From: alice@example.org', DATE, MSGID)],
];

describe('rewriteHeader, each setting with exact bytes', () => {
  it.each(cases)('%s', (_title, mail, changes, expected) => {
    expect(rewrite(mail, changes)).toBe(expected);
  });
});

describe('header lines over 998 octets', () => {
  it('are folded at the last blank that keeps each line within 998 octets', () => {
    const words = Array.from({ length: 300 }, (_, i) => `w${String(i).padStart(3, '0')}`);
    const out = rewrite(`X-Long: ${words.join(' ')}\n\n`, { setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' });
    const outLines = out.split('\r\n');
    expect(outLines.every((l) => l.length <= 998)).toBe(true);
    expect(outLines.length).toBeGreaterThan(3);
    expect(out.replace(/\r\n(?=[ \t])/g, '')).toBe(`X-Long: ${words.join(' ')}\r\n\r\n`); // unfolding gives it back
  });

  it('are folded in a field whose folds end with CR CR LF', () => {
    const long = ` ${'word '.repeat(250)}end`;
    const out = rewrite(`X-Long: a\r\r\n${long}\r\r\n\r\r\n`, { setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' });
    expect(out.startsWith('X-Long: a\r\n word')).toBe(true);
    expect(out.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    expect(out.replace(/\r\n(?=[ \t])/g, '')).toBe(`X-Long: a${long}\r\n\r\n`);
  });

  it('are left as they are when there is no blank to fold at', () => {
    const long = `X-Long: ${'a'.repeat(1200)}`;
    expect(rewrite(`${long}\n\n`, { setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' })).toBe(`${long}\r\n\r\n`);
  });

  it('leave shorter lines untouched', () => {
    const line = `X-Long: ${'a '.repeat(494)}a`;
    expect(line.length).toBe(997);
    expect(rewrite(`${line}\n\n`, { setFromHeader: 'off', setDateHeader: 'off', setMsgidHeader: 'off' })).toBe(`${line}\r\n\r\n`);
  });
});

describe('no header injection', () => {
  const bad = ['a\r\nBcc: x@evil', 'a\nX: y', 'a\rX: y', 'a\0b', 'a\u0007b'];
  it.each(bad)('a full name %j is E_USAGE', (name) => {
    expect(() => rewrite('\n', { fromFullName: name })).toThrow(OutboxError);
    try {
      rewrite('\n', { fromFullName: name });
    } catch (error) {
      expect((error as OutboxError).code).toBe('E_USAGE');
    }
  });

  it.each(bad)('an envelope-from %j is E_USAGE', (address) => {
    expect(() => rewrite('\n', { envelopeFrom: address })).toThrow(/envelope-from address/);
  });

  it('a Message-ID domain with a line break or that is not a domain is E_USAGE', () => {
    expect(() => rewrite('\n', { domain: 'x\r\nBcc: evil' })).toThrow(OutboxError);
    expect(() => rewrite('\n', { domain: 'two words' })).toThrow(/not a domain name/);
    expect(() => formatMessageId('u', 'a>b')).toThrow(OutboxError);
  });

  it('a TAB in a name is kept, quoted', () => {
    expect(rewrite('\n', { fromFullName: 'A\tB', setDateHeader: 'off', setMsgidHeader: 'off' })).toBe(lines('From: "A\tB" <alice@example.org>', ''));
  });
});

describe('formatDate (strftime %a, %d %b %Y %T %z, C locale)', () => {
  const cases: Array<[Date, number, string]> = [
    [new Date(Date.UTC(2026, 10, 21, 20, 45, 14)), 0, 'Sat, 21 Nov 2026 20:45:14 +0000'],
    [new Date(Date.UTC(2026, 1, 2, 3, 4, 5)), -330, 'Sun, 01 Feb 2026 21:34:05 -0530'],
    [new Date(Date.UTC(2025, 11, 31, 23, 30, 0)), 60, 'Thu, 01 Jan 2026 00:30:00 +0100'],
    [new Date(Date.UTC(2024, 1, 29, 12, 0, 9)), 345, 'Thu, 29 Feb 2024 17:45:09 +0545'],
    [new Date(Date.UTC(2026, 6, 4, 0, 0, 0)), -600, 'Fri, 03 Jul 2026 14:00:00 -1000'],
  ];
  it.each(cases)('%s at %i minutes', (date, offset, expected) => {
    expect(formatDate(date, offset)).toBe(expected);
  });

  it('uses the local zone by default', () => {
    const now = new Date();
    const offset = -now.getTimezoneOffset();
    expect(formatDate(now)).toBe(formatDate(now, offset));
  });
});

describe('messageIdDomain (msmtp: domain unless localhost, else the sender\'s domain, else the host)', () => {
  const cases: Array<[string, string, string, string]> = [
    ['client.example', 'a@sender.example', 'smtp.example', 'client.example'],
    ['localhost', 'a@sender.example', 'smtp.example', 'sender.example'],
    ['', 'a@sender.example', 'smtp.example', 'sender.example'],
    ['localhost', '"odd@local"@sender.example', 'smtp.example', 'sender.example'],
    ['localhost', 'root', 'smtp.example', 'smtp.example'],
    ['localhost', '', 'smtp.example', 'smtp.example'],
    ['localhost', '', '', 'localhost'],
  ];
  it.each(cases)('domain %j, from %j, host %j → %j', (domain, envelopeFrom, host, expected) => {
    expect(messageIdDomain({ domain, envelopeFrom, host })).toBe(expected);
  });

  it('the default unique part is a dot-atom and differs each time', () => {
    const a = rewrite('\n', { random: undefined });
    const b = rewrite('\n', { random: undefined });
    const id = /Message-ID: <([^@]+)@example\.org>/;
    expect(a).toMatch(id);
    expect(id.exec(a)?.[1]).not.toBe(id.exec(b)?.[1]);
  });
});

describe('encodeDisplayName', () => {
  const cases: Array<[string, string[]]> = [
    ['John Smith', ['John', 'Smith']],
    ["O'Brien", ["O'Brien"]],
    ['John Q. Public', ['"John Q. Public"']],
    ['Doe, John', ['"Doe, John"']],
    ['Say "hi" \\o/', ['"Say \\"hi\\" \\\\o/"']],
    ['two  spaces', ['"two  spaces"']],
    [' leading', ['" leading"']],
    ['=?UTF-8?Q?looks_encoded?=', ['"=?UTF-8?Q?looks_encoded?="']],
    ['(comment)', ['"(comment)"']],
    ['José', ['=?utf-8?B?Sm9zw6k=?=']],
    ['Émile, Zola', ['=?utf-8?B?w4ltaWxlLCBab2xh?=']],
    ['Test Üser', ['=?utf-8?B?VGVzdCDDnHNlcg==?=']], // msmtp's tests/test-header-handling.sh expects exactly this
    ['Jürgen Großmann-Schmidt', ['=?utf-8?B?SsO8cmdlbiBHcm/Dn21hbm4tU2NobWlkdA==?=']],
    ['é'.repeat(22) + 'a', [`=?utf-8?B?${Buffer.from('é'.repeat(22) + 'a').toString('base64')}?=`]], // 45 bytes: still one word (72 characters)
    ['é'.repeat(23), [`=?utf-8?B?${Buffer.from('é'.repeat(22)).toString('base64')}?=`, '=?utf-8?B?w6k=?=']], // 46 bytes: two
  ];
  it.each(cases)('%j → %j', (name, words) => {
    expect(encodeDisplayName(name)).toEqual(words);
  });

  it('cuts long names into encoded words of at most 75 characters, never inside a character', () => {
    const name = 'Ωμέγα '.repeat(20) + '😀'.repeat(30);
    const words = encodeDisplayName(name);
    expect(words.length).toBeGreaterThan(3);
    for (const word of words) expect(word.length).toBeLessThanOrEqual(75);
    const decoded = words.map((w) => {
      const [, text] = /^=\?utf-8\?B\?(.*)\?=$/.exec(w)!.map(String) as [string, string];
      const bytes = Buffer.from(text, 'base64');
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes); // each word holds whole characters
    });
    expect(decoded.join('')).toBe(name);
  });
});

describe('names in the locale\'s character set', () => {
  it('localeCharset reads LC_ALL, LC_CTYPE, LANG in that order; C and no charset mean UTF-8', () => {
    expect(localeCharset({ LANG: 'de_DE.ISO-8859-15@euro' })).toBe('ISO-8859-15');
    expect(localeCharset({ LC_ALL: 'fr_FR.ISO-8859-1', LANG: 'de_DE.UTF-8' })).toBe('ISO-8859-1');
    expect(localeCharset({ LC_ALL: '', LC_CTYPE: 'ja_JP.eucJP', LANG: 'C' })).toBe('eucJP');
    expect(localeCharset({ LANG: 'C' })).toBe('UTF-8');
    expect(localeCharset({})).toBe('UTF-8');
  });

  it('decodeLocale turns bytes in the locale\'s charset into text', () => {
    expect(decodeLocale(Buffer.from([0x4a, 0xf6, 0x72, 0x67]), 'ISO-8859-1')).toBe('Jörg');
    expect(decodeLocale(Buffer.from([0xa4]), 'ISO-8859-15')).toBe('€');
    expect(decodeLocale(Buffer.from([0xc6, 0xfc, 0xcb, 0xdc]), 'EUC-JP')).toBe('日本');
    expect(decodeLocale(Buffer.from('Jörg'), 'UTF-8')).toBe('Jörg');
  });

  it('decodeLocale reads a string of latin1 code units as bytes, and leaves real text alone', () => {
    expect(decodeLocale('J\xf6rg', 'ISO-8859-1')).toBe('Jörg');
    expect(decodeLocale('\xc3\xb6', 'windows-1252')).toBe('Ã¶');
    expect(decodeLocale('Jörg', 'UTF-8')).toBe('Jörg');
    expect(decodeLocale('日本', 'EUC-JP')).toBe('日本');
  });

  it('decodeLocale takes another decoder (iconv-lite, say) and refuses what cannot be read', () => {
    const upper = (bytes: Uint8Array, charset: string): string | undefined =>
      charset === 'X-TEST' ? Buffer.from(bytes).toString('latin1').toUpperCase() : undefined;
    expect(decodeLocale(Buffer.from('abc'), 'X-TEST', upper)).toBe('ABC');
    expect(() => decodeLocale(Buffer.from('abc'), 'X-UNKNOWN', upper)).toThrow(/character set X-UNKNOWN/);
    expect(() => decodeLocale(Buffer.from([0xff]), 'UTF-8')).toThrow(OutboxError);
  });
});
