import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { buildDeliveryReport, deriveStatus, type DeliveryReportInput, type ReportRecipient } from '../../src/message/delivery-report.js';

const bob: ReportRecipient = {
  address: 'bob@example.com',
  action: 'failed',
  status: '5.1.1',
  reply: { code: 550, enhanced: '5.1.1', text: '5.1.1 <bob@example.com>: Recipient address rejected: User unknown in virtual mailbox table' },
  remoteMta: 'mx.example.com',
  lastAttempt: new Date(Date.UTC(2026, 11, 5, 7, 59, 30)),
};

const base: DeliveryReportInput = {
  reportingMta: 'mail.example.net',
  postmaster: 'MAILER-DAEMON@mail.example.net',
  to: 'alice@example.org',
  envid: 'QQ314159',
  arrivalDate: new Date(Date.UTC(2026, 11, 1, 8, 0, 0)),
  now: new Date(Date.UTC(2026, 11, 5, 8, 0, 0)),
  recipients: [bob],
  originalHeader: Buffer.from('From: alice@example.org\r\nTo: bob@example.com\r\nSubject: Hello\r\n'),
  originalSubject: 'Hello',
  boundary: 'BOUNDARY',
  messageId: '<report.1@mail.example.net>',
  timeZoneOffsetMinutes: 60,
};

function build(overrides: Partial<DeliveryReportInput> = {}): Buffer {
  const report = buildDeliveryReport({ ...base, ...overrides });
  expectWellFormed(report);
  return report;
}

/** Every report: CRLF only, no line over 998 octets. */
function expectWellFormed(report: Buffer): void {
  const text = report.toString('latin1');
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  expect(text.endsWith('\r\n')).toBe(true);
  for (const line of text.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
}

interface Header {
  fields: [string, string][];
  get(name: string): string | undefined;
}

/** Header lines (CRLF) into unfolded fields. */
function parseHeader(text: string): Header {
  const fields: [string, string][] = [];
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    const last = fields[fields.length - 1];
    if (/^[ \t]/.test(line) && last) last[1] += line;
    else {
      const colon = line.indexOf(':');
      expect(colon).toBeGreaterThan(0);
      fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
  }
  return { fields, get: (name) => fields.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] };
}

interface Part {
  header: Header;
  body: string;
}

interface Parsed {
  header: Header;
  boundary: string;
  parts: Part[];
}

/** Parses the report back (as UTF-8): top header, boundary, parts. */
function parse(report: Buffer): Parsed {
  const text = report.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const header = parseHeader(text.slice(0, split + 2));
  const boundary = /boundary="([^"]+)"/.exec(header.get('Content-Type') ?? '')?.[1] ?? '';
  expect(boundary).not.toBe('');
  const body = text.slice(split + 4);
  const close = `\r\n--${boundary}--\r\n`;
  expect(body.endsWith(close)).toBe(true);
  const pieces = body.slice(0, -close.length).split(`\r\n--${boundary}\r\n`);
  pieces.shift(); // the preamble
  const parts = pieces.map((piece) => {
    const end = piece.indexOf('\r\n\r\n');
    const fieldsEnd = end === -1 ? piece.length : end + 2;
    return { header: parseHeader(piece.slice(0, fieldsEnd)), body: piece.slice(fieldsEnd + 2) };
  });
  // The boundary occurs nowhere but in the delimiters.
  expect(text.split(boundary).length - 1).toBe(1 + parts.length + 1);
  return { header, boundary, parts };
}

/** A delivery-status body into its blocks of unfolded fields: per-message, then one per recipient. */
function statusBlocks(body: string): Header[] {
  return body
    .split('\r\n\r\n')
    .filter((block) => block.trim() !== '')
    .map((block) => parseHeader(block));
}

