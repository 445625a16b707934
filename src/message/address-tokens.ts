/**
 * The lexical layer of RFC 5322 address lists: turns a header value (or a
 * command-line recipient argument) into atoms, quoted strings, domain
 * literals and specials. Whitespace, folds and (nested) comments are skipped;
 * each token records whether any of them came before it, which is all the
 * parser needs to know about them. Pure and linear in the input's length.
 *
 * Problems are thrown as `AddressSyntaxError` (a message and an offset); the
 * parser turns them into `OutboxError('E_USAGE')` with the whole input quoted.
 */

export type TokenKind = 'atom' | 'quoted' | 'literal' | 'special' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /**
   * atom: as written; quoted: the content, quoted-pairs resolved and folds
   * unfolded; literal: `[...]` without its whitespace; special: the character;
   * end: empty.
   */
  readonly text: string;
  /** Where the token starts in the input (UTF-16 code units). */
  readonly offset: number;
  /** Whitespace, a fold or a comment separates this token from the one before. */
  readonly spaceBefore: boolean;
}

export class AddressSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'AddressSyntaxError';
  }
}

const SPECIALS = '<>@,;:.';
const ATEXT_PUNCTUATION = "!#$%&'*+-/=?^_`{|}~";

const ASCII_ATEXT: readonly boolean[] = Array.from({ length: 128 }, (_, code) => {
  const c = String.fromCharCode(code);
  return /[A-Za-z0-9]/.test(c) || ATEXT_PUNCTUATION.includes(c);
});

/** RFC 5322 atext, widened by RFC 6532: every non-ASCII code unit counts. */
export function isAtext(code: number): boolean {
  return code >= 0x80 || ASCII_ATEXT[code] === true;
}

/** `s` is a dot-atom: atext runs joined by single dots, no dot at either end. */
export function isDotAtom(s: string): boolean {
  if (s === '' || s.startsWith('.') || s.endsWith('.') || s.includes('..')) return false;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code !== 0x2e && !isAtext(code)) return false;
  }
  return true;
}

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    i = skipCfws(input, i);
    const spaceBefore = i > start;
    if (i >= input.length) {
      tokens.push({ kind: 'end', text: '', offset: i, spaceBefore });
      return tokens;
    }
    const { kind, text, end } = readToken(input, i);
    tokens.push({ kind, text, offset: i, spaceBefore });
    i = end;
  }
}

interface Lexeme {
  kind: TokenKind;
  text: string;
  end: number;
}

function readToken(input: string, i: number): Lexeme {
  const c = input[i];
  if (c === '"') return readQuoted(input, i);
  if (c === '[') return readLiteral(input, i);
  if (c !== undefined && SPECIALS.includes(c)) return { kind: 'special', text: c, end: i + 1 };
  let end = i;
  while (end < input.length && isAtext(input.charCodeAt(end))) end++;
  if (end > i) return { kind: 'atom', text: input.slice(i, end), end };
  if (c === ')') throw new AddressSyntaxError("unbalanced ')'", i);
  if (c === ']') throw new AddressSyntaxError("unbalanced ']'", i);
  if (c === '\\') throw new AddressSyntaxError('backslash outside a quoted string', i);
  checkChar(input, i);
  throw new AddressSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
}

function isWsp(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Skips whitespace, folds and comments from `i`; returns the next index. */
function skipCfws(input: string, i: number): number {
  for (;;) {
    const c = input[i];
    if (isWsp(c)) i++;
    else if (c === '\r' || c === '\n') i += foldLength(input, i);
    else if (c === '(') i = skipComment(input, i);
    else return i;
  }
}

/**
 * At a CR or LF: the length of the line break when it starts a fold (CRLF or
 * LF followed by a space or tab). Any other line break is an error.
 */
function foldLength(input: string, i: number): number {
  const crlf = input[i] === '\r' && input[i + 1] === '\n';
  if (input[i] === '\r' && !crlf) throw new AddressSyntaxError('CR not followed by LF', i);
  const length = crlf ? 2 : 1;
  if (!isWsp(input[i + length])) {
    throw new AddressSyntaxError('line break not followed by a space or tab (not a folded line)', i);
  }
  return length;
}

/** Refuses NUL and other control characters (TAB is fine). */
function checkChar(input: string, i: number): void {
  const code = input.charCodeAt(i);
  if (code === 0) throw new AddressSyntaxError('NUL character', i);
  if (code === 0x0d || code === 0x0a) throw new AddressSyntaxError('line break in a quoted pair', i);
  if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
    const hex = code.toString(16).toUpperCase().padStart(4, '0');
    throw new AddressSyntaxError(`control character U+${hex}`, i);
  }
}

function skipComment(input: string, open: number): number {
  let depth = 0;
  let i = open;
  for (;;) {
    const c = input[i];
    if (c === undefined) throw new AddressSyntaxError("unbalanced '(' (unterminated comment)", open);
    if (c === '(') depth++;
    if (c === ')' && --depth === 0) return i + 1;
    if (c === '\\') i += quotedPairLength(input, i, open, 'comment');
    else if (c === '\r' || c === '\n') i += foldLength(input, i);
    else {
      checkChar(input, i);
      i++;
    }
  }
}

function quotedPairLength(input: string, i: number, open: number, what: string): number {
  if (i + 1 >= input.length) throw new AddressSyntaxError(`unterminated ${what}`, open);
  checkChar(input, i + 1);
  return 2;
}

function readQuoted(input: string, open: number): Lexeme {
  let text = '';
  let i = open + 1;
  for (;;) {
    const c = input[i];
    if (c === undefined) throw new AddressSyntaxError('unterminated quoted string', open);
    if (c === '"') return { kind: 'quoted', text, end: i + 1 };
    if (c === '\\') {
      i += quotedPairLength(input, i, open, 'quoted string');
      text += input[i - 1];
    } else if (c === '\r' || c === '\n') {
      i += foldLength(input, i);
    } else {
      checkChar(input, i);
      text += c;
      i++;
    }
  }
}

function readLiteral(input: string, open: number): Lexeme {
  let text = '[';
  let i = open + 1;
  for (;;) {
    const c = input[i];
    if (c === undefined) throw new AddressSyntaxError("unbalanced '[' (unterminated domain literal)", open);
    if (c === ']') return { kind: 'literal', text: `${text}]`, end: i + 1 };
    if (c === '[') throw new AddressSyntaxError("'[' inside a domain literal", i);
    if (c === '\\') {
      i += quotedPairLength(input, i, open, 'domain literal');
      text += input.slice(i - 2, i);
    } else if (c === '\r' || c === '\n') {
      i += foldLength(input, i);
    } else if (isWsp(c)) {
      i++;
    } else {
      checkChar(input, i);
      text += c;
      i++;
    }
  }
}
