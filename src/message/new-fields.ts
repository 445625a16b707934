/**
 * The fields outbox adds to a mail, each written as msmtp 1.8.33 writes it
 * (MSMTP-BEHAVIOUR §9), and each refusing CR, LF and NUL in what it is given:
 *
 * - `From: addr` or `From: Name <addr>` (the name quoted or RFC 2047-encoded
 *   when it has to be, see display-name.ts);
 * - `To: undisclosed-recipients:;`;
 * - `Date: Sat, 21 Nov 2026 20:45:14 +0100`: strftime's
 *   `%a, %d %b %Y %T %z` in the C locale and the local time zone;
 * - `Message-ID: <unique@domain>`: the domain is the `domain` setting unless
 *   it is `localhost`, else the envelope-from's domain, else the SMTP host.
 *   The unique part is the time in base 36 and 96 random bits: unique
 *   without the md5 of guessable inputs msmtp hashes, and it tells nothing
 *   about the sending machine.
 */
import { randomBytes } from './random.js';
import { OutboxError } from '../errors.js';
import { isDotAtom } from './address-tokens.js';
import { makeField, type HeaderField } from './header-block.js';
import { encodeDisplayName, foldWords, refuseControls } from './display-name.js';

const UNDISCLOSED_RECIPIENTS = 'undisclosed-recipients:;';

/** `From: addr`, or `From: Name <addr>` when a full name is given. */
export function fromField(address: string, fullName?: string): HeaderField {
  refuseControls('envelope-from address', address);
  if (fullName === undefined || fullName === '') return makeField('From', address);
  const words = [...encodeDisplayName(fullName), `<${address}>`];
  return makeField('From', foldWords('From: ', words));
}

/** `To: undisclosed-recipients:;`, the empty group (RFC 5322 §3.4). */
export function undisclosedToField(): HeaderField {
  return makeField('To', UNDISCLOSED_RECIPIENTS);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * RFC 5322 §3.3 date-time as strftime's `%a, %d %b %Y %T %z` writes it in
 * the C locale. `offsetMinutes` is the zone's offset east of UTC (default:
 * the local zone at that instant).
 */
export function formatDate(now: Date, offsetMinutes = -now.getTimezoneOffset()): string {
  const local = new Date(now.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const zone = `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  const date = `${pad2(local.getUTCDate())} ${MONTHS[local.getUTCMonth()]} ${local.getUTCFullYear()}`;
  const time = `${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  return `${DAYS[local.getUTCDay()]}, ${date} ${time} ${zone}`;
}

export function dateField(now: Date, offsetMinutes?: number): HeaderField {
  return makeField('Date', formatDate(now, offsetMinutes));
}

export interface MessageIdDomainInput {
  /** The account's `domain` setting (msmtp's default is `localhost`). */
  readonly domain: string;
  /** The envelope-from address; '' for the null reverse-path. */
  readonly envelopeFrom: string;
  /** The SMTP server's host name. */
  readonly host: string;
}

/** msmtp's rule: the `domain` setting unless it is localhost, else the sender's domain, else the SMTP host. */
export function messageIdDomain(input: MessageIdDomainInput): string {
  if (input.domain !== '' && input.domain.toLowerCase() !== 'localhost') return input.domain;
  const at = input.envelopeFrom.lastIndexOf('@');
  if (at !== -1 && at < input.envelopeFrom.length - 1) return input.envelopeFrom.slice(at + 1);
  return input.host === '' ? 'localhost' : input.host;
}

/** The default unique part: the time in base 36, a dot, 96 random bits in hex. */
export function randomMessageIdPart(now: Date = new Date()): string {
  return `${now.getTime().toString(36)}.${randomBytes(12).toString('hex')}`;
}

const DOMAIN_LITERAL = /^\[[\x21-\x5a\x5e-\x7e]*\]$/;

/** `<unique@domain>` (RFC 5322 §3.6.4 msg-id); a domain that cannot be in one is OutboxError('E_USAGE'). */
export function formatMessageId(unique: string, domain: string): string {
  if (!isDotAtom(unique)) throw new Error(`invalid Message-ID left part ${JSON.stringify(unique)}`);
  refuseControls('domain', domain);
  if (!isDotAtom(domain) && !DOMAIN_LITERAL.test(domain)) {
    throw new OutboxError('E_USAGE', `cannot make a Message-ID with the domain ${JSON.stringify(domain)}: it is not a domain name`);
  }
  return `<${unique}@${domain}>`;
}

export function messageIdField(unique: string, domain: string): HeaderField {
  return makeField('Message-ID', formatMessageId(unique, domain));
}
