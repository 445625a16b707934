/**
 * RFC 5322 §2.1.1: a line of a header is at most 998 octets. A longer header
 * line is folded: a line break is put before a blank, which is exactly what
 * unfolding (§2.2.3) takes out again, so the field means the same. Each
 * piece keeps at least one non-blank octet (§3.2.2: no line of blanks only),
 * and is as long as it may be, so a field is changed as little as possible.
 * A line that cannot be folded that way (a run of more than 998 octets with
 * no blank to fold at) is left as it is, as msmtp passes every long line
 * through; the spool's `longestLine` shows it to whoever wants to refuse it.
 */
import { withRaw, type HeaderField } from './header-block.js';

export const MAX_LINE_OCTETS = 998;

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

function isBlank(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09;
}

/** The field with its over-long lines folded; the same object when no line is too long. */
export function foldLongLines(field: HeaderField, max = MAX_LINE_OCTETS): HeaderField {
  const lines = splitLines(field.raw);
  if (lines.every((line) => line.length <= max)) return field;
  const out: Buffer[] = [];
  for (const line of lines) for (const piece of foldLine(line, max)) out.push(piece);
  return withRaw(field, joinWithCrlf(out));
}

/** The lines of a raw field; its folds end as the normaliser reads them (LF, CR…CR LF, or a lone CR). */
export function splitLines(raw: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== CR && raw[i] !== LF) continue;
    lines.push(raw.subarray(start, i));
    let j = i;
    while (raw[j] === CR) j++;
    i = raw[j] === LF ? j : i;
    start = i + 1;
  }
  lines.push(raw.subarray(start));
  return lines;
}

/** One line cut before blanks into pieces of at most `max` octets; the line alone when that cannot be done. */
export function foldLine(line: Buffer, max = MAX_LINE_OCTETS): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  while (line.length - start > max) {
    const cut = foldPoint(line, start, max);
    if (cut === -1) return [line];
    pieces.push(line.subarray(start, cut));
    start = cut;
  }
  pieces.push(line.subarray(start));
  return pieces;
}

/** The last blank at most `max` octets after `start` that leaves a non-blank octet before it; -1 when there is none. */
function foldPoint(line: Buffer, start: number, max: number): number {
  let firstSolid = start;
  while (firstSolid < line.length && isBlank(line[firstSolid])) firstSolid++;
  for (let i = Math.min(start + max, line.length - 1); i > firstSolid; i--) {
    if (isBlank(line[i])) return i;
  }
  return -1;
}

function joinWithCrlf(lines: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  lines.forEach((line, i) => {
    if (i > 0) parts.push(CRLF);
    parts.push(line);
  });
  return Buffer.concat(parts);
}
