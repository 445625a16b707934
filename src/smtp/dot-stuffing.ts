/**
 * RFC 5321 §4.5.2 transparency: a line of message data that starts with "."
 * gets one more "." in front, and the data ends with CRLF "." CRLF. The input
 * must already have CRLF line endings (see `src/message/line-endings.ts`).
 * Byte-level and streaming: chunks may split lines anywhere.
 */
const LF = 0x0a;
const DOT = 0x2e;
const NEWLINE_DOT = Buffer.from('\n.');
const TERMINATOR_AT_LINE_START = Buffer.from('.\r\n');
const TERMINATOR_MID_LINE = Buffer.from('\r\n.\r\n');

export class DotStuffer {
  private atLineStart = true;

  /** Returns the stuffed chunk (the same buffer when nothing needed stuffing). */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const positions = this.dotsToStuff(chunk);
    this.atLineStart = chunk[chunk.length - 1] === LF;
    if (positions.length === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + positions.length);
    let written = 0;
    let from = 0;
    for (const at of positions) {
      written += chunk.copy(out, written, from, at);
      out[written++] = DOT;
      from = at;
    }
    chunk.copy(out, written, from);
    return out;
  }

  /** The end-of-data indication; CRLF first when the data did not end a line. */
  end(): Buffer {
    return this.atLineStart ? TERMINATOR_AT_LINE_START : TERMINATOR_MID_LINE;
  }

  private dotsToStuff(chunk: Buffer): number[] {
    const positions: number[] = [];
    if (this.atLineStart && chunk[0] === DOT) positions.push(0);
    for (let i = chunk.indexOf(NEWLINE_DOT); i !== -1; i = chunk.indexOf(NEWLINE_DOT, i + 2)) {
      positions.push(i + 1);
    }
    return positions;
  }
}
