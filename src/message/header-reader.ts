/**
 * Reads a mail's header block from a stream (RFC 5322 §2.2, §3.6, obsolete
 * syntax of §4.5) and hands back the rest, still a stream.
 *
 * - Lines end exactly where the line-ending normaliser ends them: at LF,
 *   at CR…CR LF (one ending), and at each CR followed by anything else; CRs
 *   at the end of a chunk wait for the next one.
 * - A field starts with a name (printable ASCII but ':'), optional blanks
 *   (obs-optional, `Subject : x`) and a colon; a line starting with a blank
 *   continues the field before it (folding). 8-bit bytes may appear anywhere
 *   after the name.
 * - The block ends at the first empty line (the body follows it), at EOF (a
 *   mail that is only headers), or at the first line that is neither a field
 *   nor a continuation: that line starts the body (as Postfix reads it), so
 *   a mail with no headers at all is all body. A first line `From ...` (an
 *   mbox separator, not a field) is dropped, as sendmail does.
 * - NUL in a header line, or a header block over `maxHeaderBytes`, is
 *   OutboxError('E_BAD_DATA') (exit 65) naming the line.
 */
import { OutboxError } from '../errors.js';
import {
  HeaderBlock,
  decodeHeaderBytes,
  trimBlanks,
  type HeaderEnd,
  type HeaderField,
} from './header-block.js';

/** The mail as chunks of bytes: standard input, a file stream, or buffers in tests. */
export type MessageSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;
/** RFC 5322 §2.1.1: a line is at most 998 octets; no field name can be longer. */
const MAX_NAME_PREFIX = 998;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const EMPTY = Buffer.alloc(0);
const CR_BYTES = Buffer.from('\r');
const LF_BYTES = Buffer.from('\n');
const MBOX_FROM = Buffer.from('From ');

export interface HeaderReaderOptions {
  /** The largest header block accepted, line endings included (default 1 MiB). */
  maxHeaderBytes?: number;
}

export interface ScanResult {
  readonly header: HeaderBlock;
  /** The first bytes of the body, as received (the rest of the chunk that ended the header block). */
  readonly bodyHead: Buffer[];
}

type LineKind = 'empty' | 'field' | 'continuation' | 'mbox' | 'body' | 'undecided';

/** How the header block ended; `head` and `tail` CRs are the first bytes of the body. */
interface Outcome {
  readonly end: HeaderEnd;
  readonly head?: Buffer;
  readonly tail?: number;
}

interface Line {
  readonly bytes: Buffer;
  readonly ending: Buffer;
}

/** The index of the first byte at or after `from` that is not CR. */
function crRunEnd(chunk: Buffer, from: number): number {
  let i = from;
  while (i < chunk.length && chunk[i] === CR) i++;
  return i;
}

function isBlank(byte: number | undefined): boolean {
  return byte === SP || byte === HTAB;
}

function isFtext(byte: number): boolean {
  return byte >= 0x21 && byte <= 0x7e && byte !== COLON;
}

/**
 * What a line (or its first bytes, when `complete` is false) is. `first`: no
 * field has been read yet; `inField`: a field is open, so a blank-led line
 * continues it.
 */
function classifyLine(prefix: Buffer, complete: boolean, first: boolean, inField: boolean): LineKind {
  if (prefix.length === 0) return complete ? 'empty' : 'undecided';
  if (isBlank(prefix[0])) return inField ? 'continuation' : 'body';
  let i = 0;
  while (i < prefix.length && isFtext(prefix[i]!)) i++;
  const nameEnd = i;
  if (nameEnd === 0) return 'body';
  while (i < prefix.length && isBlank(prefix[i])) i++;
  if (i === prefix.length) return complete || i > MAX_NAME_PREFIX ? 'body' : 'undecided';
  if (prefix[i] === COLON) return 'field';
  if (first && nameEnd === 4 && prefix.subarray(0, 5).equals(MBOX_FROM)) return 'mbox';
  return 'body';
}

/**
 * The header block as a push parser: feed chunks until one returns the result;
 * call `end()` at EOF. Tests drive it at every split point.
 */
export class HeaderScanner {
  private readonly maxBytes: number;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private kind: LineKind = 'undecided';
  /** CRs at the end of the input so far, not yet known to be one line ending (before LF) or several. */
  private heldCRs = 0;
  private field: Line[] = [];
  private fieldLine = 0;
  private readonly fields: HeaderField[] = [];
  private lineNo = 0;
  private consumed = 0;
  private mbox: Buffer | undefined;
  private done = false;