function decodeQuotedPrintable(text: string): Buffer {
  const bytes = text.replace(/=\r\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === '=') {
      out.push(parseInt(bytes.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(bytes.charCodeAt(i));
  }
  return Buffer.from(out);
}

describe('buildDeliveryReport: the golden case', () => {
  it('writes these bytes', () => {
    const expected = [
      'From: Mail Delivery System <MAILER-DAEMON@mail.example.net>',
      'To: alice@example.org',
      'Subject: Undelivered Mail Returned to Sender',
      'Date: Sat, 05 Dec 2026 09:00:00 +0100',
      'Message-ID: <report.1@mail.example.net>',
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status;',
      ' boundary="BOUNDARY"',
      '',
      'This is a MIME-encapsulated message.',
      '',
      '--BOUNDARY',
      'Content-Type: text/plain; charset=us-ascii',
      'Content-Description: Notification',
      '',
      'This is the mail delivery system at mail.example.net.',
      '',
      'Your message could not be delivered to the recipients below. The mail',
      'system has given up on it. Its header is attached.',
      '',
      'Subject: Hello',
      'Arrived: Tue, 01 Dec 2026 09:00:00 +0100',
      '',
      '<bob@example.com> (failed, 5.1.1): host mx.example.com said: 550 5.1.1',
      '    <bob@example.com>: Recipient address rejected: User unknown in',
      '    virtual mailbox table',
      '',
      '--BOUNDARY',
      'Content-Type: message/delivery-status',
      'Content-Description: Delivery report',
      '',
      'Original-Envelope-Id: QQ314159',
      'Reporting-MTA: dns; mail.example.net',
      'Arrival-Date: Tue, 01 Dec 2026 09:00:00 +0100',
      '',
      'Final-Recipient: rfc822; bob@example.com',
      'Action: failed',
      'Status: 5.1.1',
      'Remote-MTA: dns; mx.example.com',
      'Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address',
      ' rejected: User unknown in virtual mailbox table',
      'Last-Attempt-Date: Sat, 05 Dec 2026 08:59:30 +0100',
      '',
      '--BOUNDARY',
      'Content-Type: text/rfc822-headers',
      'Content-Description: Undelivered message header',
      '',
      'From: alice@example.org',
      'To: bob@example.com',
      'Subject: Hello',
      '',
      '--BOUNDARY--',
      '',
    ].join('\r\n');
    expect(build().toString('latin1')).toBe(expected);
  });
});

describe('buildDeliveryReport: structure, parsed back', () => {
  const carol: ReportRecipient = {
    address: 'carol@example.com',
    action: 'delayed',
    status: '',
    reply: { code: 451, text: 'try again later' },
    remoteMta: 'mx2.example.com',
  };
  const dave: ReportRecipient = { address: 'dave@example.com', action: 'failed', status: '', diagnostic: 'queue lifetime of 5d expired' };
  const cases: { name: string; recipients: ReportRecipient[]; subject: string; want: Record<string, string | undefined>[] }[] = [
    {
      name: 'one refused recipient',
      recipients: [bob],
      subject: 'Undelivered Mail Returned to Sender',
      want: [{ 'Final-Recipient': 'rfc822; bob@example.com', Action: 'failed', Status: '5.1.1', 'Remote-MTA': 'dns; mx.example.com' }],
    },
    {
      name: 'delayed only',
      recipients: [carol],
      subject: 'Delayed Mail (still being retried)',
      want: [{ 'Final-Recipient': 'rfc822; carol@example.com', Action: 'delayed', Status: '4.0.0', 'Diagnostic-Code': 'smtp; 451 try again later', 'Last-Attempt-Date': undefined }],
    },
    {
      name: 'failed and delayed, a local reason',
      recipients: [bob, carol, dave],
      subject: 'Undelivered Mail Returned to Sender',
      want: [
        { 'Final-Recipient': 'rfc822; bob@example.com', Status: '5.1.1' },
        { 'Final-Recipient': 'rfc822; carol@example.com', Action: 'delayed', Status: '4.0.0' },
        { 'Final-Recipient': 'rfc822; dave@example.com', Action: 'failed', Status: '5.0.0', 'Diagnostic-Code': 'X-Outbox; queue lifetime of 5d expired', 'Remote-MTA': undefined },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const report = parse(build({ recipients: c.recipients }));
      expect(report.header.get('Subject')).toBe(c.subject);
      expect(report.header.get('Auto-Submitted')).toBe('auto-replied');
      expect(report.header.get('Content-Type')).toMatch(/^multipart\/report; report-type=delivery-status; ?boundary="BOUNDARY"$/);
      expect(report.parts.map((p) => p.header.get('Content-Type'))).toEqual(['text/plain; charset=us-ascii', 'message/delivery-status', 'text/rfc822-headers']);
      const [perMessage, ...blocks] = statusBlocks(report.parts[1]?.body ?? '');
      expect(perMessage?.fields.map(([name]) => name)).toEqual(['Original-Envelope-Id', 'Reporting-MTA', 'Arrival-Date']);
      expect(blocks).toHaveLength(c.want.length);
      c.want.forEach((want, i) => {
        for (const [name, value] of Object.entries(want)) expect(blocks[i]?.get(name)).toBe(value);
      });
      for (const r of c.recipients) expect(report.parts[0]?.body).toContain(`<${r.address}> (${r.action}`);
    });
  }

  it('writes the enhanced code once, whether the reply text starts with it or not', () => {
    const cases: [{ code: number; enhanced?: string; text: string }, string][] = [
      [{ code: 550, enhanced: '5.1.1', text: '5.1.1 no such user' }, 'smtp; 550 5.1.1 no such user'],
      [{ code: 550, enhanced: '5.1.1', text: 'no such user' }, 'smtp; 550 5.1.1 no such user'],
      [{ code: 550, enhanced: '5.1.1', text: '5.1.10 odd' }, 'smtp; 550 5.1.1 5.1.10 odd'],
      [{ code: 550, text: '' }, 'smtp; 550'],
    ];
    for (const [reply, want] of cases) {
      const blocks = statusBlocks(parse(build({ recipients: [{ ...bob, reply }] })).parts[1]?.body ?? '');
      expect(blocks[1]?.get('Diagnostic-Code')).toBe(want);
    }
  });

  it('leaves Original-Envelope-Id out without an ENVID, and keeps one with blanks exactly', () => {
    const without = statusBlocks(parse(build({ envid: undefined })).parts[1]?.body ?? '')[0];
    expect(without?.get('Original-Envelope-Id')).toBeUndefined();
    const blanks = statusBlocks(parse(build({ envid: 'a  b+c=d' })).parts[1]?.body ?? '')[0];
    expect(blanks?.get('Original-Envelope-Id')).toBe('a  b+c=d');
  });

  it('draws a random boundary that occurs in no part, different each time', () => {
    const a = parse(build({ boundary: undefined }));
    const b = parse(build({ boundary: undefined }));
    expect(a.boundary).not.toBe(b.boundary);
    expect(a.boundary.length).toBeLessThanOrEqual(70);
  });

  it('refuses a given boundary that occurs in a part', () => {
    const header = Buffer.from('Subject: see --BOUNDARY here\r\n');
    expect(() => buildDeliveryReport({ ...base, originalHeader: header })).toThrow(/boundary/);
    expect(() => buildDeliveryReport({ ...base, recipients: [{ ...bob, reply: { code: 550, text: 'xBOUNDARYx' } }] })).toThrow(/boundary/);
  });

  it('generates a Message-ID in the reporting MTA\'s domain', () => {
    const id = parse(build({ messageId: undefined })).header.get('Message-ID');
    expect(id).toMatch(/^<[0-9a-z]+\.[0-9a-f]{24}@mail\.example\.net>$/);
  });

  it('keeps the original header\'s bytes, stopping at an empty line and ending the last line', () => {
    const cases: [string, string][] = [
      ['A: 1\r\nB: 2\r\n', 'A: 1\r\nB: 2\r\n'],
      ['A: 1\r\nB: 2', 'A: 1\r\nB: 2\r\n'],
      ['A: 1\nB: 2\n', 'A: 1\r\nB: 2\r\n'],
      ['A: 1\r\n\r\nbody\r\n', 'A: 1\r\n'],
      ['A: 1\r\n folded\r\n', 'A: 1\r\n folded\r\n'],
    ];
    for (const [given, kept] of cases) {
      const part = parse(build({ originalHeader: Buffer.from(given) })).parts[2];
      expect(part?.body).toBe(kept);
    }
  });
});

describe('deriveStatus', () => {
  const cases: [ReportRecipient['action'], { code: number; enhanced?: string; text: string } | undefined, string][] = [
    ['failed', { code: 550, enhanced: '5.1.1', text: 'no' }, '5.1.1'],
    ['failed', { code: 550, text: 'no' }, '5.0.0'],
    ['failed', { code: 452, enhanced: '4.2.2', text: 'full' }, '4.2.2'],
    ['delayed', { code: 421, text: 'busy' }, '4.0.0'],
    // An enhanced code whose class is not the reply's is not believed.
    ['failed', { code: 550, enhanced: '4.1.1', text: 'odd' }, '5.0.0'],
    ['failed', undefined, '5.0.0'],
    ['delayed', undefined, '4.0.0'],
  ];
  for (const [action, reply, want] of cases) {
    it(`${action} with ${reply ? `${reply.code} ${reply.enhanced ?? ''}` : 'no reply'} is ${want}`, () => {
      expect(deriveStatus(action, reply)).toBe(want);
    });
  }

  it('is used when the status is empty, and a malformed status is refused', () => {
    const blocks = statusBlocks(parse(build({ recipients: [{ ...bob, status: '' }] })).parts[1]?.body ?? '');
    expect(blocks[1]?.get('Status')).toBe('5.1.1');
    expect(() => buildDeliveryReport({ ...base, recipients: [{ ...bob, status: '5.1' }] })).toThrow(OutboxError);
  });
});

describe('buildDeliveryReport: long replies are folded', () => {
  const words = Array.from({ length: 250 }, (_, i) => `word${i}`).join(' ');
  const long = `${words} ${'z'.repeat(300)}`.slice(0, 2000);
  it('a 2,000-character reply with blanks is folded at them and unfolds to the reply', () => {
    const report = build({ recipients: [{ ...bob, reply: { code: 554, enhanced: '5.7.1', text: long } }] });
    const status = parse(report).parts[1]?.body ?? '';
    const raw = status.slice(status.indexOf('Diagnostic-Code:'), status.indexOf('Last-Attempt-Date:'));
    expect(raw.split('\r\n').length).toBeGreaterThan(20);
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(78 + 300);
    expect(statusBlocks(status)[1]?.get('Diagnostic-Code')).toBe(`smtp; 554 5.7.1 ${long}`);
  });

  it('a 2,000-character reply without a blank is cut into words that fit lines', () => {
    const solid = 'x'.repeat(2000);
    const report = build({ recipients: [{ ...bob, reply: { code: 554, text: solid } }] });
    const diagnostic = statusBlocks(parse(report).parts[1]?.body ?? '')[1]?.get('Diagnostic-Code') ?? '';
    expect(diagnostic.replace(/ /g, '')).toBe(`smtp;554${solid}`);
  });
});

describe('buildDeliveryReport: non-ASCII', () => {
  it('a non-ASCII recipient makes an international report (RFC 6533)', () => {
    const report = build({ recipients: [{ ...bob, address: '用户@例子.广告', reply: { code: 550, text: 'unknown: 用户' } }] });
    expect(report.some((byte) => byte >= 0x80)).toBe(true);
    const parsed = parse(report);
    expect(parsed.header.get('Content-Type')).toContain('report-type=global-delivery-status;');
    expect(parsed.header.get('Content-Transfer-Encoding')).toBe('8bit');
    expect(parsed.parts.map((p) => p.header.get('Content-Type'))).toEqual(['text/plain; charset=utf-8', 'message/global-delivery-status', 'text/rfc822-headers']);
    const blocks = statusBlocks(parsed.parts[1]?.body ?? '');
    expect(blocks[1]?.get('Final-Recipient')).toBe('utf-8; 用户@例子.广告');
    expect(blocks[1]?.get('Diagnostic-Code')).toBe('smtp; 550 unknown: 用户');
    expect(parsed.parts[0]?.header.get('Content-Transfer-Encoding')).toBe('quoted-printable');
    expect(decodeQuotedPrintable(parsed.parts[0]?.body ?? '').toString('utf8')).toContain('<用户@例子.广告> (failed, 5.1.1)');
  });

  it('a non-ASCII sender is written as UTF-8 in To', () => {
    const parsed = parse(build({ to: 'jürgen@example.org' }));
    expect(parsed.header.get('To')).toBe('jürgen@example.org');
    expect(parsed.header.get('Content-Type')).toContain('report-type=global-delivery-status;');
    expect(parsed.parts[1]?.header.get('Content-Type')).toBe('message/global-delivery-status');
    // Its part is 8bit, so the multipart is too (RFC 2045 §6.4).
    expect(parsed.header.get('Content-Transfer-Encoding')).toBe('8bit');
  });

  it('an ASCII report stays 7-bit: a non-ASCII reply is ? in the status part and UTF-8 in the text part', () => {
    const report = build({ recipients: [{ ...bob, reply: { code: 550, text: 'Benutzer unbekannt: Jürgen' } }], originalSubject: 'Grüße' });
    expect(report.every((byte) => byte < 0x80)).toBe(true);
    const parsed = parse(report);
    expect(statusBlocks(parsed.parts[1]?.body ?? '')[1]?.get('Diagnostic-Code')).toBe('smtp; 550 Benutzer unbekannt: J?rgen');
    expect(parsed.parts[0]?.header.get('Content-Type')).toBe('text/plain; charset=utf-8');
    const text = decodeQuotedPrintable(parsed.parts[0]?.body ?? '').toString('utf8');
    expect(text).toContain('Subject: Grüße');
    expect(text.replace(/\r\n {4}/g, ' ')).toContain('Benutzer unbekannt: Jürgen');
    for (const line of (parsed.parts[0]?.body ?? '').split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
  });

  it('an original header with 8-bit octets is returned byte for byte as message/global-headers', () => {
    const header = Buffer.concat([Buffer.from('Subject: caf'), Buffer.from([0xe9]), Buffer.from('\r\nX-Utf8: Grüße\r\n')]);
    const report = build({ originalHeader: header });
    const start = report.indexOf('\r\n\r\n', report.indexOf('Content-Type: message/global-headers')) + 4;
    expect(report.subarray(start, start + header.length)).toEqual(header);
    const parsed = parse(report);
    expect(parsed.parts[2]?.header.get('Content-Type')).toBe('message/global-headers');
    expect(parsed.parts[2]?.header.get('Content-Transfer-Encoding')).toBe('8bit');
    expect(parsed.parts[1]?.header.get('Content-Type')).toBe('message/delivery-status');
  });

  it('an original header line too long to fold is sent quoted-printable, its bytes kept', () => {
    const header = Buffer.from(`X-Long: ${'y'.repeat(2000)}\r\nX-Folded: ${'w '.repeat(600)}end\r\n`);
    const parsed = parse(build({ originalHeader: header }));
    expect(parsed.parts[2]?.header.get('Content-Transfer-Encoding')).toBe('quoted-printable');
    const decoded = decodeQuotedPrintable(parsed.parts[2]?.body ?? '').toString('latin1');
    expect(decoded.startsWith(`X-Long: ${'y'.repeat(2000)}\r\n`)).toBe(true);
    expect(decoded.replace(/\r\n /g, ' ')).toBe(header.toString('latin1'));
  });
});

describe('buildDeliveryReport: nothing from outside starts a line of its own', () => {
  const injected = /^(X-Injected|Bcc|Final-Recipient: rfc822; evil)/m;
  const freeText: [string, Partial<DeliveryReportInput>][] = [
    ['a reply text', { recipients: [{ ...bob, reply: { code: 550, text: 'no\r\nX-Injected: 1\r\n\r\nFinal-Recipient: rfc822; evil@x' } }] }],
    ['a bare LF in a reply', { recipients: [{ ...bob, reply: { code: 550, text: 'no\nBcc: victim@x' } }] }],
    ['a bare CR in a diagnostic', { recipients: [{ ...bob, reply: undefined, diagnostic: 'refused\rX-Injected: 1' }] }],
    ['a diagnostic with NUL and tabs', { recipients: [{ ...bob, reply: undefined, diagnostic: 'refused\u0000\t\nX-Injected: 1' }] }],
    ['the original subject', { originalSubject: 'Hi\r\n\r\nX-Injected: 1' }],
    ['the original subject, a delimiter in it', { boundary: undefined, originalSubject: 'Hi\r\n--=_outbox_\r\nX-Injected: 1' }],
  ];
  for (const [name, overrides] of freeText) {
    it(`${name}: its line breaks become a space`, () => {
      const report = build(overrides).toString('utf8');
      expect(report).not.toMatch(injected);
      expect(report).not.toMatch(/\u0000/);
      expect(report).toMatch(/(no|refused|Hi|--=_outbox_) X-Injected: 1|no Bcc: victim@x/);
    });
  }

  const identifiers: [string, Partial<DeliveryReportInput>][] = [
    ['a recipient address', { recipients: [{ ...bob, address: 'bob@example.com\r\nX-Injected: 1' }] }],
    ['the sender', { to: 'alice@example.org\nBcc: victim@x' }],
    ['the postmaster', { postmaster: 'MAILER-DAEMON@x\rX-Injected: 1' }],
    ['the reporting MTA', { reportingMta: 'mail.example.net\r\nX-Injected: 1' }],
    ['a remote MTA', { recipients: [{ ...bob, remoteMta: 'mx\r\nX-Injected: 1' }] }],
    ['the ENVID', { envid: 'id\r\nX-Injected: 1' }],
    ['a non-ASCII ENVID', { envid: 'idé' }],
    ['a status', { recipients: [{ ...bob, status: '5.1.1\r\nX-Injected: 1' }] }],
    ['the Message-ID', { messageId: '<a@b>\r\nX-Injected: 1' }],
    ['the boundary', { boundary: 'B\r\nX-Injected: 1' }],
    ['an empty sender (the null reverse-path)', { to: '' }],
    ['no recipients', { recipients: [] }],
    ['an invalid last-attempt date', { recipients: [{ ...bob, lastAttempt: new Date(Number.NaN) }] }],
    ['a reply code that is not one', { recipients: [{ ...bob, reply: { code: 55, text: 'x' } }] }],
  ];
  for (const [name, overrides] of identifiers) {
    it(`${name} with a line break or worse is refused`, () => {
      let error: unknown;
      try {
        buildDeliveryReport({ ...base, ...overrides });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OutboxError);
      expect((error as OutboxError).code).toBe('E_BAD_DATA');
    });
  }
});
