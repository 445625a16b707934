/**
 * The service extensions the server offers, in one place, so that what EHLO
 * advertises and what MAIL and RCPT accept cannot drift apart. A parameter
 * that is not advertised is refused with 555 (RFC 5321 §4.1.1.11) rather
 * than ignored: a client that sends one has a bug its tests should see.
 *
 * The capture server (the client's test oracle) offers the base set; the
 * product server (`outbox serve`) adds CHUNKING, DSN, STARTTLS and AUTH.
 * BINARYMIME is never offered: the backends take text messages only.
 */
import type { EsmtpParamMap } from '../smtp/syntax.js';
import type { ReplySpec } from '../smtp/reply-format.js';
import { isXtext } from '../smtp/xtext.js';

export const TOO_BIG: ReplySpec = { code: 552, text: '5.3.4 Message size exceeds fixed maximum message size' };

export interface Offer {
  /** Largest message in octets; 0 is advertised as bare "SIZE" (no fixed maximum). */
  readonly sizeLimit: number;
  /** CHUNKING (RFC 3030) and DSN (RFC 3461). */
  readonly full: boolean;
  /** STARTTLS (RFC 3207): TLS is configured, not implicit, not yet started. */
  readonly startTls: boolean;
  /** AUTH (RFC 4954; SCRAM-SHA-256, PLAIN, LOGIN): configured, and the session may use it now. */
  readonly auth: boolean;
  /** What AUTH offers, strongest first; default PLAIN LOGIN. */
  readonly authMechanisms?: readonly string[];
}

/** The EHLO/LHLO keywords after the first line. */
export function advertisedExtensions(offer: Offer): string[] {
  const size = offer.sizeLimit > 0 ? `SIZE ${offer.sizeLimit}` : 'SIZE';
  const base = ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES', 'SMTPUTF8', size];
  if (!offer.full) return base;
  return [
    ...base,
    'CHUNKING',
    'DSN',
    ...(offer.startTls ? ['STARTTLS'] : []),
    ...(offer.auth ? [`AUTH ${(offer.authMechanisms ?? ['PLAIN', 'LOGIN']).join(' ')}`] : []),
  ];
}

/**
 * Checks MAIL's parameters: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8
 * (RFC 6531), with `full` RET and ENVID (RFC 3461), with `auth` AUTH
 * (RFC 4954 §5), and none at all after HELO. Returns the refusal, if any.
 */
export function checkMailParams(
  params: EsmtpParamMap,
  extended: boolean,
  sizeLimit: number,
  offer: Pick<Offer, 'full' | 'auth'> = { full: false, auth: false },
): ReplySpec | undefined {
  const entries = Object.entries(params);
  if (entries.length > 0 && !extended) {
    return { code: 555, text: '5.5.4 Error: no MAIL parameters after HELO, use EHLO' };
  }
  for (const [keyword, value] of entries) {
    if (keyword === 'SIZE') {
      if (value === true || !/^\d{1,20}$/.test(value)) return { code: 501, text: '5.5.4 Bad SIZE value' };
      if (sizeLimit > 0 && Number(value) > sizeLimit) return TOO_BIG;
    } else if (keyword === 'BODY') {
      if (value === true || !/^(?:7BIT|8BITMIME)$/i.test(value)) {
        return { code: 501, text: '5.5.4 Bad BODY value, use 7BIT or 8BITMIME' };
      }
    } else if (keyword === 'SMTPUTF8') {
      if (value !== true) return { code: 501, text: '5.5.4 SMTPUTF8 takes no value' };
    } else if (keyword === 'RET' && offer.full) {
      if (value === true || !/^(?:FULL|HDRS)$/i.test(value)) return { code: 501, text: '5.5.4 Bad RET value, use FULL or HDRS' };
    } else if (keyword === 'ENVID' && offer.full) {
      // RFC 3461 §4.4: xtext, at most 100 characters.
      if (value === true || value.length > 100 || !isXtext(value)) return { code: 501, text: '5.5.4 Bad ENVID value' };
    } else if (keyword === 'AUTH' && offer.auth) {
      // RFC 4954 §5: the mailbox that submitted the message, or <>; we accept and ignore it.
      if (value === true || (value !== '<>' && !isXtext(value))) return { code: 501, text: '5.5.4 Bad AUTH value' };
    } else {
      return { code: 555, text: `5.5.4 Unsupported parameter ${keyword}` };
    }
  }
  return undefined;
}

/** RCPT's parameters: with `full`, NOTIFY and ORCPT (RFC 3461 §4.1, §4.2); none otherwise. */
export function checkRcptParams(params: EsmtpParamMap, full = false): ReplySpec | undefined {
  for (const [keyword, value] of Object.entries(params)) {
    if (keyword === 'NOTIFY' && full) {
      if (value === true || !isNotify(value)) {
        return { code: 501, text: '5.5.4 Bad NOTIFY value, use NEVER or SUCCESS, FAILURE, DELAY' };
      }
    } else if (keyword === 'ORCPT' && full) {
      if (value === true || !isOrcpt(value)) return { code: 501, text: '5.5.4 Bad ORCPT value, use addr-type;xtext' };
    } else {
      return { code: 555, text: `5.5.4 Unsupported parameter ${keyword}` };
    }
  }
  return undefined;
}

/** "NEVER", or a comma list of SUCCESS, FAILURE, DELAY, each at most once (any case). */
function isNotify(value: string): boolean {
  const words = value.toUpperCase().split(',');
  if (words.length === 1 && words[0] === 'NEVER') return true;
  const allowed = new Set(['SUCCESS', 'FAILURE', 'DELAY']);
  return words.every((word) => allowed.delete(word));
}

/**
 * ORCPT = addr-type ";" xtext (RFC 3461 §4.2), at most 500 characters;
 * addr-type is an atom, "rfc822" in practice, or "utf-8" (RFC 6533 §3)
 * whose address may carry UTF-8 as it is.
 */
function isOrcpt(value: string): boolean {
  if (value.length > 500) return false;
  const semicolon = value.indexOf(';');
  if (semicolon <= 0) return false;
  const type = value.slice(0, semicolon);
  const address = value.slice(semicolon + 1);
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*)$/.test(type) || address === '') return false;
  if (type.toLowerCase() === 'utf-8') return /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\\x\{[0-9A-F]{1,6}\}|[^\x00-\x7f])+$/u.test(address);
  return isXtext(address);
}
