/**
 * The bounce: an RFC 3464 delivery status notification in an RFC 6522
 * multipart/report, sent by the queue to the envelope sender (with the null
 * reverse-path) when it gives up on recipients or reports them delayed.
 *
 * ```
 * From: Mail Delivery System <MAILER-DAEMON@host>   To, Subject, Date, Message-ID,
 * Auto-Submitted: auto-replied (RFC 3834)            MIME-Version, Content-Type
 *   1. text/plain: for people, each recipient with the server's reply
 *   2. message/delivery-status: per-message fields, then one block per recipient
 *   3. text/rfc822-headers: the original header block, its bytes kept
 * ```
 *
 * - **7-bit or international.** The report is 7-bit unless an address (the
 *   sender, the postmaster, a recipient) or a host name in it is non-ASCII,
 *   or the original header holds 8-bit octets. A non-ASCII address makes it
 *   international (RFC 6533): `utf-8;` address types, UTF-8 in the header
 *   (RFC 6532), `message/global-delivery-status` with report-type
 *   `global-delivery-status`; 8-bit octets in the original header make part 3
 *   `message/global-headers`. **A report with any octet above 127 must be sent
 *   with SMTPUTF8 (and BODY=8BITMIME)**, never downgraded by the sender.
 * - **Free text** (a reply's text, a local diagnostic, the original subject)
 *   is written with every run of control characters, CR and LF first, as one
 *   space: a server's reply must not stop a bounce, nor inject a line. In a
 *   7-bit delivery-status part its non-ASCII characters become `?`; the
 *   text part keeps them (UTF-8, quoted-printable).
 * - **Identifiers** (addresses, host names, the ENVID, a status, the boundary
 *   or Message-ID given for tests) with a control character, CR and LF above
 *   all, are refused with OutboxError('E_BAD_DATA'): they were checked before
 *   the mail was queued, so one here means corrupt data.
 * - **ENVID** is the decoded value (as `-V` gives it and the queue stores it;
 *   the MAIL command xtext-encodes it) and is written as it is (RFC 3461 §6.3:
 *   its xtext decoded). RFC 3461 §4.4 allows only printable ASCII; anything
 *   else is refused.
 * - **Lines**: CRLF throughout, header fields folded at blanks near 78
 *   columns; a word too long for a line (998 octets, RFC 5322 §2.1.1) is cut
 *   by a fold. The original header's over-long lines are folded at blanks;
 *   one that cannot be makes part 3 quoted-printable, its bytes still kept.
 */
import { randomBytes } from './random.js';
import { OutboxError } from '../errors.js';
import { foldWords } from './display-name.js';
import { fieldBytes, makeField, type HeaderField } from './header-block.js';
import { LineEndingNormalizer } from './line-endings.js';
import { MAX_LINE_OCTETS, foldLine } from './long-lines.js';
import { formatDate, formatMessageId, fromField, randomMessageIdPart } from './new-fields.js';
import { asciiOnly, boundedWords, isAscii, oneLine, quotedPrintable, wrap } from './report-text.js';

export interface ReportReply {
  readonly code: number;
  /** RFC 3463 enhanced status code, e.g. '5.1.1'. */
  readonly enhanced?: string;
  /** The reply's text, its lines joined (a leading enhanced code may be kept). */
  readonly text: string;
}

export interface ReportRecipient {
  /** The forward-path as sent (may be SMTPUTF8 / non-ASCII). */
  readonly address: string;
  readonly action: 'failed' | 'delayed';
  /** RFC 3463 code, e.g. '5.1.1'; '' derives it from the reply and action (`deriveStatus`). */
  readonly status: string;
  /** The server's last reply, if any. */
  readonly reply?: ReportReply;
  /** A local reason when there is no reply ("queue lifetime of 5d expired", "connection refused"). */
  readonly diagnostic?: string;
  /** The server's host name. */
  readonly remoteMta?: string;
  readonly lastAttempt?: Date;
}

