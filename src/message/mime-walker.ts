/**
 * A MIME message's structure read as it streams past (RFC 2045, RFC 2046),
 * in constant memory: header blocks, multipart boundaries at any depth,
 * `message/rfc822` bodies read as messages, and the leaf parts' content
 * handed to a `MimeVisitor` piece by piece. Used twice by seven-bit.ts: once
 * to learn what each part holds, once to convert it.
 *
 * Lines are found by LF (the input is CRLF throughout, the spool's
 * promise). A line is given whole when it is at most `PEEK` octets, else in
 * pieces: such a line can never be a boundary (a delimiter is at most 74
 * octets plus transport padding). Only the header block being read is held
 * whole, up to `MAX_HEADER` octets. Boundary rules follow RFC 2046 §5.1.1:
 * the CRLF before a delimiter belongs to it, not to the part; a delimiter of
 * an enclosing multipart ends every part inside it.
 */
import { conversionError } from './header-7bit.js';
import { boundaryOf, contentType, groupFields, transferEncoding, type ContentType, type RawField } from './mime-header.js';
import type { BodyRegion } from './transfer-encoding.js';

const PEEK = 4096;
const MAX_HEADER = 1024 * 1024;
/** Postfix's `mime_nesting_limit`: deeper multiparts are refused, not guessed at. */
const MAX_DEPTH = 100;
const CRLF = Buffer.from('\r\n');

export type EntityKind = 'leaf' | 'multipart' | 'message';

export interface Entity {
  readonly kind: EntityKind;
  readonly type: ContentType;
  /** Content-Transfer-Encoding in lower case (`7bit` when absent). */
  readonly encoding: string;
  readonly fields: readonly RawField[];
  /** A message's own header (the top level or a `message/rfc822` body), not a body part's. */
  readonly isMessage: boolean;
  /** A message header that says it is MIME (MIME-Version, Content-Type or Content-Transfer-Encoding). */
  readonly isMime: boolean;
  /** Inside a multipart/signed (RFC 1847): nothing here may change. */
  readonly signed: boolean;
  /** Leaves are numbered in order, so a plan made by one pass applies in the next. */
  readonly leafIndex: number;
}

export interface MimeVisitor {
  /** An entity's header block has been read; `fields` end with CRLF each. */
  header(entity: Entity): void;
  /** The region that gets a leaf's content, or a multipart's preamble or epilogue (`entity` undefined). */
  region(entity: Entity | undefined, signed: boolean): BodyRegion;
  /** Structure written as it is: separators, delimiter lines. */
  raw(bytes: Buffer): void;
}

interface Frame {
  readonly boundary: Buffer;
  readonly digest: boolean;
  /** This multipart or one around it is multipart/signed. */
  readonly signed: boolean;
  epilogue: boolean;
}

export class MimeWalker {
  private readonly frames: Frame[] = [];
  private state: 'header' | 'body' = 'header';
  private isMessage = true;
  private defaultType: ContentType | undefined;
  private headerLines: Buffer[] = [];
  private headerBytes = 0;
  private region: BodyRegion | undefined;
  /** A line of content ended: its CRLF is the content's, unless a delimiter follows (then it is the delimiter's). */
  private pending = false;
  private leaves = 0;
  /** The current line's octets so far (up to PEEK), and whether pieces of it were already given out. */
  private line: Buffer[] = [];
  private lineBytes = 0;
  private lineSplit = false;

  constructor(private readonly visitor: MimeVisitor) {}

  /**
   * A line that lies whole in the chunk is given as a view of it, without a
   * copy (the visitor uses it before the next chunk); only a line cut by the
   * chunk's end is copied, up to PEEK octets.
   */
  push(chunk: Buffer): void {
    let start = 0;
    for (let lf = chunk.indexOf(0x0a); lf !== -1; lf = chunk.indexOf(0x0a, start)) {
      if (this.lineBytes === 0 && !this.lineSplit) {
        this.piece(chunk.subarray(start, lf > start && chunk[lf - 1] === 0x0d ? lf - 1 : lf), true, true);
      } else {
        this.collect(chunk.subarray(start, lf));
        this.endLine();
      }
      start = lf + 1;
    }
    if (start < chunk.length) this.collect(chunk.subarray(start));
  }

  end(): void {
    if (this.lineBytes > 0 || this.lineSplit) this.piece(this.takeLine(), !this.lineSplit, false);
    if (this.state === 'header') this.finishHeader(false);
    if (this.pending) this.region?.lineBreak();
    this.region?.end();
  }

  private collect(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.line.push(Buffer.from(bytes));
    this.lineBytes += bytes.length;
    if (this.lineBytes <= PEEK) return;
    // Too long to be a delimiter: give it out now, but keep a final CR, which may start the CRLF.
    const all = this.takeLine();
    const keepCr = all[all.length - 1] === 0x0d ? 1 : 0;
    this.piece(all.subarray(0, all.length - keepCr), !this.lineSplit, false);
    this.lineSplit = true;
    if (keepCr) this.collect(all.subarray(all.length - 1));
  }

