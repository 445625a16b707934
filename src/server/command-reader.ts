/**
 * The server's reader of what a client sends: pure, byte-level, incremental.
 *
 * In command mode it yields command lines. RFC 5321 §2.3.8 ends a line with
 * CRLF; a bare LF is accepted too, since that is what a person typing at the
 * server sends. A line longer than the limit is reported once and then
 * discarded up to the next LF, so memory stays bounded however long it is.
 *
 * In data mode (after the session has answered DATA with 354) it streams the
 * message out, removing dot-stuffing (RFC 5321 §4.5.2), until the end marker
 * CRLF "." CRLF. Only that exact sequence ends the data: "LF.LF" or "LF.CRLF"
 * do not, because servers that accept them can be fooled into reading a
 * second, smuggled message out of the first. A bare CR or LF inside the data
 * is passed through and reported at the end, so the session can refuse it.
 *
 * For BDAT (RFC 3030) it reads a counted chunk instead: exactly n octets,
 * passed on unchanged (no dot-stuffing, no end marker to look for, so nothing
 * in them can end the chunk early or smuggle a command), then 'chunk-end'.
 *
 * The reader is pulled, not pushed: `push()` stores bytes, `next()` yields one
 * event at a time. The session switches to data mode between two `next()`
 * calls, so bytes already buffered after DATA are read in the right mode, and
 * commands pipelined after the end of the data come out as lines again.
 */

export const DEFAULT_MAX_LINE_LENGTH = 4096;

export type ReaderEvent =
  /** One command line, without its line ending. */
  | { readonly type: 'line'; readonly line: Buffer }
  /** A command line over the limit (reported once, its bytes discarded). */
  | { readonly type: 'line-too-long' }
  /** Message bytes, dot-stuffing removed. */
  | { readonly type: 'data'; readonly bytes: Buffer }
  /** The end of the message data; the reader is back in command mode. */
  | { readonly type: 'data-end'; readonly bareLineEnding: boolean }
  /** The end of a BDAT chunk (all its octets have come out as 'data'); back in command mode. */
  | { readonly type: 'chunk-end' };

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CR_BYTE = Buffer.from([CR]);
const EMPTY = Buffer.alloc(0);

/**
 * Where the data reader stands. Only `line-start` (after CRLF, or at the very
 * start) gives a dot its special meaning.
 */
type DataState =
  | 'line-start'
  /** A dot at the start of a line, not yet passed on. */
  | 'dot'
  /** "." CR at the start of a line: the end marker if LF follows. Both held back. */
  | 'dot-cr'
  | 'middle'
  /** A CR that has been passed on; LF makes it a line end. */
  | 'cr';

export class CommandReader {
  private readonly maxLineLength: number;
  private buffer: Buffer = EMPTY;
  private offset = 0;
  private mode: 'command' | 'data' | 'chunk' = 'command';
  /** Octets of the BDAT chunk still to come. */
  private chunkLeft = 0;
  /** After an over-long line: drop bytes up to and including the next LF. */
  private discarding = false;
  private state: DataState = 'line-start';
  private bareLineEnding = false;
  private endPending = false;

  /** `maxLineLength` counts the octets of a command line without its line ending. */
  constructor(maxLineLength = DEFAULT_MAX_LINE_LENGTH) {
    this.maxLineLength = maxLineLength;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.buffer =
      this.offset >= this.buffer.length
        ? chunk
        : Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    this.offset = 0;
  }

  /** Called by the session once it has answered DATA with 354. */
  startData(): void {
    if (this.mode === 'data' || this.endPending) throw new Error('already reading message data');
    this.mode = 'data';
    this.state = 'line-start';
    this.bareLineEnding = false;
  }

  /** Called by the session for BDAT: the next `size` octets are message data, whatever they are. */
  startChunk(size: number): void {
    if (this.mode !== 'command' || this.endPending) throw new Error('already reading message data');
    this.mode = 'chunk';
    this.chunkLeft = size;
  }

  get readingData(): boolean {
    return this.mode !== 'command' || this.endPending;
  }

  /**
   * Forgets every byte pushed and not yet read. After STARTTLS nothing the
   * client sent in the clear may be taken as a command (RFC 3207 §5).
   */
  discardBuffered(): void {
    this.buffer = EMPTY;
    this.offset = 0;
    this.discarding = false;
  }