export interface DeliveryReportInput {
  /** Our host name (the EHLO domain). */
  readonly reportingMta: string;
  /** The report's From address, e.g. 'MAILER-DAEMON@host'. */
  readonly postmaster: string;
  /** The original envelope sender. */
  readonly to: string;
  /** The ENVID, decoded from xtext (printable ASCII). */
  readonly envid?: string;
  readonly arrivalDate: Date;
  readonly now: Date;
  readonly recipients: readonly ReportRecipient[];
  /** The original mail's header block, CRLF, without the blank line (one after it is dropped). */
  readonly originalHeader: Uint8Array;
  /** The original Subject, decoded, for the text part. */
  readonly originalSubject?: string;
  /** For tests; random otherwise. */
  readonly boundary?: string;
  /** The whole msg-id, `<left@right>`, for tests; random otherwise. */
  readonly messageId?: string;
  /** The zone of the dates, minutes east of UTC; the local zone otherwise. */
  readonly timeZoneOffsetMinutes?: number;
}

const CRLF = '\r\n';
const STATUS = /^[45]\.\d{1,3}\.\d{1,3}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Longest word in a header field we write, in octets: with the fold's blank, well inside 998. */
const MAX_WORD = 900;
/** The text part's lines: short enough that quoted-printable rarely has to break them. */
const TEXT_WIDTH = 72;

/** RFC 3463 status for a recipient: the reply's enhanced code when its class is the reply's, else `4.0.0`/`5.0.0` from the reply, else from the action. */
export function deriveStatus(action: ReportRecipient['action'], reply?: ReportReply): string {
  if (reply) {
    const cls = String(Math.floor(reply.code / 100));
    if (reply.enhanced !== undefined && STATUS.test(reply.enhanced) && reply.enhanced.startsWith(cls)) return reply.enhanced;
    if (cls === '4' || cls === '5') return `${cls}.0.0`;
  }
  return action === 'failed' ? '5.0.0' : '4.0.0';
}

function refuse(what: string, value: string, problem: string): never {
  throw new OutboxError('E_BAD_DATA', `refusing to write a delivery report whose ${what} ${JSON.stringify(value)} ${problem}`);
}

/** An identifier: not empty, no control characters (no line breaks). */
function identifier(what: string, value: string): string {
  if (value === '') refuse(what, value, 'is empty');
  if (CONTROL.test(value)) refuse(what, value, 'contains a control character');
  return value;
}

interface Part {
  readonly fields: readonly HeaderField[];
  readonly body: Buffer;
}

/** A header field from words, folded (RFC 5322 §2.2.3) before a word that would pass 78 columns. */
function field(name: string, words: readonly string[]): HeaderField {
  return makeField(name, foldWords(`${name}: `, words));
}

/** A field whose value is free text: one line, bounded words, folded. */
function textField(name: string, lead: readonly string[], text: string): HeaderField {
  return field(name, [...lead, ...boundedWords(text, MAX_WORD)]);
}

function serialize(fields: readonly HeaderField[]): Buffer {
  return Buffer.concat(fields.map(fieldBytes));
}

function typedAddress(address: string): string[] {
  return [isAscii(address) ? 'rfc822;' : 'utf-8;', address];
}

/** `550 5.1.1 text`: the code, the enhanced code unless the text starts with it, the text. */
function replyWords(reply: ReportReply): string {
  const code = Number.isInteger(reply.code) && reply.code >= 200 && reply.code <= 599 ? String(reply.code) : refuse('reply code', String(reply.code), 'is not an SMTP reply code');
  const text = oneLine(reply.text);
  const e = reply.enhanced;
  const enhanced = e !== undefined && STATUS.test(e) && text !== e && !text.startsWith(`${e} `) ? `${e} ` : '';
  return `${code} ${enhanced}${text}`.trim();
}

function statusPart(input: DeliveryReportInput, global: boolean): Part {
  const date = (d: Date): string => reportDate(d, input.timeZoneOffsetMinutes);
  const text = (t: string): string => (global ? t : asciiOnly(t));
  const perMessage: HeaderField[] = [];
  if (input.envid !== undefined) {
    if (!/^[\x20-\x7e]+$/.test(input.envid)) refuse('ENVID', input.envid, 'is not printable ASCII (RFC 3461 §4.4)');
    // One word, kept exactly (the envelope-id is case- and blank-sensitive, RFC 3464 §2.2.1).
    if (input.envid.length > MAX_WORD) refuse('ENVID', input.envid, `is longer than ${MAX_WORD} characters`);
    perMessage.push(field('Original-Envelope-Id', [input.envid]));
  }
  perMessage.push(field('Reporting-MTA', ['dns;', input.reportingMta]), field('Arrival-Date', [date(input.arrivalDate)]));
  const blocks = input.recipients.map((r) => {
    const fields = [field('Final-Recipient', typedAddress(r.address)), field('Action', [r.action]), field('Status', [statusOf(r)])];
    if (r.remoteMta !== undefined) fields.push(field('Remote-MTA', ['dns;', r.remoteMta]));
    if (r.reply) fields.push(textField('Diagnostic-Code', ['smtp;'], text(replyWords(r.reply))));
    else if (r.diagnostic !== undefined && oneLine(r.diagnostic) !== '') fields.push(textField('Diagnostic-Code', ['X-Outbox;'], text(oneLine(r.diagnostic))));
    if (r.lastAttempt) fields.push(field('Last-Attempt-Date', [date(r.lastAttempt)]));
    return serialize(fields);
  });
  const body = Buffer.concat([serialize(perMessage), ...blocks.flatMap((block) => [Buffer.from(CRLF), block])]);
  const type = global ? 'message/global-delivery-status' : 'message/delivery-status';
  const fields = [makeField('Content-Type', type), makeField('Content-Description', 'Delivery report')];
  if (global) fields.push(makeField('Content-Transfer-Encoding', '8bit'));
  return { fields, body };
}

