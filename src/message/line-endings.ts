/**
 * Line endings to CRLF, as RFC 5321 §2.3.8 requires on the wire: a bare LF
 * (Unix mail) becomes CRLF, and so does a bare CR (old Mac line endings; the
 * RFC forbids sending it alone). A last line without a newline gets one.
 * Byte-level and streaming: a CR at the end of one chunk is held until the
 * next chunk shows whether an LF follows.
 */
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export class LineEndingNormalizer {
  private pendingCR = false;
  private endsLine = true;

  /** Returns the normalised chunk (the same buffer when it was already CRLF throughout). */
  push(input: Buffer): Buffer {
    if (input.length === 0) return input;
    const out = this.normalize(input);
    if (out.length > 0) this.endsLine = out[out.length - 1] === LF;
    return out;
  }

  /** What must follow the last chunk: the held CR's LF, or a newline for an unfinished last line. */
  end(): Buffer {
    if (this.pendingCR) {
      this.pendingCR = false;
      this.endsLine = true;
      return CRLF;
    }
    if (this.endsLine) return EMPTY;
    this.endsLine = true;
    return CRLF;
  }

  private normalize(input: Buffer): Buffer {
    const heldCR = this.pendingCR;
    this.pendingCR = input[input.length - 1] === CR;
    const body = this.pendingCR ? input.subarray(0, input.length - 1) : input;
    // A held CR either pairs with a leading LF or stands alone; both become CRLF.
    const skip = heldCR && body[0] === LF ? 1 : 0;
    const rest = skip ? body.subarray(1) : body;
    const growth = bareLineEndings(rest);
    if (!heldCR && growth === 0) return rest;
    const out = Buffer.allocUnsafe(rest.length + growth + (heldCR ? 2 : 0));
    let written = 0;
    if (heldCR) written += CRLF.copy(out, 0);
    written = copyNormalized(rest, out, written);
    return written === out.length ? out : out.subarray(0, written);
  }
}

/** How many bare CRs and bare LFs the chunk has: each grows by one octet (no CR may end the chunk). */
function bareLineEndings(chunk: Buffer): number {
  let bare = 0;
  let cr = chunk.indexOf(CR);
  let lf = chunk.indexOf(LF);
  while (cr !== -1 || lf !== -1) {
    if (cr !== -1 && lf === cr + 1) {
      cr = chunk.indexOf(CR, lf + 1);
      lf = chunk.indexOf(LF, lf + 1);
    } else if (cr !== -1 && (lf === -1 || cr < lf)) {
      bare++;
      cr = chunk.indexOf(CR, cr + 1);
    } else {
      bare++;
      lf = chunk.indexOf(LF, lf + 1);
    }
  }
  return bare;
}

/** Copies `from` into `out` at `written` with every bare CR and bare LF turned into CRLF. */
function copyNormalized(from: Buffer, out: Buffer, written: number): number {
  let start = 0;
  let cr = from.indexOf(CR);
  let lf = from.indexOf(LF);
  // Each search resumes past the previous hit, so the whole chunk is scanned once per byte value.
  while (cr !== -1 || lf !== -1) {
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      if (lf === cr + 1) {
        cr = from.indexOf(CR, lf + 1); // already CRLF: keep copying in one run
        lf = from.indexOf(LF, lf + 1);
        continue;
      }
      written = copyWithCrlf(from, start, cr, out, written);
      start = cr + 1;
      cr = from.indexOf(CR, start);
    } else {
      written = copyWithCrlf(from, start, lf, out, written);
      start = lf + 1;
      lf = from.indexOf(LF, start);
    }
  }
  return written + from.copy(out, written, start);
}

function copyWithCrlf(from: Buffer, start: number, end: number, out: Buffer, written: number): number {
  written += from.copy(out, written, start, end);
  out[written++] = CR;
  out[written++] = LF;
  return written;
}
