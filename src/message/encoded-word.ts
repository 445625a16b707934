/**
 * RFC 2047 encoded words (`=?charset?B|Q?text?=`) as they appear in display
 * names. Decoding never fails: a word with an unknown charset, a bad
 * encoding, or bytes that do not decode in its charset is left as written.
 * Decoded text with control characters (CR, LF, NUL, ...) is refused too, so a
 * display name can never smuggle a line break into a header we write.
 * Pure; charsets are whatever Node's `TextDecoder` knows.
 */

/** A syntactically valid encoded word: its charset (lower case, RFC 2231 language dropped) and bytes. */
export interface EncodedWord {
  readonly charset: string;
  readonly bytes: Uint8Array;
}

/** One whitespace-separated word of a phrase; quoted words are never decoded (RFC 2047 §5). */
export interface PhraseWord {
  text: string;
  quoted: boolean;
}

const ENCODED_WORD = /^=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export function parseEncodedWord(word: string): EncodedWord | undefined {
  const match = ENCODED_WORD.exec(word);
  if (!match) return undefined;
  const [, charset = '', encoding = '', text = ''] = match;
  const bytes = encoding.toUpperCase() === 'B' ? decodeB(text) : decodeQ(text);
  return bytes && { charset: charset.toLowerCase(), bytes };
}

function decodeB(text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const padded = text.endsWith('=');
  if (padded ? text.length % 4 !== 0 : text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64');
}

function decodeQ(text: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x5f) bytes.push(0x20);
    else if (code === 0x3d) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (code > 0x20 && code < 0x7f) bytes.push(code);
    else return undefined;
  }
  return Uint8Array.from(bytes);
}

/** Decodes bytes in `charset`; undefined when the charset is unknown, the bytes are invalid or decode to control characters. */
export function decodeBytes(charset: string, bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder(charset, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return CONTROL.test(text) ? undefined : text;
}

/** The decoded text of one encoded word, or undefined when it is not one or cannot be decoded. */
export function decodeEncodedWord(word: string): string | undefined {
  const parsed = parseEncodedWord(word);
  return parsed && decodeBytes(parsed.charset, parsed.bytes);
}

interface Item {
  raw: string;
  word: EncodedWord | undefined;
}

interface Segment {
  text: string;
  decoded: boolean;
}

/**
 * A phrase's words joined by single spaces, encoded words decoded. Whitespace
 * between two decoded words is dropped (RFC 2047 §6.2); adjacent words in one
 * charset are decoded as one byte string, so a character split across two
 * words (a common encoder bug) still comes out whole.
 */
export function decodePhrase(words: readonly PhraseWord[]): string {
  const items: Item[] = words.map((w) => ({ raw: w.text, word: w.quoted ? undefined : parseEncodedWord(w.text) }));
  const segments: Segment[] = [];
  let i = 0;
  while (i < items.length) {
    const end = sameCharsetRunEnd(items, i);
    if (end === i) {
      segments.push({ text: items[i]?.raw ?? '', decoded: false });
      i++;
    } else {
      for (const segment of decodeRun(items.slice(i, end))) segments.push(segment);
      i = end;
    }
  }
  return joinSegments(segments);
}

/** The end of the run of encoded words starting at `start` that share its charset (`start` when there is none). */
function sameCharsetRunEnd(items: readonly Item[], start: number): number {
  const charset = items[start]?.word?.charset;
  if (charset === undefined) return start;
  let end = start + 1;
  while (end < items.length && items[end]?.word?.charset === charset) end++;
  return end;
}

function decodeRun(run: readonly Item[]): Segment[] {
  const words = run.flatMap((item) => (item.word ? [item.word] : []));
  const charset = words[0]?.charset ?? '';
  const whole = decodeBytes(charset, Buffer.concat(words.map((w) => w.bytes)));
  if (whole !== undefined) return [{ text: whole, decoded: true }];
  return run.map((item) => {
    const text = item.word && decodeBytes(item.word.charset, item.word.bytes);
    return text === undefined ? { text: item.raw, decoded: false } : { text, decoded: true };
  });
}

function joinSegments(segments: readonly Segment[]): string {
  let out = '';
  segments.forEach((segment, i) => {
    const previous = segments[i - 1];
    if (previous && !(previous.decoded && segment.decoded)) out += ' ';
    out += segment.text;
  });
  return out;
}

/** RFC 2047 §2: an encoded word is at most 75 characters. */
export const MAX_ENCODED_WORD = 75;

/**
 * Bytes in `charset` as B-encoded words (`=?charset?B?…?=`) of at most 75
 * characters each. A word never ends inside a UTF-8 character (RFC 2047
 * §5: each word must hold whole characters); a single-byte charset may be cut
 * anywhere. The charset is written as given (display-name.ts gives msmtp's
 * lower-case `utf-8`).
 */
export function encodeWords(bytes: Uint8Array, charset: string): string[] {
  const prefix = `=?${charset}?B?`;
  const maxBytes = Math.floor((MAX_ENCODED_WORD - prefix.length - 2) / 4) * 3;
  const utf8 = /^utf-?8$/i.test(charset);
  const words: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + maxBytes, bytes.length);
    // Back off to a character's first byte (never 0x80–0xBF) so no character is split.
    if (utf8) while (end < bytes.length && end > start + 1 && (bytes[end]! & 0xc0) === 0x80) end--;
    words.push(`${prefix}${Buffer.from(bytes.subarray(start, end)).toString('base64')}?=`);
    start = end;
  }
  return words;
}