/** RFC 5322 §3.3 date-time; an invalid Date is refused rather than written as `NaN`. */
function reportDate(d: Date, offsetMinutes: number | undefined): string {
  if (Number.isNaN(d.getTime())) refuse('date', String(d), 'is not a valid date');
  return formatDate(d, offsetMinutes);
}

function statusOf(r: ReportRecipient): string {
  if (r.status === '') return deriveStatus(r.action, r.reply);
  if (!STATUS.test(r.status)) refuse(`status of ${r.address}`, r.status, 'is not an RFC 3463 status code for a failure or delay');
  return r.status;
}

function humanPart(input: DeliveryReportInput): Part {
  const failed = input.recipients.filter((r) => r.action === 'failed').length;
  const all = failed === input.recipients.length;
  const lines = [`This is the mail delivery system at ${input.reportingMta}.`, ''];
  const summary =
    failed === 0
      ? 'Your message has not been delivered yet to the recipients below. The mail system is still trying; you do not need to send it again.'
      : all
        ? 'Your message could not be delivered to the recipients below. The mail system has given up on it. Its header is attached.'
        : 'Your message could not be delivered to the recipients marked "failed" below, and has not been delivered yet to those marked "delayed". Its header is attached.';
  lines.push(...wrap(summary, TEXT_WIDTH));
  lines.push('');
  if (input.originalSubject !== undefined) lines.push(...wrap(`Subject: ${oneLine(input.originalSubject)}`, TEXT_WIDTH, '    '));
  lines.push(`Arrived: ${reportDate(input.arrivalDate, input.timeZoneOffsetMinutes)}`, '');
  for (const r of input.recipients) {
    const said = r.reply ? `${r.remoteMta !== undefined ? `host ${r.remoteMta}` : 'the server'} said: ${replyWords(r.reply)}` : oneLine(r.diagnostic ?? '');
    const reason = said === '' ? '' : `: ${said}`;
    lines.push(...wrap(`<${r.address}> (${r.action}, ${statusOf(r)})${reason}`, TEXT_WIDTH, '    '));
  }
  const text = Buffer.from(lines.map((line) => line + CRLF).join(''), 'utf8');
  const ascii = text.every((byte) => byte < 0x80);
  const fields = [makeField('Content-Type', `text/plain; charset=${ascii ? 'us-ascii' : 'utf-8'}`), makeField('Content-Description', 'Notification')];
  if (ascii) return { fields, body: text };
  return { fields: [...fields, makeField('Content-Transfer-Encoding', 'quoted-printable')], body: quotedPrintable(text) };
}

/** The original header: CRLF line endings, up to its first empty line, over-long lines folded at blanks. */
function originalHeaderLines(header: Uint8Array): Buffer[] {
  const normalizer = new LineEndingNormalizer();
  const bytes = Buffer.concat([normalizer.push(Buffer.from(header)), normalizer.end()]);
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = bytes.indexOf(CRLF); i !== -1; i = bytes.indexOf(CRLF, start)) {
    const line = bytes.subarray(start, i);
    if (line.length === 0) break;
    lines.push(...foldLine(line));
    start = i + 2;
  }
  return lines;
}

