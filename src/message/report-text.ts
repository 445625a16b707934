/**
 * Text helpers for the delivery report (delivery-report.ts): making text
 * from outside (a server's reply, a local reason) safe to put in a header
 * field or a body line, wrapping it, and quoted-printable (RFC 2045 §6.7)
 * for a part that would otherwise need 8-bit octets or over-long lines.
 * Pure.
 */

/** C0 controls (TAB included), DEL and C1 controls: never written from free text. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]+/g;

/**
 * Free text as one line: every run of controls (CR and LF first) becomes one
 * space, and blanks are collapsed, so text from a server can never start a
 * header line or a body line of its own.
 */
export function oneLine(text: string): string {
  return text.replace(CONTROLS, ' ').replace(/ {2,}/g, ' ').trim();
}

/** Non-ASCII characters as `?`, for the 7-bit parts. */
export function asciiOnly(text: string): string {
  return text.replace(/[^\x00-\x7f]/gu, '?');
}

export function isAscii(text: string): boolean {
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * The words of one-line text, each at most `maxOctets` UTF-8 octets: a longer
 * word is cut (between characters) into pieces, since a line may be folded
 * only at a blank and a line has a hard limit (RFC 5322 §2.1.1).
 */
export function boundedWords(text: string, maxOctets: number): string[] {
  const words: string[] = [];
  for (const word of text.split(' ')) {
    if (word === '') continue;
    let piece = '';
    let octets = 0;
    for (const char of word) {
      const size = Buffer.byteLength(char, 'utf8');
      if (octets + size > maxOctets) {
        words.push(piece);
        piece = '';
        octets = 0;
      }
      piece += char;
      octets += size;
    }
    words.push(piece);
  }
  return words;
}

/**
 * Word-wraps one-line text into lines of at most `width` characters (a word
 * longer than that is cut), the lines after the first indented by `indent`.
 */
export function wrap(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of boundedWords(text, width - indent.length)) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = indent + word;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

const QP_LINE = 76;

function qpLine(line: Buffer): string {
  let out = '';
  let column = 0;
  line.forEach((byte, i) => {
    const last = i === line.length - 1;
    const literal = (byte >= 0x21 && byte <= 0x7e && byte !== 0x3d) || ((byte === 0x20 || byte === 0x09) && !last);
    const piece = literal ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    // Leave room for the `=` of a soft line break.
    if (column + piece.length > QP_LINE - 1) {
      out += '=\r\n';
      column = 0;
    }
    out += piece;
    column += piece.length;
  });
  return out;
}

/**
 * Quoted-printable of CRLF-separated content: every line break stays a
 * line break (CRLF), every other octet outside printable ASCII (and `=`, and
 * a blank at a line's end) is `=XX`, and no encoded line is longer than 76.
 */
export function quotedPrintable(content: Buffer): Buffer {
  const lines: string[] = [];
  let start = 0;
  for (let i = content.indexOf('\r\n'); i !== -1; i = content.indexOf('\r\n', start)) {
    lines.push(qpLine(content.subarray(start, i)));
    start = i + 2;
  }
  const rest = content.subarray(start);
  return Buffer.from(lines.map((line) => `${line}\r\n`).join('') + (rest.length > 0 ? qpLine(rest) : ''), 'latin1');
}
