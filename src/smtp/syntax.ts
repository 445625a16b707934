/**
 * The grammar of SMTP's command arguments (RFC 5321 §4.1.2), with the UTF-8
 * extensions of RFC 6531 §3.3 (non-ASCII in atext, qtext and domain labels):
 * what the server reads in MAIL, RCPT and the hello commands, and the
 * parameter syntax the client's serializer (`command.ts`) checks before it
 * writes. Pure; `node:net` only for its address predicates, never a socket.
 *
 *   Reverse-path = Path / "<>"
 *   Path         = "<" [ A-d-l ":" ] Mailbox ">"
 *   Mailbox      = Local-part "@" ( Domain / address-literal )
 *   Mail-parameters = esmtp-param *(SP esmtp-param)
 *   esmtp-param  = esmtp-keyword ["=" esmtp-value]
 */
import { isIPv4, isIPv6 } from 'node:net';

/** ESMTP parameters as read: by upper-cased keyword, `true` for a keyword without value. Order is not kept; a keyword given twice is refused. */
export type EsmtpParamMap = Record<string, string | true>;

export interface ParsedPath {
  /** The mailbox without angle brackets or source route; "" for the null path. */
  readonly address: string;
  /** True when the mailbox uses UTF-8 (RFC 6531). */
  readonly nonAscii: boolean;
  /** What followed the closing ">": "" or " " + parameters. */
  readonly rest: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly why: string };

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, brackets included. */
const MAX_PATH_OCTETS = 256;

const NON_ASCII = '[^\\x00-\\x7f]';
const ATEXT = `(?:[A-Za-z0-9!#$%&'*+\\-/=?^_\`{|}~]|${NON_ASCII})`;
const DOT_STRING = `${ATEXT}+(?:\\.${ATEXT}+)*`;
const QUOTED_STRING = `"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|${NON_ASCII}|\\\\[\\x20-\\x7e])*"`;
const LET_DIG = `(?:[A-Za-z0-9]|${NON_ASCII})`;
const LDH = `(?:[A-Za-z0-9-]|${NON_ASCII})`;
const SUB_DOMAIN = `${LET_DIG}(?:${LDH}*${LET_DIG})?`;
const DOMAIN = `${SUB_DOMAIN}(?:\\.${SUB_DOMAIN})*`;
const ADDRESS_LITERAL = '\\[[^\\[\\]\\\\\\s]+\\]';
const SOURCE_ROUTE = `@${DOMAIN}(?:,@${DOMAIN})*:`;
const ESMTP_KEYWORD = '[A-Za-z0-9][A-Za-z0-9-]*';
/** esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii): no space, no "=", no controls. */
const ESMTP_VALUE = `(?:[\\x21-\\x3c\\x3e-\\x7e]|${NON_ASCII})+`;

const DOMAIN_RE = new RegExp(`^${DOMAIN}$`, 'u');
/** A Local-part alone (no "@domain"): a local user, as daemons write `root`. */
const LOCAL_PART_RE = new RegExp(`^(?:${DOT_STRING}|${QUOTED_STRING})$`, 'u');
const MAILBOX_RE = new RegExp(
  `^(?:${SOURCE_ROUTE})?((?:${DOT_STRING}|${QUOTED_STRING})@(${DOMAIN}|${ADDRESS_LITERAL}))$`,
  'u',
);
const KEYWORD_RE = new RegExp(`^${ESMTP_KEYWORD}$`);
const VALUE_RE = new RegExp(`^${ESMTP_VALUE}$`, 'u');
const PARAM_RE = new RegExp(`^(${ESMTP_KEYWORD})(?:=(${ESMTP_VALUE}))?$`, 'u');

/** An esmtp-keyword (RFC 5321 §4.1.2). */
export function isEsmtpKeyword(text: string): boolean {
  return KEYWORD_RE.test(text);
}

/** An esmtp-value (RFC 5321 §4.1.2, UTF-8 by RFC 6531 §3.3). */
export function isEsmtpValue(text: string): boolean {
  return VALUE_RE.test(text);
}

