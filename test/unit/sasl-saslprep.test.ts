import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { saslprep } from '../../src/sasl/saslprep.js';

const ok = (input: string): string => {
  const result = saslprep(input);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.value;
};
const reason = (input: string): string => {
  const result = saslprep(input);
  if (result.ok) throw new Error(`accepted as ${JSON.stringify(result.value)}`);
  return result.reason;
};

describe('SASLprep (RFC 4013)', () => {
  it('reproduces the examples of RFC 4013 §3', () => {
    expect(ok('I\u00adX')).toBe('IX'); // SOFT HYPHEN mapped to nothing
    expect(ok('user')).toBe('user');
    expect(ok('USER')).toBe('USER'); // case preserved
    expect(ok('\u00aa')).toBe('a'); // NFKC
    expect(ok('\u2168')).toBe('IX'); // NFKC
    expect(reason('\u0007')).toBe('an ASCII control character');
    expect(reason('\u0627\u0031')).toMatch(/right-to-left/); // bidirectional check
  });

  it('maps non-ASCII spaces to SPACE', () => {
    for (const space of ['\u00a0', '\u1680', '\u2000', '\u2005', '\u200a', '\u202f', '\u205f', '\u3000']) expect(ok(`a${space}b`)).toBe('a b');
  });

  it('removes the characters commonly mapped to nothing', () => {
    for (const nothing of ['\u00ad', '\u034f', '\u1806', '\u180b', '\u200b', '\u200c', '\u200d', '\u2060', '\ufe00', '\ufe0f', '\ufeff']) expect(ok(`a${nothing}b`)).toBe('ab');
  });

  it('normalizes with NFKC', () => {
    expect(ok('e\u0301')).toBe('\u00e9');
    expect(ok('a\u0340')).toBe('\u00e0'); // U+0340 is prohibited (C.8) but normalization has already replaced it
    expect(ok('\ufb01')).toBe('fi');
    expect(ok('\uff21')).toBe('A');
  });

  it.each([
    ['0000', 'an ASCII control character'],
    ['007F', 'an ASCII control character'],
    ['0085', 'a non-ASCII control character'],
    ['2028', 'a non-ASCII control character'],
    ['1D173', 'a non-ASCII control character'],
    ['E000', 'a private-use character'],
    ['F0000', 'a private-use character'],
    ['10FFFD', 'a private-use character'],
    ['FDD0', 'a non-character code point'],
    ['FFFF', 'a non-character code point'],
    ['1FFFE', 'a non-character code point'],
    ['D800', 'a surrogate code point'],
    ['DFFF', 'a surrogate code point'],
    ['FFFD', 'a character inappropriate for plain text'],
    ['2FF0', 'a character inappropriate for canonical representation'],
    ['200E', 'a character that changes display properties or is deprecated'],
    ['202E', 'a character that changes display properties or is deprecated'],
    ['202A', 'a character that changes display properties or is deprecated'],
    ['E0001', 'a tagging character'],
    ['E0041', 'a tagging character'],
  ])('refuses U+%s', (hex, why) => {
    expect(reason(`ab${String.fromCodePoint(Number.parseInt(hex, 16))}cd`)).toBe(why);
  });

  it('refuses two lone surrogates even when removing a character between them would pair them', () => {
    expect(reason('\ud83d\u00ad\ude00')).toBe('a surrogate code point');
    expect(ok('\ud83d\ude00')).toBe('\ud83d\ude00'); // a real pair is an ordinary (assigned) character
  });

  it('applies the bidirectional rules', () => {
    expect(ok('\u05d0\u05d1')).toBe('\u05d0\u05d1');
    expect(ok('\u0627\u0031\u0628')).toBe('\u0627\u0031\u0628'); // digits are not left-to-right
    expect(reason('\u0627a\u0628')).toBe('both right-to-left and left-to-right characters');
    expect(reason('1\u0627')).toMatch(/does not start and end/);
  });

  it('allows unassigned code points, as a query string', () => {
    expect(ok('\u{e0080}')).toBe('\u{e0080}'); // unassigned in Unicode 3.2 and today
  });

  it('is idempotent on what it accepts', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (input) => {
      const first = saslprep(input);
      if (first.ok) expect(saslprep(first.value)).toEqual(first);
    }), { numRuns: 500 });
  });
});