function headersPart(header: Uint8Array): Part {
  const lines = originalHeaderLines(header);
  const body = Buffer.concat(lines.flatMap((line) => [line, Buffer.from(CRLF)]));
  const eightBit = body.some((byte) => byte >= 0x80);
  const type = eightBit ? 'message/global-headers' : 'text/rfc822-headers';
  const fields = [makeField('Content-Type', type), makeField('Content-Description', 'Undelivered message header')];
  if (lines.some((line) => line.length > MAX_LINE_OCTETS || line.includes(0))) {
    return { fields: [...fields, makeField('Content-Transfer-Encoding', 'quoted-printable')], body: quotedPrintable(body) };
  }
  if (eightBit) fields.push(makeField('Content-Transfer-Encoding', '8bit'));
  return { fields, body };
}

const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/;

/** The boundary given (checked) or a random one; none may occur in any part (RFC 2046 §5.1.1). */
function chooseBoundary(given: string | undefined, parts: readonly Part[]): string {
  const occurs = (b: string): boolean => parts.some((p) => p.body.includes(b) || serialize(p.fields).includes(b));
  if (given !== undefined) {
    if (!BOUNDARY.test(given)) refuse('boundary', given, 'is not a MIME boundary of at most 70 safe characters');
    if (occurs(given)) refuse('boundary', given, 'occurs in a part');
    return given;
  }
  // `=_` cannot occur in quoted-printable (RFC 2045 §6.7) and random hex in little else.
  for (;;) {
    const b = `=_outbox_${randomBytes(12).toString('hex')}`;
    if (!occurs(b)) return b;
  }
}

function messageId(input: DeliveryReportInput): string {
  if (input.messageId !== undefined) {
    if (!/^<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>$/.test(input.messageId)) refuse('Message-ID', input.messageId, 'is not <left@right>');
    return input.messageId;
  }
  const unique = randomMessageIdPart(input.now);
  try {
    return formatMessageId(unique, input.reportingMta);
  } catch {
    return formatMessageId(unique, 'localhost');
  }
}

/**
 * The report's bytes, CRLF throughout. See the file comment: any octet above
 * 127 in the result (a non-ASCII address or host, 8-bit original header)
 * means it must be sent with SMTPUTF8 and BODY=8BITMIME.
 */
export function buildDeliveryReport(input: DeliveryReportInput): Buffer {
  if (input.recipients.length === 0) throw new OutboxError('E_BAD_DATA', 'a delivery report needs at least one recipient');
  const hosts = [input.reportingMta, ...input.recipients.flatMap((r) => (r.remoteMta === undefined ? [] : [r.remoteMta]))];
  for (const host of hosts) if (/\s/.test(identifier('host name', host))) refuse('host name', host, 'contains a blank');
  identifier('postmaster address', input.postmaster);
  identifier('sender address', input.to);
  for (const r of input.recipients) identifier('recipient address', r.address);
  const global = [input.postmaster, input.to, ...hosts, ...input.recipients.map((r) => r.address)].some((v) => !isAscii(v));

  const parts = [humanPart(input), statusPart(input, global), headersPart(input.originalHeader)];
  const boundary = chooseBoundary(input.boundary, parts);
  const failed = input.recipients.some((r) => r.action === 'failed');
  const reportType = global ? 'global-delivery-status' : 'delivery-status';
  const header = [
    fromField(input.postmaster, 'Mail Delivery System'),
    makeField('To', input.to),
    makeField('Subject', failed ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)'),
    makeField('Date', reportDate(input.now, input.timeZoneOffsetMinutes)),
    makeField('Message-ID', messageId(input)),
    makeField('Auto-Submitted', 'auto-replied'),
    makeField('MIME-Version', '1.0'),
    field('Content-Type', ['multipart/report;', `report-type=${reportType};`, `boundary="${boundary}"`]),
  ];
  const out: Buffer[] = [serialize(header)];
  // A multipart holding an 8bit part is 8bit itself (RFC 2045 §6.4).
  const eightBit = parts.some((p) => p.fields.some((f) => f.name === 'Content-Transfer-Encoding' && f.value === '8bit'));
  if (eightBit) out.push(serialize([makeField('Content-Transfer-Encoding', '8bit')]));
  out.push(Buffer.from(`${CRLF}This is a MIME-encapsulated message.${CRLF}`));
  for (const part of parts) {
    out.push(Buffer.from(`${CRLF}--${boundary}${CRLF}`), serialize(part.fields), Buffer.from(CRLF), part.body);
  }
  out.push(Buffer.from(`${CRLF}--${boundary}--${CRLF}`));
  return Buffer.concat(out);
}
