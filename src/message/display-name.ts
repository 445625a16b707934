/**
 * Writing a person's name into a header we make (`From: Name <addr>`):
 *
 * - printable ASCII that is a plain phrase (atoms separated by single
 *   spaces, RFC 5322 §3.2.5) is written as it is: `John Smith`;
 * - other printable ASCII (specials such as `,` `.` `"` `(`, doubled or
 *   outer spaces, something that looks like an encoded word) becomes a
 *   quoted-string (§3.2.4): `"Doe, John"`. msmtp writes these raw, which
 *   makes the header invalid;
 * - anything with non-ASCII becomes RFC 2047 B-encoded words in UTF-8 with
 *   the charset in lower case, `=?utf-8?B?…?=`: byte for byte what msmtp
 *   1.8.27+ writes in a UTF-8 locale, so a mail reads the same from either
 *   (msmtp's own test suite compares the From line exactly). msmtp writes
 *   one word however long the name; we cut after at most 75 characters
 *   (RFC 2047 §2), never inside a character, so only names of more than 45
 *   UTF-8 bytes differ from msmtp's.
 *
 * CR, LF, NUL and other control characters are refused with
 * OutboxError('E_USAGE'): a name can never start a new header line.
 *
 * Names given in the locale's character set: `decodeLocale` turns bytes (or a
 * string carrying bytes as latin1) into text, with a pluggable decoder.
 */
import { OutboxError } from '../errors.js';
import { isAtext } from './address-tokens.js';
import { encodeWords } from './encoded-word.js';

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const PRINTABLE_ASCII = /^[\t\x20-\x7e]*$/;
/** Refuses a value with a control character (TAB aside), naming what it is. */
export function refuseControls(what: string, value: string): void {
  if (!CONTROL.test(value)) return;
  const problem = /[\r\n]/.test(value) ? 'a line break' : value.includes('\0') ? 'a NUL character' : 'a control character';
  throw new OutboxError('E_USAGE', `the ${what} ${JSON.stringify(value)} contains ${problem}`);
}

/** The words of a display name as they go into a phrase; the caller joins them with spaces or folds. */
export function encodeDisplayName(name: string): string[] {
  refuseControls('full name', name);
  if (PRINTABLE_ASCII.test(name)) return isPlainPhrase(name) ? name.split(' ') : [quoteString(name)];
  // msmtp's spelling: the locale's codeset in lower case, base64.
  return encodeWords(Buffer.from(name, 'utf8'), 'utf-8');
}

function isPlainPhrase(name: string): boolean {
  if (name === '' || name.includes('=?')) return false;
  return name.split(' ').every((word) => word !== '' && [...word].every((c) => c.charCodeAt(0) < 0x80 && isAtext(c.charCodeAt(0))));
}

/** RFC 5322 §3.2.4 quoted-string: `"` and `\` escaped with a backslash. */
function quoteString(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Joins words after `prefix` (e.g. `From: `) with single spaces, folding
 * (CRLF + space) before a word that would take the line past `width`.
 */
export function foldWords(prefix: string, words: readonly string[], width = 78): string {
  let out = '';
  let column = prefix.length;
  words.forEach((word, i) => {
    if (i > 0 && column + 1 + word.length > width) {
      out += '\r\n ';
      column = 1;
    } else if (i > 0) {
      out += ' ';
      column++;
    }
    out += word;
    column += word.length;
  });
  return out;
}

/** Turns bytes in `charset` into text; undefined when the charset is unknown or the bytes are not valid in it. */
export type CharsetDecoder = (bytes: Uint8Array, charset: string) => string | undefined;

/** Node's own decoders (full ICU: the ISO-8859 family, windows-125x, KOI8, Shift_JIS, EUC, GB18030, Big5…). */
const textDecoderCharsets: CharsetDecoder = (bytes, charset) => {
  try {
    return new TextDecoder(charset, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
};

function isUtf8Charset(charset: string): boolean {
  return /^utf-?8$/i.test(charset.trim());
}

/**
 * A name given in the locale's character set, as text. `input` is bytes, or a
 * string that carries bytes as latin1 code units (every unit below 256);
 * a string with any unit above 255 is already text and is returned as it is.
 * In a UTF-8 locale bytes are read as UTF-8. Bytes that `decode` cannot read
 * in `charset` are OutboxError('E_USAGE').
 */
export function decodeLocale(input: Uint8Array | string, charset: string, decode: CharsetDecoder = textDecoderCharsets): string {
  if (typeof input === 'string' && (isUtf8Charset(charset) || /[^\u0000-\u00ff]/.test(input))) return input;
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const text = decode(bytes, isUtf8Charset(charset) ? 'utf-8' : charset);
  if (text === undefined) {
    throw new OutboxError('E_USAGE', `cannot read the name ${JSON.stringify(Buffer.from(bytes).toString('latin1'))} in the locale's character set ${charset}`);
  }
  return text;
}

/**
 * The locale's character set from LC_ALL, LC_CTYPE or LANG (the first one
 * set), e.g. `de_DE.ISO-8859-15@euro` → `ISO-8859-15`. The C and POSIX
 * locales, and a locale without a charset, give UTF-8: Node reads arguments
 * and files as UTF-8 there anyway.
 */
export function localeCharset(env: Readonly<Record<string, string | undefined>>): string {
  const locale = [env['LC_ALL'], env['LC_CTYPE'], env['LANG']].find((value) => value !== undefined && value !== '');
  const match = locale === undefined ? null : /\.([^@]+)/.exec(locale);
  return match?.[1] ?? 'UTF-8';
}
