import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Base64Encoder, QuotedPrintableEncoder, type BodyRegion, type Output } from '../../src/message/transfer-encoding.js';

/** Feeds `content` (its CRLFs as line breaks) to an encoder in pieces cut at `cuts`; returns what it wrote. */
function encode(make: (out: Output) => BodyRegion, content: Buffer, cuts: readonly number[]): Buffer {
  const written: Buffer[] = [];
  const region = make({ write: (bytes) => written.push(Buffer.from(bytes)) });
  const lines = content.toString('latin1').split('\r\n');
  let offset = 0;
  const sorted = [...cuts].sort((a, b) => a - b);
  lines.forEach((line, i) => {
    if (i > 0) region.lineBreak();
    const bytes = Buffer.from(line, 'latin1');
    let start = 0;
    for (const cut of sorted.filter((c) => c > offset && c < offset + bytes.length)) {
      region.data(bytes.subarray(start, cut - offset));
      start = cut - offset;
    }
    region.data(bytes.subarray(start));
    offset += bytes.length + 2;
  });
  region.end();
  return Buffer.concat(written);
}

function decodeQp(text: string): Buffer {
  const bytes: number[] = [];
  const joined = text.replace(/=\r\n/g, '');
  for (let i = 0; i < joined.length; i++) {
    if (joined[i] === '=') {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(joined.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/** Octets with CRLF line breaks only (as the spool gives them): lines of any length, long ones too. */
const content = fc
  .array(fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.constant(new Uint8Array(1200).fill(0x20)), fc.uint8Array({ minLength: 990, maxLength: 1100 })), { maxLength: 6 })
  .map((lines) => Buffer.from(lines.map((l) => Buffer.from(l.filter((b) => b !== 0x0a && b !== 0x0d)).toString('latin1')).join('\r\n'), 'latin1'));
const cuts = fc.array(fc.nat(8000), { maxLength: 10 });

describe('quoted-printable (RFC 2045 §6.7), streaming', () => {
  it('decodes back to the octets, in lines of at most 76 without trailing blanks, however the input is cut (property)', () => {
    fc.assert(
      fc.property(content, cuts, (octets, at) => {
        const whole = encode((out) => new QuotedPrintableEncoder(out), octets, []);
        expect(encode((out) => new QuotedPrintableEncoder(out), octets, at)).toEqual(whole);
        expect(decodeQp(whole.toString('latin1'))).toEqual(octets);
        for (const line of whole.toString('latin1').split('\r\n')) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line).not.toMatch(/[ \t]$/);
          expect(line).toMatch(/^[\x21-\x7e \t]*$/);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('encodes a blank before a line break, and keeps one before other text', () => {
    const out = encode((o) => new QuotedPrintableEncoder(o), Buffer.from('a b \r\n\t\r\n=\xe9', 'latin1'), []);
    expect(out.toString('latin1')).toBe('a b=20\r\n=09\r\n=3D=E9');
  });
});

describe('base64 (RFC 2045 §6.8), streaming', () => {
  it('is Node’s base64 of the octets in lines of 76, however cut, across its 1,024-line staging (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.array(fc.nat(200_000), { maxLength: 12 }), (length, at) => {
        const octets = Buffer.alloc(length);
        for (let i = 0; i < length; i++) octets[i] = (i * 7919) % 251 === 13 ? 0x0d : (i * 31) % 256;
        // No CRLF in the data: every octet goes through data() (lineBreak is covered by the test below).
        const clean = Buffer.from(octets.toString('latin1').replace(/\r\n/g, '\r.'), 'latin1');
        const out = encode((o) => new Base64Encoder(o), clean, at).toString('latin1');
        expect(out.split('\r\n').every((line) => line.length <= 76)).toBe(true);
        expect(out.replace(/\r\n/g, '')).toBe(clean.toString('base64'));
        expect(out.endsWith('\r\n')).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('encodes the part’s line breaks as data (canonical CRLF)', () => {
    const out = encode((o) => new Base64Encoder(o), Buffer.from('a\r\nb', 'latin1'), []);
    expect(Buffer.from(out.toString('latin1'), 'base64').toString('latin1')).toBe('a\r\nb');
  });
});
