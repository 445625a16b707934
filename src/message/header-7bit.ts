/**
 * 8-bit header fields made 7-bit for a server without 8BITMIME:
 *
 * - unstructured text (Subject, Comments, X-…, and any field outbox does not
 *   know) gets RFC 2047 encoded words for each run of words with 8-bit
 *   octets (§5 (1));
 * - address fields (From, To, Cc, Reply-To, Resent-*, …): only display
 *   names (phrases, §5 (3)) and comments (§5 (2)) are encoded; an address's
 *   internationalised domain becomes its A-label (RFC 5891), as in the
 *   envelope; a local part with 8-bit octets has no 7-bit form (RFC 6532
 *   needs SMTPUTF8), and the conversion is refused;
 * - Content-Type and Content-Disposition: a parameter with 8-bit octets
 *   becomes RFC 2231 `name*=charset''%XX…` (encoded words are not allowed
 *   in parameters, RFC 2047 §5).
 *
 * The charset is UTF-8 when the field's octets are valid UTF-8, else
 * ISO-8859-1 (every octet is a character there, so nothing is lost; see
 * docs/eightbit.md). Encoded fields are folded at blanks before 78 columns.
 * Fields without 8-bit octets are never touched.
 */
import { domainToASCII } from 'node:url';
import { OutboxError } from '../errors.js';
import { encodeWords } from './encoded-word.js';
import { has8bit, type RawField } from './mime-header.js';

const ADDRESS_FIELDS = new Set([
  'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'resent-from', 'resent-sender', 'resent-to', 'resent-cc', 'resent-bcc',
  'return-path', 'disposition-notification-to', 'mail-followup-to', 'mail-reply-to', 'errors-to', 'return-receipt-to',
]);
const PARAMETER_FIELDS = new Set(['content-type', 'content-disposition']);
/** RFC 5322 §2.1.1: lines should be at most 78 characters. */
const FOLD_WIDTH = 78;

/** The error for a mail that cannot be made 7-bit without changing what it says (RFC 3463 5.6.3). */
export function conversionError(why: string): OutboxError {
  return new OutboxError('E_CONVERSION', `the server does not offer 8BITMIME and the mail cannot be converted to 7-bit: ${why}; nothing was sent`);
}

/** The field made 7-bit, CRLF-terminated; the field itself when it has no 8-bit octets. */
export function sevenBitField(field: RawField): Buffer {
  if (!has8bit(field.raw)) return field.raw;
  const text = field.raw.toString('latin1');
  const colon = text.indexOf(':');
  if (colon <= 0) return Buffer.from(replace8bit(text), 'latin1'); // not a field: nothing to encode it as
  const name = text.slice(0, colon);
  const value = text.slice(colon + 1).replace(/\r\n(?=[ \t])/g, '').replace(/\r\n$/, '').replace(/^[ \t]+/, '');
  const charset = isUtf8(Buffer.from(value, 'latin1')) ? 'utf-8' : 'iso-8859-1';
  const encoded = ADDRESS_FIELDS.has(field.name)
    ? addressText(value, charset, name)
    : PARAMETER_FIELDS.has(field.name)
      ? parameterText(value, charset)
      : unstructuredText(value, charset);
  return Buffer.from(`${fold(`${name}: ${encoded}`)}\r\n`, 'latin1');
}

/**
 * Runs of whitespace-separated words with 8-bit octets become encoded
 * words; the blanks between the words of a run go inside the encoding
 * (decoders drop blanks between encoded words, RFC 2047 §6.2). A run next
 * to a word that already is an encoded word takes the blank between them
 * inside too, for the same reason.
 */
export function unstructuredText(value: string, charset: string, unescape = false): string {
  const tokens = value.split(/([ \t]+)/); // words at even indexes, blanks at odd ones
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    if (!/[\x80-\xff]/.test(tokens[i]!)) {
      out.push(tokens[i]!, tokens[i + 1] ?? '');
      continue;
    }
    let end = i;
    while (end + 2 < tokens.length && /[\x80-\xff]/.test(tokens[end + 2]!)) end += 2;
    let run = tokens.slice(i, end + 1).join('');
    if (i >= 2 && looksEncoded(tokens[i - 2]!)) run = `${out.pop()}${run}`;
    const after = tokens[end + 1] ?? '';
    const next = tokens[end + 2];
    const takeAfter = next !== undefined && looksEncoded(next) && after !== '';
    if (takeAfter) run += after;
    const text = unescape ? run.replace(/\\(.)/g, '$1') : run;
    out.push(encodeWords(Buffer.from(text, 'latin1'), charset).join(' '), takeAfter ? ' ' : after);
    i = end;
  }
  return out.join('');
}

