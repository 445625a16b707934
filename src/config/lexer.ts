/**
 * The msmtprc lexer: bytes → `{ file, line, command, argument }`, as msmtp
 * reads its files (checked against msmtp 1.8.23):
 *
 * - lines end at LF; a trailing CR is white space and goes with it;
 * - blank lines and lines whose first non-blank character is `#` are skipped;
 *   a `#` after a command is part of its argument (`host h # x` sets "h # x");
 * - the command is the first word; the argument is the rest of the line without
 *   its surrounding white space;
 * - an argument that starts and ends with `"` loses those two quotes and
 *   nothing else: there are no escapes inside (`"a\"b"` is `a\"b`);
 * - no line-length limit (msmtp stops at 500 characters; OAuth tokens are longer).
 *
 * Lines that are not UTF-8 or contain NUL are errors at their line (msmtp
 * silently cuts a line at NUL).
 */
import { errorAt, type Location } from './location.js';

export interface ConfigLine extends Location {
  readonly command: string;
  readonly argument: string;
}

/** C's isspace() in the C locale, without LF (lines are already split). */
const BLANK = /[ \t\v\f\r]/;
const LEADING_BLANKS = /^[ \t\v\f\r]+/;
const TRAILING_BLANKS = /[ \t\v\f\r]+$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Every command line of a file, in order. */
export function lex(content: Uint8Array | string, file: string): ConfigLine[] {
  const lines: ConfigLine[] = [];
  splitLines(content).forEach((raw, index) => {
    const location = { file, line: index + 1 };
    const parsed = lexLine(decodeLine(raw, location), location);
    if (parsed) lines.push(parsed);
  });
  return lines;
}

/** One line of text as a command, or `null` for a blank or comment line. */
export function lexLine(text: string, location: Location): ConfigLine | null {
  const content = trimBlanks(text);
  if (content === '' || content.startsWith('#')) return null;
  const blank = content.search(BLANK);
  const command = blank < 0 ? content : content.slice(0, blank);
  const rest = blank < 0 ? '' : content.slice(blank).replace(LEADING_BLANKS, '');
  return { ...location, command, argument: unquote(rest) };
}

/** Without the blanks (C's isspace) at both ends. */
export function trimBlanks(text: string): string {
  return text.replace(LEADING_BLANKS, '').replace(TRAILING_BLANKS, '');
}

/** `"…"` → `…`; anything else unchanged. */
function unquote(argument: string): string {
  if (argument.length >= 2 && argument.startsWith('"') && argument.endsWith('"')) return argument.slice(1, -1);
  return argument;
}

function splitLines(content: Uint8Array | string): (Uint8Array | string)[] {
  const parts: (Uint8Array | string)[] = typeof content === 'string' ? content.split('\n') : splitBytes(content);
  if (parts.length > 0 && parts[parts.length - 1]!.length === 0) parts.pop();
  return parts;
}

function splitBytes(bytes: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let end = bytes.indexOf(0x0a); end >= 0; end = bytes.indexOf(0x0a, start)) {
    parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

function decodeLine(raw: Uint8Array | string, location: Location): string {
  let text: string;
  if (typeof raw === 'string') {
    text = raw;
  } else {
    try {
      text = utf8.decode(raw);
    } catch {
      throw errorAt(location, 'the line is not valid UTF-8');
    }
  }
  if (text.includes('\u0000')) throw errorAt(location, 'the line contains a NUL character');
  return text;
}
