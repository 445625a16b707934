/**
 * Streaming Content-Transfer-Encodings (RFC 2045 §6) for the 7-bit
 * conversion (seven-bit.ts): each takes a body part's octets in pieces of any
 * size, with its line breaks as separate calls, and writes 7-bit text to an
 * `Output`. Memory is a few bytes of state whatever the part's size.
 *
 * The body's last line break is not given to the encoder: RFC 2046 §5.1.1
 * makes the CRLF before a boundary part of the boundary, so `end()` closes
 * the last encoded line without one and the caller writes the boundary's.
 */

/** Where encoded bytes go: the conversion's output, or a counter for SIZE. */
export interface Output {
  write(bytes: Buffer): void;
}

/** A body part's content, fed in order: octets, line breaks (CRLF), then the end. */
export interface BodyRegion {
  data(bytes: Buffer): void;
  lineBreak(): void;
  end(): void;
}

const CRLF = Buffer.from('\r\n');
/** RFC 2045 §6.7 (5): encoded lines are at most 76 characters, the soft break's `=` included. */
const QP_LINE = 76;
const HEX = Buffer.from('0123456789ABCDEF');

/** Encoders fill a buffer of this size and hand it on whole: a write per line would be a garbage collector's feast. */
const SCRATCH = 64 * 1024;

/**
 * Quoted-printable (RFC 2045 §6.7): printable ASCII but `=` as it is, other
 * octets as `=XX`, a line break as CRLF, soft breaks (`=` CRLF) before a
 * line would pass 76 characters. A blank is held back until the next octet
 * shows whether it ends the line: at a line's end it is `=20` or `=09`
 * (rule 3: no trailing white space, which transports may strip).
 */
export class QuotedPrintableEncoder implements BodyRegion {
  private column = 0;
  private heldBlank = -1;
  private buffer = Buffer.allocUnsafe(SCRATCH);
  private at = 0;

  constructor(private readonly out: Output) {}

  data(bytes: Buffer): void {
    for (let i = 0; i < bytes.length; i++) {
      // Room for the worst an octet can add: a held blank and a soft break each, and `=XX`.
      if (this.at + 12 > this.buffer.length) this.flush();
      const byte = bytes[i]!;
      if (this.heldBlank !== -1) {
        this.put(this.heldBlank);
        this.heldBlank = -1;
      }
      if (byte === 0x20 || byte === 0x09) this.heldBlank = byte;
      else if (byte >= 0x21 && byte <= 0x7e && byte !== 0x3d) this.put(byte);
      else this.putEscaped(byte);
    }
  }

  lineBreak(): void {
    this.closeLine();
    if (this.at + 2 > this.buffer.length) this.flush();
    this.buffer[this.at++] = 0x0d;
    this.buffer[this.at++] = 0x0a;
    this.column = 0;
  }

  end(): void {
    this.closeLine();
    this.flush();
  }

  /** A blank held at the line's end is encoded (rule 3). */
  private closeLine(): void {
    if (this.heldBlank === -1) return;
    if (this.at + 8 > this.buffer.length) this.flush();
    this.putEscaped(this.heldBlank);
    this.heldBlank = -1;
  }

  private put(byte: number): void {
    this.softBreakFor(1);
    this.buffer[this.at++] = byte;
  }

  private putEscaped(byte: number): void {
    this.softBreakFor(3);
    this.buffer[this.at++] = 0x3d;
    this.buffer[this.at++] = HEX[byte >> 4]!;
    this.buffer[this.at++] = HEX[byte & 15]!;
  }

  /** `=` CRLF when `length` more characters would take the line past 76 with its own `=`. */
  private softBreakFor(length: number): void {
    if (this.column + length > QP_LINE - 1) {
      this.buffer[this.at++] = 0x3d;
      this.buffer[this.at++] = 0x0d;
      this.buffer[this.at++] = 0x0a;
      this.column = 0;
    }
    this.column += length;
  }

  private flush(): void {
    if (this.at === 0) return;
    this.out.write(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.allocUnsafe(SCRATCH); // the written one now belongs to the output
    this.at = 0;
  }
}

/** 57 octets make one 76-character base64 line (RFC 2045 §6.8); the staging buffer holds whole lines. */
const B64_LINE_OCTETS = 57;
const B64_STAGE = B64_LINE_OCTETS * 1024;
const B64_LINE = 76;

/**
 * Base64 (RFC 2045 §6.8) in lines of 76 characters. The part's line breaks
 * are data here (a canonical CRLF), so they are encoded with the rest.
 * Octets are staged until 1024 lines' worth can be encoded at once.
 */
export class Base64Encoder implements BodyRegion {
  private stage = Buffer.allocUnsafe(B64_STAGE);
  private staged = 0;
  private lines = 0;

  constructor(private readonly out: Output) {}

  data(bytes: Buffer): void {
    for (let from = 0; from < bytes.length; ) {
      const n = bytes.copy(this.stage, this.staged, from, Math.min(bytes.length, from + B64_STAGE - this.staged));
      this.staged += n;
      from += n;
      if (this.staged === B64_STAGE) this.encode();
    }
  }

  lineBreak(): void {
    this.data(CRLF);
  }

  end(): void {
    this.encode();
  }

  private encode(): void {
    if (this.staged === 0) return;
    const text = this.stage.toString('base64', 0, this.staged);
    const lineCount = Math.ceil(text.length / B64_LINE);
    const encoded = Buffer.allocUnsafe(text.length + (lineCount - 1 + (this.lines > 0 ? 1 : 0)) * 2);
    let at = 0;
    for (let i = 0; i < text.length; i += B64_LINE) {
      // A line break before every line but the part's first: the last line's is the boundary's.
      if (this.lines++ > 0) at += encoded.write('\r\n', at, 'latin1');
      at += encoded.write(text.slice(i, i + B64_LINE), at, 'latin1');
    }
    this.out.write(encoded.subarray(0, at));
    this.staged = 0;
  }
}

/**
 * A part whose octets go out as they are but for those above 127, which
 * `replace` turns into 7-bit bytes (or drops): used for a preamble or
 * epilogue (`?`), a quoted-printable part with stray 8-bit octets (`=XX`,
 * what a lenient decoder makes of them anyway) and a base64 part with some
 * (dropped, as every base64 decoder ignores them, RFC 2045 §6.8).
 */
export class OctetFilter implements BodyRegion {
  constructor(
    private readonly out: Output,
    private readonly replace: ((byte: number) => string) | undefined,
  ) {}

  data(bytes: Buffer): void {
    if (!this.replace || !bytes.some((b) => b >= 0x80)) {
      this.out.write(bytes);
      return;
    }
    let text = '';
    for (const byte of bytes) text += byte < 0x80 ? String.fromCharCode(byte) : this.replace(byte);
    this.out.write(Buffer.from(text, 'latin1'));
  }

  lineBreak(): void {
    this.out.write(CRLF);
  }

  end(): void {}
}

/** `=XX` for an octet, as quoted-printable writes it. */
export function qpEscape(byte: number): string {
  return `=${String.fromCharCode(HEX[byte >> 4]!, HEX[byte & 15]!)}`;
}
