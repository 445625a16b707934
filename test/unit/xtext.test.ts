import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xtext } from '../../src/smtp/xtext.js';

/** RFC 3461 §4 decoding, written separately to check the encoder. */
function unxtext(text: string): string {
  return Buffer.from(text.replace(/\+([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
}

describe('xtext', () => {
  it('escapes +, =, spaces, controls and non-ASCII; leaves other printables', () => {
    expect(xtext('a+b=c@example.org')).toBe('a+2Bb+3Dc@example.org');
    expect(xtext('x y\r\n')).toBe('x+20y+0D+0A');
    expect(xtext('ü')).toBe('+C3+BC');
    expect(xtext('!~')).toBe('!~');
  });

  it('property: the output is xtext and decodes back', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (value) => {
      const encoded = xtext(value);
      expect(/^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/.test(encoded)).toBe(true);
      expect(unxtext(encoded)).toBe(value);
    }));
  });
});
