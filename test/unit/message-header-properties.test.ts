import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { parseAddressList } from '../../src/message/address-list.js';
import { fromField } from '../../src/message/new-fields.js';
import { HeaderScanner, type ScanResult } from '../../src/message/header-reader.js';
import { LineEndingNormalizer } from '../../src/message/line-endings.js';

function normalize(bytes: Buffer): Buffer {
  const n = new LineEndingNormalizer();
  return Buffer.concat([n.push(bytes), n.end()]);
}

/** Scans `input` cut at `cuts`; returns the result and the whole body as received. */
function scanAt(input: Buffer, cuts: readonly number[]): { result: ScanResult; body: Buffer } {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, input.length]) {
    chunks.push(input.subarray(start, point));
    start = point;
  }
  const scanner = new HeaderScanner();
  const body: Buffer[] = [];
  let result: ScanResult | undefined;
  for (const chunk of chunks) {
    if (result) body.push(chunk);
    else {
      result = scanner.push(chunk);
      if (result) body.push(...result.bodyHead);
    }
  }
  if (!result) {
    result = scanner.end();
    body.push(...result.bodyHead);
  }
  return { result, body: Buffer.concat(body) };
}

const line = fc.oneof(
  fc.constantFrom(
    'Subject: hello',
    'To: a@example.org, "B, b" <b@example.org>',
    ' folded part',
    '\tfolded with a tab',
    '',
    'From sender@example.org Mon Jan  1 00:00:00 2024',
    'From : obs@example.org',
    'Cc :',
    'X-8bit: Gr\xfc\xdfe \xc3\xa9',
    'not a header',
    ': starts with a colon',
    ' ',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 20 }),
);
const ending = fc.constantFrom('\r\n', '\n', '\r', '\r\r\n', '\r\r');
const mailLike = fc
  .array(fc.tuple(line, ending), { maxLength: 12 })
  .map((lines) => Buffer.from(lines.map(([l, e]) => l + e).join(''), 'latin1'));
const anyBytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
const input = fc.oneof(mailLike, anyBytes, fc.tuple(mailLike, anyBytes).map(([a, b]) => Buffer.concat([a, b])));
const cuts = fc.array(fc.nat(), { maxLength: 4 });

describe('header reader properties', () => {
  it('never throws anything but an OutboxError (E_BAD_DATA), however the input is cut', () => {
    // Some inputs start with a header line holding a NUL, so that the refusal path is taken too
    // (the inputs above almost never reach it), and checked to be taken.
    const nulFirst = fc.tuple(fc.constantFrom('X-Nul: a\0b\n', 'Subject: \0\r\n', 'To: x@y\r\n \0folded\r\n'), input)
      .map(([first, rest]) => Buffer.concat([Buffer.from(first, 'latin1'), rest]));
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(input, nulFirst), cuts, (bytes, at) => {
        try {
          scanAt(bytes, at);
        } catch (error) {
          refused += 1;
          expect(error).toBeInstanceOf(OutboxError);
          expect((error as OutboxError).code).toBe('E_BAD_DATA');
        }
      }),
      { numRuns: 2000 },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('serialising the header unchanged, then the body, gives back the normalised input byte for byte', () => {
    fc.assert(
      fc.property(input, cuts, (bytes, at) => {
        let scanned;
        try {
          scanned = scanAt(bytes, at);
        } catch {
          return; // NUL in the header
        }
        const { result, body } = scanned;
        const header = result.header;
        const given = header.mboxFromLine ? bytes.subarray(firstLineLength(bytes)) : bytes;
        let head = header.serialize();
        if (header.end === 'body-line') {
          expect(head.subarray(-2).toString()).toBe('\r\n'); // the separator we insert
          head = head.subarray(0, -2);
        }
        expect(Buffer.concat([head, normalize(body)]).equals(normalize(given))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same fields however the input is cut', () => {
    fc.assert(
      fc.property(input, cuts, (bytes, at) => {
        let whole;
        try {
          whole = scanAt(bytes, []);
        } catch {
          expect(() => scanAt(bytes, at)).toThrow(OutboxError);
          return;
        }
        const cut = scanAt(bytes, at);
        expect(cut.result.header.fields).toEqual(whole.result.header.fields);
        expect(cut.result.header.end).toBe(whole.result.header.end);
        expect(cut.body.equals(whole.body)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

/** The length of the first line with its ending (LF, CR…CR LF, or one CR). */
function firstLineLength(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a) return i + 1;
    if (bytes[i] !== 0x0d) continue;
    let j = i;
    while (bytes[j] === 0x0d) j++;
    return bytes[j] === 0x0a ? j + 1 : i + 1;
  }
  return bytes.length;
}

describe('From header properties', () => {
  const name = fc.string({ unit: 'grapheme', maxLength: 120 }).filter((s) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s));
  it('any full name without control characters reads back unchanged with our own address parser', () => {
    fc.assert(
      fc.property(name, (fullName) => {
        const field = fromField('alice@example.org', fullName);
        const raw = field.raw.toString('utf8');
        expect(raw.split('\r\n').every((l) => Buffer.byteLength(l) <= 998)).toBe(true);
        expect(/^[\x20-\x7e\r\n\t]*$/.test(raw)).toBe(true); // ASCII only: non-ASCII names are encoded
        const parsed = parseAddressList(field.value);
        const expected = fullName === '' ? { address: 'alice@example.org' } : { name: fullName, address: 'alice@example.org' };
        expect(parsed).toEqual([expected]);
      }),
      { numRuns: 2000 },
    );
  });
});