  private takeLine(): Buffer {
    const all = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line);
    this.line = [];
    this.lineBytes = 0;
    return all;
  }

  private endLine(): void {
    let all = this.takeLine();
    if (all[all.length - 1] === 0x0d) all = all.subarray(0, all.length - 1);
    const first = !this.lineSplit;
    this.lineSplit = false;
    this.piece(all, first, true);
  }

  /** A piece of a line: `first` when it starts the line, `complete` when the line's CRLF follows it. */
  private piece(bytes: Buffer, first: boolean, complete: boolean): void {
    const whole = first && complete;
    if (this.state === 'header') {
      if (whole && this.delimiter(bytes)) return;
      if (whole && bytes.length === 0) {
        this.finishHeader(true);
        return;
      }
      // A field, the continuation of one, or the rest of a long line; anything else starts the body.
      if (!first || bytes[0] === 0x20 || bytes[0] === 0x09 || bytes.indexOf(0x3a) > 0) {
        this.addHeaderLine(bytes, first, complete);
        return;
      }
      // Not a field: the header ends here and this line starts the body (as readers take it).
      this.finishHeader(true);
    }
    if (first) {
      if (whole && this.delimiter(bytes)) return;
      this.flushPending();
    }
    this.region?.data(bytes);
    if (complete) this.pending = true;
  }

  private addHeaderLine(bytes: Buffer, first: boolean, complete: boolean): void {
    this.headerBytes += bytes.length + 2;
    if (this.headerBytes > MAX_HEADER) throw conversionError(`a header block is longer than ${MAX_HEADER} octets`);
    const piece = complete ? Buffer.concat([bytes, CRLF]) : Buffer.from(bytes);
    if (first) this.headerLines.push(piece);
    else this.headerLines[this.headerLines.length - 1] = Buffer.concat([this.headerLines[this.headerLines.length - 1]!, piece]);
  }

  private flushPending(): void {
    if (this.pending) this.region?.lineBreak();
    this.pending = false;
  }

  /** The header block is complete; `separated` when an empty line (or a body line) follows it. */
  private finishHeader(separated: boolean): void {
    const fields = groupFields(this.headerLines);
    this.headerLines = [];
    this.headerBytes = 0;
    const signed = this.frames.some((f) => f.signed);
    const isMime = !this.isMessage || fields.some((f) => f.name === 'mime-version' || f.name === 'content-type' || f.name === 'content-transfer-encoding');
    const type = isMime ? contentType(fields, this.defaultType) : contentType([]);
    const encoding = isMime ? transferEncoding(fields) : '7bit';
    const identity = encoding === '7bit' || encoding === '8bit' || encoding === 'binary';
    const boundary = type.mediaType.startsWith('multipart/') && identity ? boundaryOf(type) : undefined;
    const kind: EntityKind = boundary ? 'multipart' : type.mediaType === 'message/rfc822' && identity ? 'message' : 'leaf';
    const entity: Entity = { kind, type, encoding, fields, isMessage: this.isMessage, isMime, signed, leafIndex: kind === 'leaf' ? this.leaves++ : -1 };
    this.visitor.header(entity);
    // The empty line after the header (or the one a body line without it implies) is structure.
    if (separated) this.visitor.raw(CRLF);
    this.pending = false;
    this.defaultType = undefined;
    if (kind === 'message') {
      this.isMessage = true; // the body is a message: its header comes next
      return;
    }
    this.state = 'body';
    if (kind === 'multipart') {
      if (this.frames.length >= MAX_DEPTH) throw conversionError(`multiparts are nested more than ${MAX_DEPTH} deep`);
      this.frames.push({ boundary: boundary!, digest: type.mediaType === 'multipart/digest', signed: signed || type.mediaType === 'multipart/signed', epilogue: false });
      this.region = this.visitor.region(undefined, signed || type.mediaType === 'multipart/signed');
    } else {
      this.region = this.visitor.region(entity, signed);
    }
  }

  /** A delimiter line of an open multipart (innermost first): handled, and true. */
  private delimiter(line: Buffer): boolean {
    if (line.length < 3 || line.length > PEEK || line[0] !== 0x2d || line[1] !== 0x2d || this.frames.length === 0) return false;
    for (let depth = this.frames.length - 1; depth >= 0; depth--) {
      const frame = this.frames[depth]!;
      if (frame.epilogue || !startsWithAt(line, frame.boundary, 2)) continue;
      const after = line.subarray(2 + frame.boundary.length);
      const close = after[0] === 0x2d && after[1] === 0x2d;
      if (!/^[ \t]*$/.test(after.subarray(close ? 2 : 0).toString('latin1'))) continue;
      this.startDelimiter(depth, close, line);
      return true;
    }
    return false;
  }

  private startDelimiter(depth: number, close: boolean, line: Buffer): void {
    if (this.state === 'header') this.finishHeader(false);
    // The CRLF before the delimiter is the delimiter's (RFC 2046 §5.1.1), never the part's.
    this.region?.end();
    this.region = undefined;
    if (this.pending) this.visitor.raw(CRLF);
    this.pending = false;
    this.frames.length = depth + 1;
    const frame = this.frames[depth]!;
    this.visitor.raw(Buffer.concat([line, CRLF]));
    if (close) {
      frame.epilogue = true;
      this.state = 'body';
      this.region = this.visitor.region(undefined, frame.signed);
      return;
    }
    this.state = 'header';
    this.isMessage = false;
    this.defaultType = frame.digest ? { mediaType: 'message/rfc822', params: new Map() } : undefined;
  }
}

function startsWithAt(line: Buffer, prefix: Buffer, at: number): boolean {
  return line.length >= at + prefix.length && line.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}