function looksEncoded(word: string): boolean {
  return /^=\?[^?]+\?[BbQq]\?[^?]*\?=$/.test(word);
}

type Token = { kind: 'blank' | 'atom' | 'quoted' | 'comment' | 'angle' | 'special'; text: string };

/** RFC 5322's lexical tokens of an address field (the parts that matter here). */
function tokenize(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    const start = i;
    if (c === ' ' || c === '\t') {
      while (i < value.length && (value[i] === ' ' || value[i] === '\t')) i++;
      tokens.push({ kind: 'blank', text: value.slice(start, i) });
    } else if (c === '"') {
      for (i++; i < value.length && value[i] !== '"'; i++) if (value[i] === '\\') i++;
      tokens.push({ kind: 'quoted', text: value.slice(start, ++i) });
    } else if (c === '(') {
      for (let depth = 0; i < value.length; i++) {
        if (value[i] === '\\') i++;
        else if (value[i] === '(') depth++;
        else if (value[i] === ')' && --depth === 0) break;
      }
      tokens.push({ kind: 'comment', text: value.slice(start, ++i) });
    } else if (c === '<') {
      i = value.indexOf('>', i);
      i = i === -1 ? value.length : i + 1;
      tokens.push({ kind: 'angle', text: value.slice(start, i) });
    } else if (',:;@.'.includes(c)) {
      tokens.push({ kind: 'special', text: c });
      i++;
    } else {
      while (i < value.length && !' \t"(<,:;@.'.includes(value[i]!)) i++;
      tokens.push({ kind: 'atom', text: value.slice(start, i) });
    }
  }
  return tokens;
}

/**
 * An address field: phrases (a display name before `<…>`, a group's name
 * before `:`) and comments are encoded; 8-bit octets anywhere else belong to
 * an address, which no encoding may carry.
 */
function addressText(value: string, charset: string, name: string): string {
  const tokens = tokenize(value);
  const out: string[] = [];
  let segmentStart = 0;
  for (let i = 0; i <= tokens.length; i++) {
    const token = tokens[i];
    if (token && !(token.kind === 'special' && ',:;'.includes(token.text))) continue;
    const segment = tokens.slice(segmentStart, i);
    const isPhrase = segment.some((t) => t.kind === 'angle') || token?.text === ':';
    out.push(...encodeSegment(segment, isPhrase, charset, name));
    if (token) out.push(token.text);
    segmentStart = i + 1;
  }
  return out.join('');
}

function encodeSegment(segment: readonly Token[], isPhrase: boolean, charset: string, name: string): string[] {
  const out: string[] = [];
  const angle = segment.findIndex((t) => t.kind === 'angle');
  for (let i = 0; i < segment.length; i++) {
    const token = segment[i]!;
    if (!/[\x80-\xff]/.test(token.text) || token.kind === 'blank') {
      out.push(token.text);
    } else if (token.kind === 'comment') {
      out.push(`(${unstructuredText(token.text.slice(1, -1), charset, true)})`);
    } else if (isPhrase && (angle === -1 || i < angle) && (token.kind === 'atom' || token.kind === 'quoted')) {
      // The phrase's words up to the next special or address, quoted strings unquoted (RFC 2047 §5 (3)).
      let end = i;
      // A dot belongs to the phrase too (obs-phrase: `Jörg M. Schäfer`), so the run goes on over it.
      while (end + 1 < segment.length && end + 1 !== angle && isPhraseWord(segment[end + 1]!)) end++;
      while (segment[end]!.kind === 'blank') end--;
      const words = segment.slice(i, end + 1).map((t) => (t.kind === 'quoted' ? t.text.slice(1, -1).replace(/\\(.)/g, '$1') : t.text));
      out.push(encodeWords(Buffer.from(words.join(''), 'latin1'), charset).join(' '));
      i = end;
    } else if (token.kind === 'angle') {
      out.push(`<${asciiAddress(token.text.slice(1, -1), name)}>`);
    } else {
      // A bare addr-spec: its domain (the atoms and dots after `@`) can become an A-label.
      const at = segment.findIndex((t) => t.kind === 'special' && t.text === '@');
      let end = i;
      while (end + 1 < segment.length && (segment[end + 1]!.kind === 'atom' || segment[end + 1]!.text === '.')) end++;
      if (at === -1 || at > i) throw addressError(name, token.text);
      out.push(asciiDomain(segment.slice(i, end + 1).map((t) => t.text).join(''), name));
      i = end;
    }
  }
  return out;
}

