import { describe, expect, it } from 'vitest';
import { asciiHost } from '../../src/net/idn.js';

describe('asciiHost (UTS #46, then punycode)', () => {
  const vectors: Array<[string, string | undefined]> = [
    ['Bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.EXAMPLE', 'xn--bcher-kva.example'], // case folding
    ['ﬁ.example', 'fi.example'], // compatibility mapping
    ['faß.de', 'xn--fa-hia.de'], // nontransitional: ß stays
    ['日本語。jp', 'xn--wgv71a119e.jp'], // ideographic full stop is a label separator
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['mail.Example.ORG', 'mail.Example.ORG'], // ASCII is left as written
    ['bü cher.example', undefined], // a space is not allowed
  ];
  for (const [input, expected] of vectors) {
    it(`${input} → ${expected ?? 'invalid'}`, () => expect(asciiHost(input)).toBe(expected));
  }
});
