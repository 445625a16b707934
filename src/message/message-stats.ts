/**
 * What the SMTP layer must know about a message before MAIL FROM, counted as
 * the bytes pass (they are already CRLF throughout):
 *
 * - `octets`: the size RFC 1870 means, CRLF line endings included, before
 *   dot-stuffing;
 * - `has8bit`: a byte ≥ 0x80 somewhere (RFC 6152 BODY=8BITMIME);
 * - `firstNulLine`: the line of the first NUL byte (RFC 5321 forbids it in
 *   DATA; the caller decides);
 * - `longestLine`: the longest line in octets without its CRLF (RFC 5321
 *   §4.5.3.1.6 allows 998);
 * - `lines`: how many lines.
 */
import { isAscii } from 'node:buffer';

const LF = 0x0a;
const CR = 0x0d;

export interface MessageStats {
  readonly octets: number;
  readonly has8bit: boolean;
  readonly hasNul: boolean;
  /** 1-based, in the message as spooled; undefined without NUL. */
  readonly firstNulLine: number | undefined;
  readonly longestLine: number;
  readonly lines: number;
}

export class StatsCounter implements MessageStats {
  octets = 0;
  has8bit = false;
  firstNulLine: number | undefined;
  longestLine = 0;
  lines = 0;
  /** Octets of the line not yet ended, its line ending's CR included. */
  private open = 0;
  private lastByte = -1;

  get hasNul(): boolean {
    return this.firstNulLine !== undefined;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.octets += chunk.length;
    if (!this.has8bit && !isAscii(chunk)) this.has8bit = true;
    const nul = this.firstNulLine === undefined ? chunk.indexOf(0) : -1;
    let start = 0;
    let lf = chunk.indexOf(LF);
    while (lf !== -1) {
      if (nul !== -1 && nul < lf && this.firstNulLine === undefined && nul >= start) this.firstNulLine = this.lines + 1;
      this.endLine(this.open + lf - start, lf > 0 ? chunk[lf - 1] : this.lastByte);
      start = lf + 1;
      lf = chunk.indexOf(LF, start);
    }
    if (nul !== -1 && nul >= start && this.firstNulLine === undefined) this.firstNulLine = this.lines + 1;
    this.open += chunk.length - start;
    this.lastByte = chunk[chunk.length - 1]!;
  }

  /** Counts a last line without a line ending (a normalised message has none). */
  end(): void {
    if (this.open > 0) this.endLine(this.open, -1);
    this.open = 0;
  }

  private endLine(lengthWithCr: number, before: number | undefined): void {
    const length = before === CR ? lengthWithCr - 1 : lengthWithCr;
    if (length > this.longestLine) this.longestLine = length;
    this.lines++;
    this.open = 0;
  }

  snapshot(): MessageStats {
    const { octets, has8bit, hasNul, firstNulLine, longestLine, lines } = this;
    return { octets, has8bit, hasNul, firstNulLine, longestLine, lines };
  }
}