/**
 * An address with 8-bit octets: its domain, read as UTF-8, becomes an
 * A-label (RFC 5891), as the envelope's does without SMTPUTF8; a local part
 * with 8-bit octets has no 7-bit form (RFC 6532 needs SMTPUTF8).
 */
function asciiAddress(address: string, name: string): string {
  const at = address.lastIndexOf('@');
  if (at === -1 || /[\x80-\xff]/.test(address.slice(0, at))) throw addressError(name, address);
  return `${address.slice(0, at)}@${asciiDomain(address.slice(at + 1), name)}`;
}

function asciiDomain(domain: string, name: string): string {
  if (!/[\x80-\xff]/.test(domain)) return domain;
  const bytes = Buffer.from(domain, 'latin1');
  const ascii = isUtf8(bytes) ? domainToASCII(bytes.toString('utf8')) : '';
  if (ascii === '') throw addressError(name, domain);
  return ascii;
}

function addressError(name: string, text: string): OutboxError {
  return conversionError(`the ${name} field has an address with 8-bit characters (${JSON.stringify(Buffer.from(text, 'latin1').toString())}) that no 7-bit form keeps (RFC 6532 needs SMTPUTF8)`);
}

function isPhraseWord(token: Token): boolean {
  return token.kind === 'atom' || token.kind === 'quoted' || token.kind === 'blank' || (token.kind === 'special' && token.text === '.');
}

/** Content-Type / Content-Disposition: 8-bit parameter values as RFC 2231 extended values. */
function parameterText(value: string, charset: string): string {
  const parts = value.split(/;(?=(?:[^"]*"[^"]*")*[^"]*$)/); // `;` outside quoted strings
  return parts
    .map((part, i) => {
      if (i === 0 || !/[\x80-\xff]/.test(part)) return replace8bit(part);
      const match = /^\s*([^=\s*]+)\s*=\s*(.*?)\s*$/s.exec(part);
      if (!match) return replace8bit(part);
      const raw = match[2]!.startsWith('"') ? match[2]!.slice(1, -1).replace(/\\(.)/g, '$1') : match[2]!;
      return ` ${match[1]}*=${charset}''${percentEncode(Buffer.from(raw, 'latin1'))}`;
    })
    .join(';');
}

/** RFC 2231 §7 attribute-char: printable ASCII but SPACE, `*`, `'`, `%` and tspecials. */
function percentEncode(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const c = String.fromCharCode(byte);
    out += byte > 0x20 && byte < 0x7f && !`*'%()<>@,;:\\"/[]?=`.includes(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** For what has no encoding (a line that is not a field, a media type): `?` per 8-bit octet. */
function replace8bit(text: string): string {
  return text.replace(/[\x80-\xff]/g, '?');
}

/**
 * Folds (CRLF before a blank) so lines stay within 78 columns where a blank
 * allows; never right after the field's colon, which would leave its name
 * alone on the first line.
 */
export function fold(line: string): string {
  let out = '';
  let rest = line;
  let earliest = line.indexOf(':') + 2;
  for (let guard = 0; rest.length > FOLD_WIDTH && guard < 100_000; guard++) {
    let at = rest.lastIndexOf(' ', FOLD_WIDTH);
    if (at < earliest) at = rest.indexOf(' ', Math.max(FOLD_WIDTH, earliest));
    if (at < earliest) break;
    earliest = 1;
    out += `${rest.slice(0, at)}\r\n`;
    rest = rest.slice(at);
  }
  return out + rest;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    UTF8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