  constructor(options: HeaderReaderOptions = {}) {
    this.maxBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  /** Reads a chunk; returns the result once the header block has ended. */
  push(chunk: Buffer): ScanResult | undefined {
    if (this.done) throw new Error('the header block was already read');
    let pos = 0;
    if (this.heldCRs > 0 && chunk.length > 0) {
      const run = crRunEnd(chunk, 0);
      if (run === chunk.length) {
        this.heldCRs += run;
        return undefined;
      }
      const crs = this.heldCRs + run;
      this.heldCRs = 0;
      pos = chunk[run] === LF ? run + 1 : run;
      const end = this.crRun(crs, chunk[run] === LF);
      if (end) return this.finish(end, [chunk.subarray(pos)]);
    }
    while (pos < chunk.length) {
      const cr = chunk.indexOf(CR, pos);
      const lf = chunk.indexOf(LF, pos);
      const stop = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (stop === -1) return this.appendPartial(chunk.subarray(pos));
      this.append(chunk.subarray(pos, stop));
      if (chunk[stop] === LF) {
        pos = stop + 1;
        const end = this.completeLine(LF_BYTES);
        if (end) return this.finish(end, [chunk.subarray(pos)]);
        continue;
      }
      const run = crRunEnd(chunk, stop);
      if (run === chunk.length) {
        this.heldCRs = run - stop;
        return undefined;
      }
      pos = chunk[run] === LF ? run + 1 : run;
      const end = this.crRun(run - stop, chunk[run] === LF);
      if (end) return this.finish(end, [chunk.subarray(pos)]);
    }
    return undefined;
  }

  /** The input ended: whatever line is open is the last one. */
  end(): ScanResult {
    if (this.done) throw new Error('the header block was already read');
    if (this.heldCRs > 0) {
      const crs = this.heldCRs;
      this.heldCRs = 0;
      const end = this.crRun(crs, false);
      if (end) return this.finish(end, []);
    } else if (this.partsLength > 0) {
      const end = this.completeLine(EMPTY);
      if (end) return this.finish(end, []);
    }
    this.flushField();
    return this.finish({ end: 'eof' }, []);
  }

  /**
   * A run of `crs` CRs after the open line, as the line-ending normaliser
   * reads it: followed by LF it is one line ending (CR CR LF is CRLF written
   * twice); otherwise every CR ends a line, so a second CR is an empty line.
   */
  private crRun(crs: number, beforeLF: boolean): Outcome | undefined {
    if (beforeLF) return this.completeLine(Buffer.alloc(crs + 1, CR).fill(LF, crs));
    const first = this.completeLine(CR_BYTES);
    if (first) return { ...first, tail: crs - 1 };
    if (crs === 1) return undefined;
    const empty = this.completeLine(CR_BYTES);
    return empty && { ...empty, tail: crs - 2 };
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.partsLength += bytes.length;
  }

  /** Part of a line, no line end yet: start the body now if the line already shows it is body. */
  private appendPartial(bytes: Buffer): ScanResult | undefined {
    this.append(bytes);
    if (this.kind === 'undecided') {
      this.kind = classifyLine(this.linePrefix(), false, this.isFirstLine(), this.field.length > 0);
    }
    if (this.kind === 'body') {
      this.flushField();
      const head = Buffer.concat(this.parts);
      this.parts = [];
      this.partsLength = 0;
      return this.finish({ end: 'body-line' }, [head]);
    }
    this.checkSize(this.consumed + this.partsLength, this.lineNo + 1);
    return undefined;
  }

  private linePrefix(): Buffer {
    const first = this.parts[0] ?? EMPTY;
    if (this.parts.length === 1 || first.length > MAX_NAME_PREFIX) return first;
    return Buffer.concat(this.parts).subarray(0, MAX_NAME_PREFIX + 1);
  }

  private isFirstLine(): boolean {
    return this.fields.length === 0 && this.field.length === 0 && this.mbox === undefined && this.lineNo === 0;
  }

  /** A whole line has been read; returns how the block ends when this line ends it. */
  private completeLine(ending: Buffer): Outcome | undefined {
    const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const kind = classifyLine(bytes, true, this.isFirstLine(), this.field.length > 0);
    this.parts = [];
    this.partsLength = 0;
    this.kind = 'undecided';
    this.lineNo++;
    if (kind === 'empty' || kind === 'body') {
      this.flushField();
      if (kind === 'empty') return { end: 'empty-line' };
      this.lineNo--; // the body starts on this line
      return { end: 'body-line', head: Buffer.concat([bytes, ending]) };
    }
    this.checkNul(bytes);
    this.consumed += bytes.length + ending.length;
    this.checkSize(this.consumed, this.lineNo);
    if (kind === 'mbox') this.mbox = bytes;
    else if (kind === 'continuation') this.field.push({ bytes, ending });
    else {
      this.flushField();
      this.field = [{ bytes, ending }];
      this.fieldLine = this.lineNo;
    }
    return undefined;
  }

  private checkNul(bytes: Buffer): void {
    if (bytes.indexOf(0) === -1) return;
    throw new OutboxError('E_BAD_DATA', `the mail has a NUL byte in its header, line ${this.lineNo}`);
  }

  private checkSize(size: number, line: number): void {
    if (size <= this.maxBytes) return;
    throw new OutboxError(
      'E_BAD_DATA',
      `the mail's header block is larger than ${this.maxBytes} bytes (at line ${line}); ` +
        'is the empty line between header and body missing?',
    );
  }

  private flushField(): void {
    if (this.field.length === 0) return;
    this.fields.push(buildField(this.field, this.fieldLine));
    this.field = [];
  }

  private finish(outcome: Outcome, rest: Buffer[]): ScanResult {
    this.done = true;
    const bodyStartLine = this.lineNo + 1;
    const header = new HeaderBlock(this.fields, outcome.end, { mboxFromLine: this.mbox, bodyStartLine });
    const tail = Buffer.alloc(outcome.tail ?? 0, CR);
    const bodyHead = [outcome.head ?? EMPTY, tail, ...rest].filter((b) => b.length > 0);
    return { header, bodyHead };
  }
}

function buildField(lines: readonly Line[], line: number): HeaderField {
  const first = lines[0]!.bytes;
  const colon = first.indexOf(COLON);
  const name = first.subarray(0, colon).toString('latin1').replace(/[ \t]+$/, '');
  const rawParts: Buffer[] = [];
  const valueParts: Buffer[] = [first.subarray(colon + 1)];
  lines.forEach((l, i) => {
    rawParts.push(l.bytes);
    if (i < lines.length - 1) rawParts.push(l.ending);
    if (i > 0) valueParts.push(l.bytes);
  });
  const raw = Buffer.concat(rawParts);
  return { name, raw, value: trimBlanks(decodeHeaderBytes(Buffer.concat(valueParts))), line };
}

export interface ReadHeaderResult {
  readonly header: HeaderBlock;
  /** The bytes after the header block, as received (line endings untouched). Can be read once. */
  readonly body: AsyncIterable<Buffer>;
}

/**
 * Reads the header block from `source` and returns it with the rest of the
 * mail as a stream. A failing source is OutboxError('E_IO').
 */
export async function readHeader(source: MessageSource, options: HeaderReaderOptions = {}): Promise<ReadHeaderResult> {
  const iterator = openSource(source);
  const scanner = new HeaderScanner(options);
  try {
    for (;;) {
      const next = await readNext(iterator);
      const result = next.done ? scanner.end() : scanner.push(toBuffer(next.value));
      if (result) return { header: result.header, body: streamBody(result.bodyHead, next.done ? undefined : iterator) };
    }
  } catch (error) {
    await closeQuietly(iterator);
    throw error;
  }
}

type ChunkIterator = AsyncIterator<Uint8Array> | Iterator<Uint8Array>;

function openSource(source: MessageSource): ChunkIterator {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  return source[Symbol.iterator]();
}

async function readNext(iterator: ChunkIterator): Promise<IteratorResult<Uint8Array>> {
  try {
    return await iterator.next();
  } catch (error) {
    if (error instanceof OutboxError) throw error;
    throw new OutboxError('E_IO', `cannot read the mail: ${(error as Error).message}`, { cause: error });
  }
}

async function closeQuietly(iterator: ChunkIterator): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // the error that made us stop is the one worth reporting
  }
}

/** A chunk of a MessageSource as a Buffer without copying it: the chunk itself, or a view of its memory. */
export function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

async function* streamBody(head: readonly Buffer[], iterator: ChunkIterator | undefined): AsyncGenerator<Buffer> {
  let finished = iterator === undefined;
  try {
    for (const chunk of head) yield chunk;
    while (iterator && !finished) {
      const next = await readNext(iterator);
      if (next.done) finished = true;
      else if (next.value.length > 0) yield toBuffer(next.value);
    }
  } finally {
    if (!finished && iterator) await closeQuietly(iterator);
  }
}
