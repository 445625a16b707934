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

  constructor(private readonly out: Output) {}

  data(bytes: Buffer): void {
    // Worst case 3 characters per octet, plus a soft break per 25 octets.
    const buffer = Buffer.allocUnsafe(bytes.length * 3 + Math.ceil(bytes.length / 24) * 3 + 8);
    let at = 0;
    const put = (length: number): void => {
      if (this.column + length > QP_LINE - 1) {
        buffer[at++] = 0x3d;
        buffer[at++] = 0x0d;
        buffer[at++] = 0x0a;
        this.column = 0;
      }
      this.column += length;
    };
    for (const byte of bytes) {
      if (this.heldBlank !== -1) {
        put(1);
        buffer[at++] = this.heldBlank;
        this.heldBlank = -1;
      }
      if (byte === 0x20 || byte === 0x09) {
        this.heldBlank = byte;
      } else if (byte >= 0x21 && byte <= 0x7e && byte !== 0x3d) {
        put(1);
        buffer[at++] = byte;
      } else {
        put(3);
        buffer[at++] = 0x3d;
        buffer[at++] = HEX[byte >> 4]!;
        buffer[at++] = HEX[byte & 15]!;
      }
    }
    if (at > 0) this.out.write(buffer.subarray(0, at));
  }

  lineBreak(): void {
    this.end();
    this.out.write(CRLF);
    this.column = 0;
  }

  end(): void {
    if (this.heldBlank === -1) return;
    const blank = this.heldBlank;
    this.heldBlank = -1;
    const encoded = Buffer.from(blank === 0x20 ? '=20' : '=09');
    this.out.write(this.column + 3 > QP_LINE - 1 ? Buffer.concat([Buffer.from('=\r\n'), encoded]) : encoded);
    this.column = this.column + 3 > QP_LINE - 1 ? 3 : this.column + 3;
  }
}

/** 57 octets make one 76-character base64 line (RFC 2045 §6.8). */
const B64_LINE_OCTETS = 57;

/**
 * Base64 (RFC 2045 §6.8) in lines of 76 characters. The part's line breaks
 * are data here (a canonical CRLF), so they are encoded with the rest.
 */
export class Base64Encoder implements BodyRegion {
  private pending = Buffer.alloc(0);
  private lines = 0;

  constructor(private readonly out: Output) {}

  data(bytes: Buffer): void {
    const all = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const whole = all.length - (all.length % B64_LINE_OCTETS);
    if (whole > 0) {
      const parts: string[] = [];
      for (let i = 0; i < whole; i += B64_LINE_OCTETS) {
        parts.push(`${this.lines++ > 0 ? '\r\n' : ''}${all.toString('base64', i, i + B64_LINE_OCTETS)}`);
      }
      this.out.write(Buffer.from(parts.join(''), 'latin1'));
    }
    this.pending = Buffer.from(all.subarray(whole));
  }

  lineBreak(): void {
    this.data(CRLF);
  }

  end(): void {
    if (this.pending.length > 0) this.out.write(Buffer.from(`${this.lines++ > 0 ? '\r\n' : ''}${this.pending.toString('base64')}`, 'latin1'));
    this.pending = Buffer.alloc(0);
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