/**
 * Reads the path at the start of `text` (what follows "FROM:" or "TO:").
 * `allowNull` admits "<>" (MAIL only); `allowPostmaster` admits the bare
 * "<Postmaster>" of RCPT (RFC 5321 §4.1.1.3); `allowLocalPart` admits a
 * Local-part without a domain (`<root>`), which RFC 5321's Mailbox does not
 * but local MTAs (sendmail, msmtpd) take from local programs: outbox serve
 * passes it on as it came, for the next hop or the backend to qualify.
 */
export function parsePath(
  text: string,
  { allowNull = false, allowPostmaster = false, allowLocalPart = false } = {},
): Parsed<ParsedPath> {
  // RFC 5321 §3.3 singles this one out: no space on either side of the colon.
  if (text.startsWith(' ')) return fail('no space allowed after the colon');
  if (!text.startsWith('<')) return fail('the address must be enclosed in <>');
  const close = findClosingBracket(text);
  if (close === -1) return fail('missing ">" at the end of the address');
  if (Buffer.byteLength(text.slice(0, close + 1)) > MAX_PATH_OCTETS) {
    return fail(`path longer than ${MAX_PATH_OCTETS} octets`);
  }
  const inner = text.slice(1, close);
  const rest = text.slice(close + 1);
  if (rest !== '' && !rest.startsWith(' ')) return fail('junk after the address');
  if (inner === '') {
    return allowNull ? ok({ address: '', nonAscii: false, rest }) : fail('the null path <> is not allowed here');
  }
  if (allowPostmaster && inner.toLowerCase() === 'postmaster') {
    return ok({ address: inner, nonAscii: false, rest });
  }
  if (allowLocalPart && LOCAL_PART_RE.test(inner)) {
    return ok({ address: inner, nonAscii: /[^\x00-\x7f]/.test(inner), rest });
  }
  const match = MAILBOX_RE.exec(inner);
  if (!match || !isDomainOrLiteral(match[2]!)) return fail('bad address syntax');
  const address = match[1]!;
  return ok({ address, nonAscii: /[^\x00-\x7f]/.test(address), rest });
}

/** Finds the ">" that closes the path, skipping over a quoted local part. */
function findClosingBracket(text: string): number {
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '>') return i;
  }
  return -1;
}

/** The argument of EHLO, HELO and LHLO: Domain / address-literal. */
export function isDomainOrLiteral(text: string): boolean {
  if (text.startsWith('[')) return isAddressLiteral(text);
  return Buffer.byteLength(text) <= 255 && DOMAIN_RE.test(text);
}

/** RFC 5321 §4.1.3: IPv4, "IPv6:" + IPv6, or a General-address-literal. */
function isAddressLiteral(text: string): boolean {
  if (!text.endsWith(']')) return false;
  const inner = text.slice(1, -1);
  if (/^[0-9.]+$/.test(inner)) return isIPv4(inner);
  const tagged = /^([A-Za-z0-9-]*[A-Za-z0-9]):([\x21-\x5a\x5e-\x7e]+)$/.exec(inner);
  if (!tagged) return false;
  if (tagged[1]!.toLowerCase() === 'ipv6') return isIPv6(tagged[2]!);
  return true;
}

/** Parses what follows the path: "" or " " + space-separated esmtp-params. */
export function parseParams(rest: string): Parsed<EsmtpParamMap> {
  const params: EsmtpParamMap = {};
  if (rest === '') return ok(params);
  for (const word of rest.slice(1).split(' ')) {
    const match = PARAM_RE.exec(word);
    if (!match) return fail(word === '' ? 'extra space between parameters' : `bad parameter "${printable(word)}"`);
    const keyword = match[1]!.toUpperCase();
    if (keyword in params) return fail(`parameter ${keyword} given twice`);
    params[keyword] = match[2] ?? true;
  }
  return ok(params);
}

/** Client text echoed in a reply stays within RFC 5321's textstring (printable ASCII). */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/gu, '?');
}

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

function fail<T>(why: string): Parsed<T> {
  return { ok: false, why };
}