  /** The next event from the bytes pushed so far, or undefined when more are needed. */
  next(): ReaderEvent | undefined {
    if (this.endPending) {
      this.endPending = false;
      return { type: 'data-end', bareLineEnding: this.bareLineEnding };
    }
    if (this.mode === 'chunk') return this.nextChunk();
    return this.mode === 'command' ? this.nextLine() : this.nextData();
  }

  private nextChunk(): ReaderEvent | undefined {
    if (this.chunkLeft === 0) {
      this.mode = 'command';
      return { type: 'chunk-end' };
    }
    const available = this.buffer.length - this.offset;
    if (available === 0) return undefined;
    const take = Math.min(available, this.chunkLeft);
    const bytes = this.buffer.subarray(this.offset, this.offset + take);
    this.offset += take;
    this.chunkLeft -= take;
    return { type: 'data', bytes };
  }

  private nextLine(): ReaderEvent | undefined {
    const buffer = this.buffer;
    let lf = buffer.indexOf(LF, this.offset);
    while (this.discarding) {
      if (lf === -1) {
        this.offset = buffer.length;
        return undefined;
      }
      this.discarding = false;
      this.offset = lf + 1;
      lf = buffer.indexOf(LF, this.offset);
    }
    if (lf === -1) return this.checkPartialLine();
    const end = lf > this.offset && buffer[lf - 1] === CR ? lf - 1 : lf;
    const line = buffer.subarray(this.offset, end);
    this.offset = lf + 1;
    if (line.length > this.maxLineLength) return { type: 'line-too-long' };
    return { type: 'line', line };
  }

  /** Reports a line as too long as soon as its unfinished part proves it. */
  private checkPartialLine(): ReaderEvent | undefined {
    const pending = this.buffer.length - this.offset;
    // One octet beyond the limit may still be the CR of the line ending.
    const tooLong =
      pending > this.maxLineLength + 1 ||
      (pending === this.maxLineLength + 1 && this.buffer[this.buffer.length - 1] !== CR);
    if (!tooLong) return undefined;
    this.discarding = true;
    this.offset = this.buffer.length;
    return { type: 'line-too-long' };
  }

  /**
   * Reads data up to the end of the buffer or the end marker. Bytes that pass
   * through unchanged leave as slices of the input ("runs"); a byte that is
   * dropped (a stuffing dot, the held-back marker) ends the current run.
   */
  private nextData(): ReaderEvent | undefined {
    const buffer = this.buffer;
    const pieces: Buffer[] = [];
    let runStart = this.offset;
    const cut = (at: number): void => {
      if (at > runStart) pieces.push(buffer.subarray(runStart, at));
      runStart = at + 1;
    };
    let state = this.state;
    let i = this.offset;
    for (; i < buffer.length; i++) {
      const byte = buffer[i]!;
      if (state === 'dot-cr') {
        if (byte === LF) {
          this.finishData(i + 1);
          break;
        }
        // "." CR then something else: the dot was stuffing, the CR is bare.
        pieces.push(CR_BYTE);
        state = 'cr';
      }
      if (state === 'line-start' && byte === DOT) {
        cut(i);
        state = 'dot';
      } else if (state === 'dot' && byte === CR) {
        cut(i);
        state = 'dot-cr';
      } else {
        state = this.stepText(state, byte);
      }
    }
    if (this.mode === 'data') {
      cut(buffer.length);
      this.offset = buffer.length;
      this.state = state;
    }
    if (pieces.length === 0) return this.endPending ? this.next() : undefined;
    return { type: 'data', bytes: pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces) };
  }

  /** Moves through ordinary message text, noting any bare CR or LF. */
  private stepText(state: DataState, byte: number): DataState {
    if (byte === LF) {
      if (state === 'cr') return 'line-start';
      this.bareLineEnding = true;
      return 'middle';
    }
    if (state === 'cr') this.bareLineEnding = true;
    return byte === CR ? 'cr' : 'middle';
  }

  private finishData(resumeAt: number): void {
    this.offset = resumeAt;
    this.mode = 'command';
    this.state = 'line-start';
    this.endPending = true;
  }
}
