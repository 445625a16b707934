import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineEndingNormalizer } from '../../src/message/line-endings.js';
import { DotStuffer } from '../../src/smtp/dot-stuffing.js';
import { splits } from '../helpers/splits.js';

function normalize(chunks: readonly string[]): string {
  const n = new LineEndingNormalizer();
  const out = chunks.map((c) => n.push(Buffer.from(c, 'latin1')).toString('latin1'));
  return out.join('') + n.end().toString('latin1');
}

function stuff(chunks: readonly string[]): string {
  const s = new DotStuffer();
  const out = chunks.map((c) => s.push(Buffer.from(c, 'latin1')).toString('latin1'));
  return out.join('') + s.end().toString('latin1');
}

/** A reference unstuffer (RFC 5321 §4.5.2, receiver side) written independently of the stuffer. */
function unstuff(wire: string): string {
  expect(wire.endsWith('.\r\n')).toBe(true);
  const lines = wire.slice(0, -3).split('\r\n');
  lines.pop(); // the data before the terminator ends with CRLF
  return lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).map((l) => `${l}\r\n`).join('');
}


describe('LineEndingNormalizer', () => {
  const cases: Array<[string, string]> = [
    ['a\r\nb\r\n', 'a\r\nb\r\n'],
    ['a\nb\n', 'a\r\nb\r\n'],
    ['a\rb\r', 'a\r\nb\r\n'],
    ['a\r\r\nb', 'a\r\nb\r\n'], // CR CR LF: CRLF converted twice, one line ending
    ['a\r\r\r\nb\r\r\n', 'a\r\nb\r\n'],
    ['a\r\rb', 'a\r\n\r\nb\r\n'], // old Mac: two line endings
    ['\r\r', '\r\n\r\n'],
    ['\r\r\n', '\r\n'],
    ['a\n\rb', 'a\r\n\r\nb\r\n'],
    ['last line', 'last line\r\n'],
    ['', ''],
    ['\n', '\r\n'],
    ['\r', '\r\n'],
    ['\r\n\n\r\r', '\r\n\r\n\r\n\r\n'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} at every chunk split`, () => {
      for (const chunks of splits(input)) expect(normalize(chunks), JSON.stringify(chunks)).toBe(expected);
    });
  }

  it('passes CRLF input through without copying', () => {
    const chunk = Buffer.from('a\r\nb\r\nc');
    expect(new LineEndingNormalizer().push(chunk)).toBe(chunk);
  });

  it('property: output has only CRLF line endings, ends a line, and keeps every other byte in order', () => {
    const alphabet = fc.constantFrom('a', '.', '\r', '\n', 'é', ' ');
    fc.assert(fc.property(fc.array(fc.array(alphabet, { maxLength: 30 }).map((a) => a.join('')), { maxLength: 5 }), (chunks) => {
      const out = normalize(chunks);
      expect(/\r(?!\n)|(?<!\r)\n/.test(out)).toBe(false);
      if (out.length) expect(out.endsWith('\r\n')).toBe(true);
      expect(out.replace(/[\r\n]/g, '')).toBe(chunks.join('').replace(/[\r\n]/g, ''));
      expect(normalize([chunks.join('')])).toBe(out);
      expect(normalize([out])).toBe(out); // idempotent
    }));
  });
});

describe('DotStuffer', () => {
  const cases: Array<[string, string]> = [
    ['a\r\n', 'a\r\n.\r\n'],
    ['.a\r\n', '..a\r\n.\r\n'],
    ['a\r\n.\r\n', 'a\r\n..\r\n.\r\n'],
    ['a\r\n..b\r\n', 'a\r\n...b\r\n.\r\n'],
    ['a.b\r\n', 'a.b\r\n.\r\n'],
    ['', '.\r\n'],
    ['no newline', 'no newline\r\n.\r\n'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} at every chunk split`, () => {
      for (const chunks of splits(input)) expect(stuff(chunks), JSON.stringify(chunks)).toBe(expected);
    });
  }

  it('property: stuffing then unstuffing gives back the normalised input, whatever the chunking', () => {
    const alphabet = fc.constantFrom('a', '.', '..', '\r', '\n', '\r\n', '\r\n.\r\n', 'x');
    fc.assert(fc.property(fc.array(fc.array(alphabet, { maxLength: 20 }).map((a) => a.join('')), { maxLength: 6 }), (chunks) => {
      const normalizer = new LineEndingNormalizer();
      const stuffer = new DotStuffer();
      let wire = '';
      let normalized = '';
      for (const chunk of chunks) {
        const n = normalizer.push(Buffer.from(chunk, 'latin1'));
        normalized += n.toString('latin1');
        wire += stuffer.push(n).toString('latin1');
      }
      const tail = normalizer.end();
      normalized += tail.toString('latin1');
      wire += stuffer.push(tail).toString('latin1') + stuffer.end().toString('latin1');
      expect(unstuff(wire)).toBe(normalized);
      // The terminator appears exactly once, at the end.
      expect(`\r\n${wire}`.indexOf('\r\n.\r\n')).toBe(wire.length - 3);
    }));
  });
});
