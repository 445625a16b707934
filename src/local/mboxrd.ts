/**
 * mboxrd quoting, streaming: every line that starts with zero or more `>`
 * and then `From ` gets one more `>` in front, so a reader that splits the
 * file at `From ` lines never splits inside a mail, and one that unquotes
 * (mboxrd) gets the line back exactly. Input has LF line endings. A line's
 * start may be split across chunks: the `>` count and how much of `From `
 * has been seen are kept as numbers between chunks, never the bytes (a line
 * of a million `>` costs nothing).
 */
const FROM_ = Buffer.from('From ');
const GT = 0x3e;
const LF = 0x0a;

export class MboxrdQuoter {
  /** At the start of a line, still deciding: how many `>` and how many bytes of `From ` were seen. */
  private deciding = true;
  private gts = 0;
  private matched = 0;

  /** The quoted bytes of `chunk` (a new buffer; may be empty while a line start is undecided). */
  push(chunk: Uint8Array): Buffer {
    const input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const parts: Buffer[] = [];
    let i = 0;
    while (i < input.length) {
      if (this.deciding) {
        const byte = input[i]!;
        if (this.matched === 0 && byte === GT) {
          this.gts++;
          i++;
        } else if (byte === FROM_[this.matched]) {
          this.matched++;
          i++;
          if (this.matched === FROM_.length) parts.push(this.release(true));
        } else {
          parts.push(this.release(false));
        }
        continue;
      }
      const lf = input.indexOf(LF, i);
      const end = lf < 0 ? input.length : lf + 1;
      parts.push(input.subarray(i, end));
      i = end;
      if (lf >= 0) this.deciding = true;
    }
    return Buffer.concat(parts);
  }

  /** What is still held at the end of the mail (a last line that began like `>>Fro`). */
  end(): Buffer {
    return this.deciding ? this.release(false) : Buffer.alloc(0);
  }

  private release(quote: boolean): Buffer {
    const held = Buffer.concat([Buffer.alloc(this.gts + (quote ? 1 : 0), '>'), FROM_.subarray(0, this.matched)]);
    this.deciding = false;
    this.gts = 0;
    this.matched = 0;
    return held;
  }
}
