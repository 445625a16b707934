/**
 * A mail's header block (RFC 5322 §2.2) as read: every field in order, with
 * its bytes as received, so that a field nobody changes is written back byte
 * for byte (only its line endings become CRLF). Fields we make ourselves go
 * through `makeField`, which refuses anything that could end the field early:
 * no header injection.
 */
import { OutboxError } from '../errors.js';
import { LineEndingNormalizer } from './line-endings.js';

export interface HeaderField {
  /** The field name as written (`Subject`, `cc`), without the colon or the whitespace obs-syntax allows before it. */
  readonly name: string;
  /** The field's bytes as received: name, colon, value and folds with their own line endings; without the final line ending. */
  readonly raw: Buffer;
  /**
   * The value after the colon, unfolded (RFC 5322 §2.2.3: the line breaks of
   * folds removed, their whitespace kept) and with leading and trailing
   * blanks removed. The bytes are read as UTF-8 when the whole field is valid
   * UTF-8 (RFC 6532), otherwise as latin1, so every byte maps to one character.
   */
  readonly value: string;
  /** The line of the input (1-based) the field starts on; 0 for a field we made. */
  readonly line: number;
}

/**
 * How the header block ended: at an empty line (the RFC's separator), at a
 * line that cannot be part of a header (the body starts there and an empty
 * line is inserted when writing), or at the end of the input (no body).
 */
export type HeaderEnd = 'empty-line' | 'body-line' | 'eof';

export interface HeaderBlockExtras {
  /** The first input line when it was an mbox `From ` line, dropped from the mail as sendmail does. */
  readonly mboxFromLine?: Buffer;
  /** The input line (1-based) on which the body starts. */
  readonly bodyStartLine?: number;
}

const CRLF = Buffer.from('\r\n');

export class HeaderBlock {
  readonly mboxFromLine: Buffer | undefined;
  readonly bodyStartLine: number;

  constructor(
    readonly fields: readonly HeaderField[],
    readonly end: HeaderEnd,
    extras: HeaderBlockExtras = {},
  ) {
    this.mboxFromLine = extras.mboxFromLine;
    this.bodyStartLine = extras.bodyStartLine ?? 1;
  }

  /** The first field with this name (case-insensitive). */
  get(name: string): HeaderField | undefined {
    return this.fields.find((field) => isNamed(field, name));
  }

  getAll(name: string): HeaderField[] {
    return this.fields.filter((field) => isNamed(field, name));
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** The same block (same end, same extras) with other fields. */
  withFields(fields: readonly HeaderField[]): HeaderBlock {
    return new HeaderBlock(fields, this.end, { mboxFromLine: this.mboxFromLine, bodyStartLine: this.bodyStartLine });
  }

  /**
   * The block as it goes on the wire: each field with CRLF line endings, then
   * the empty line that separates it from the body, unless the input ended
   * with the header block (a mail without a body has no separator).
   */
  serialize(): Buffer {
    const parts = this.fields.map(fieldBytes);
    if (this.end !== 'eof') parts.push(CRLF);
    return Buffer.concat(parts);
  }
}

/** The name compares case-insensitively (RFC 5322 §1.2.2). */
export function isNamed(field: HeaderField, name: string): boolean {
  return field.name.length === name.length && field.name.toLowerCase() === name.toLowerCase();
}

/** One field as written: its raw bytes with every line ending CRLF, and a final CRLF. */
export function fieldBytes(field: HeaderField): Buffer {
  const normalizer = new LineEndingNormalizer();
  const body = normalizer.push(field.raw);
  return Buffer.concat([body, normalizer.end()]);
}

const FTEXT = /^[\x21-\x39\x3b-\x7e]+$/;
/** A fold we write: CRLF followed by a blank; any other CR, LF or NUL is refused. */
const BAD_BREAK = /\r(?!\n[ \t])|(?<!\r)\n|\0/;

/**
 * A field we write: `name: text`, where `text` may contain folds (CRLF + blank)
 * made by our own encoders, and nothing else that ends a line. The name must
 * be printable ASCII without a colon (RFC 5322 ftext).
 */
export function makeField(name: string, text: string): HeaderField {
  if (!FTEXT.test(name)) throw new Error(`invalid header field name ${JSON.stringify(name)}`);
  if (BAD_BREAK.test(text)) {
    throw new OutboxError('E_USAGE', `refusing to write a ${name} header with a line break or NUL in it: ${JSON.stringify(text)}`);
  }
  const raw = Buffer.from(`${name}: ${text}`, 'utf8');
  return { name, raw, value: trimBlanks(text.replace(/\r\n/g, '')), line: 0 };
}

/** A field with other raw bytes (a repaired fold, say): the name, value and line stay. */
export function withRaw(field: HeaderField, raw: Buffer): HeaderField {
  return { name: field.name, raw, value: field.value, line: field.line };
}

export function trimBlanks(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 when the bytes are valid UTF-8, latin1 otherwise (every byte one character, nothing lost). */
export function decodeHeaderBytes(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  }
}
