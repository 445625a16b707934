import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodeEncodedWord, decodePhrase, parseEncodedWord, type PhraseWord } from '../../src/message/encoded-word.js';

const plain = (...texts: string[]): PhraseWord[] => texts.map((text) => ({ text, quoted: false }));

describe('decodeEncodedWord', () => {
  it.each([
    ['=?utf-8?q?J=C3=B6rg?=', 'Jörg'],
    ['=?UTF-8?Q?J=c3=b6rg_M=C3=BCller?=', 'Jörg Müller'],
    ['=?utf-8?b?SsO2cmc=?=', 'Jörg'],
    ['=?UTF-8?B?SsO2cmc?=', 'Jörg'],
    ['=?us-ascii?q?plain_text?=', 'plain text'],
    ['=?iso-8859-1?q?Andr=E9?=', 'André'],
    ['=?ISO-8859-1?B?QW5kcuk=?=', 'André'],
    ['=?latin1?q?=E9?=', 'é'],
    ['=?utf-8*en?q?hello?=', 'hello'],
    ['=?utf-8?q??=', ''],
    ['=?utf-8?b??=', ''],
  ])('%s → %s', (word, expected) => {
    expect(decodeEncodedWord(word)).toBe(expected);
  });

  it.each([
    ['not an encoded word', 'hello'],
    ['unknown charset', '=?x-no-such-charset?q?abc?='],
    ['unknown encoding', '=?utf-8?x?abc?='],
    ['bad Q escape', '=?utf-8?q?a=ZZ?='],
    ['truncated Q escape', '=?utf-8?q?a=4?='],
    ['8-bit byte in Q text', '=?utf-8?q?é?='],
    ['bad base64 character', '=?utf-8?b?SsO2*mc=?='],
    ['bad base64 length', '=?utf-8?b?SsO2c?='],
    ['padding in the middle', '=?utf-8?b?Sw==cmc=?='],
    ['invalid UTF-8', '=?utf-8?q?=C3=28?='],
    ['decodes to CR LF', '=?utf-8?q?a=0D=0Ab?='],
    ['decodes to NUL', '=?utf-8?b?AA==?='],
    ['missing closing', '=?utf-8?q?abc'],
  ])('%s is left alone', (_, word) => {
    expect(decodeEncodedWord(word)).toBeUndefined();
  });

  it('reports the charset in lower case with the language dropped', () => {
    expect(parseEncodedWord('=?UTF-8*de?Q?a?=')).toEqual({ charset: 'utf-8', bytes: Uint8Array.from([0x61]) });
  });
});

describe('decodePhrase', () => {
  it.each<[string, PhraseWord[], string]>([
    ['plain words joined by one space', plain('John', 'Q.', 'Public'), 'John Q. Public'],
    ['whitespace between encoded words dropped', plain('=?utf-8?q?a?=', '=?utf-8?q?b?='), 'ab'],
    ['space kept between encoded and plain', plain('=?utf-8?q?J=C3=B6rg?=', 'Smith'), 'Jörg Smith'],
    ['space kept between plain and encoded', plain('Dr.', '=?utf-8?q?J=C3=B6rg?='), 'Dr. Jörg'],
    ['character split across two words', plain('=?utf-8?q?J=C3?=', '=?utf-8?q?=B6rg?='), 'Jörg'],
    ['different charsets in a row', plain('=?iso-8859-1?q?=E9?=', '=?utf-8?q?=C3=A9?='), 'éé'],
    ['undecodable word keeps its spaces', plain('=?x-nope?q?a?=', '=?utf-8?q?b?='), '=?x-nope?q?a?= b'],
    ['quoted words are not decoded', [{ text: '=?utf-8?q?a?=', quoted: true }], '=?utf-8?q?a?='],
    ['empty phrase', [], ''],
  ])('%s', (_, words, expected) => {
    expect(decodePhrase(words)).toBe(expected);
  });

  it('decodes any UTF-8 text written as B or Q words', () => {
    const text = fc.string({ unit: 'binary', minLength: 1 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s));
    fc.assert(
      fc.property(text, fc.boolean(), (s, useQ) => {
        const bytes = Buffer.from(s, 'utf8');
        const encoded = useQ
          ? [...bytes].map((b) => `=${b.toString(16).padStart(2, '0')}`).join('')
          : bytes.toString('base64');
        expect(decodeEncodedWord(`=?utf-8?${useQ ? 'Q' : 'B'}?${encoded}?=`)).toBe(s);
      }),
    );
  });
});
