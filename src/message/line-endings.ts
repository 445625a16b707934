/**
 * Line endings to CRLF, as RFC 5321 §2.3.8 requires on the wire:
 *
 * - a bare LF (Unix mail) becomes CRLF;
 * - CR…CR LF is one line ending: a mail whose CRLF endings were converted
 *   once too often (CR CR LF) keeps its lines, as Postfix and msmtp read it;
 * - a CR followed by anything else (old Mac line endings) becomes CRLF, since
 *   the RFC forbids sending it alone; `a CR CR b` is two line endings;
 * - a last line without a newline gets one.
 *
 * Byte-level and streaming: CRs at the end of one chunk are held until the
 * next chunk shows what follows them.
 */
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export class LineEndingNormalizer {
  /** CRs at the end of the input so far, not yet known to be bare or part of CR…CR LF. */
  private heldCRs = 0;
  private endsLine = true;
  /** Reused output space, so a long stream does not allocate twice its size. */
  private scratch = Buffer.alloc(0);

  /** Returns the normalised chunk (the same buffer when it was already CRLF throughout). */
  push(input: Buffer): Buffer {
    if (input.length === 0) return input;
    if (this.heldCRs === 0 && input[input.length - 1] !== CR && isCrlfThroughout(input)) {
      this.endsLine = input[input.length - 1] === LF;
      return input;
    }
    const out = this.normalize(input);
    if (out.length > 0) this.endsLine = out[out.length - 1] === LF;
    return out;
  }

  /** What must follow the last chunk: held CRs as line endings, or a newline for an unfinished last line. */
  end(): Buffer {
    const held = this.heldCRs;
    this.heldCRs = 0;
    if (held > 0 || !this.endsLine) {
      this.endsLine = true;
      return held > 1 ? Buffer.from('\r\n'.repeat(held)) : CRLF;
    }
    return EMPTY;
  }

  private normalize(input: Buffer): Buffer {
    // Worst case: every byte a bare CR, each held CR a line ending.
    const room = input.length * 2 + this.heldCRs * 2;
    if (this.scratch.length < room) this.scratch = Buffer.allocUnsafe(Math.max(room, 64 * 1024));
    const out = this.scratch;
    let written = 0;
    let start = 0;
    if (this.heldCRs > 0) {
      const run = crRun(input, 0);
      start = run;
      if (run === input.length) {
        this.heldCRs += run;
        return EMPTY;
      }
      written = writeLineEndings(out, written, input[run] === LF ? 1 : this.heldCRs + run);
      if (input[run] === LF) start = run + 1;
      this.heldCRs = 0;
    }
    written = this.copyNormalized(input, start, out, written);
    return Buffer.from(out.subarray(0, written));
  }

  /** Copies `from[start..]` into `out` with every line ending made CRLF; holds CRs that end the chunk. */
  private copyNormalized(from: Buffer, start: number, out: Buffer, written: number): number {
    let cr = from.indexOf(CR, start);
    let lf = from.indexOf(LF, start);
    // Each search resumes past the previous hit: the chunk is scanned once per byte value.
    while (cr !== -1 || lf !== -1) {
      if (lf !== -1 && (cr === -1 || lf < cr)) {
        written += from.copy(out, written, start, lf); // a bare LF
        written = writeLineEndings(out, written, 1);
        start = lf + 1;
        lf = from.indexOf(LF, start);
        continue;
      }
      const end = crRun(from, cr);
      if (end > cr + 1 || from[end] !== LF) written += from.copy(out, written, start, cr);
      else written += from.copy(out, written, start, end + 1); // plain CRLF: copied as it is
      if (end === from.length) {
        this.heldCRs = end - cr;
        return written;
      }
      if (from[end] === LF) {
        if (end > cr + 1) written = writeLineEndings(out, written, 1);
        start = end + 1;
        lf = from.indexOf(LF, start);
      } else {
        written = writeLineEndings(out, written, end - cr);
        start = end;
      }
      cr = from.indexOf(CR, start);
    }
    return written + from.copy(out, written, start);
  }
}

/** The index after the run of CRs that starts at `at`. */
function crRun(chunk: Buffer, at: number): number {
  let end = at;
  while (chunk[end] === CR) end++;
  return end;
}

function writeLineEndings(out: Buffer, written: number, count: number): number {
  for (let i = 0; i < count; i++) {
    out[written++] = CR;
    out[written++] = LF;
  }
  return written;
}

/** True when every CR is followed by LF and every LF preceded by CR. */
function isCrlfThroughout(chunk: Buffer): boolean {
  let cr = chunk.indexOf(CR);
  let lf = chunk.indexOf(LF);
  while (cr !== -1 || lf !== -1) {
    if (cr === -1 || lf !== cr + 1) return false;
    cr = chunk.indexOf(CR, lf + 1);
    lf = chunk.indexOf(LF, lf + 1);
  }
  return true;
}

/**
 * Chunks that are CRLF throughout and say so: the spool's, normalised on
 * their way in (spool.ts). The send path leaves their line endings alone
 * instead of running a second normaliser over the same bytes.
 */
export interface CrlfChunks extends AsyncIterable<Buffer> {
  readonly crlfThroughout: true;
}

/** Marks chunks as CRLF throughout; only for bytes a LineEndingNormalizer produced. */
export function declareCrlf(chunks: AsyncIterable<Buffer>): CrlfChunks {
  return Object.assign(chunks, { crlfThroughout: true as const });
}

/** The line-ending pass a source needs on the way out: none for CrlfChunks, a LineEndingNormalizer for anything else. */
export function lineEndingsFor(source: object): Pick<LineEndingNormalizer, 'push' | 'end'> {
  return (source as Partial<CrlfChunks>).crlfThroughout === true ? ALREADY_CRLF : new LineEndingNormalizer();
}

const ALREADY_CRLF: Pick<LineEndingNormalizer, 'push' | 'end'> = { push: (input) => input, end: () => EMPTY };
