/**
 * SASLprep (RFC 4013), the stringprep (RFC 3454) profile for user names and
 * passwords, as SCRAM uses it (RFC 5802 §5.1: prepared as a "query", so
 * unassigned code points are allowed and no table of them is needed).
 *
 *  1. Map: non-ASCII spaces (table C.1.2) to U+0020; the "commonly mapped to
 *     nothing" characters (table B.1) removed. U+200B is in both tables; it is
 *     removed, as B.1 is applied first.
 *  2. Normalize with Unicode NFKC (JavaScript's current Unicode version, not
 *     stringprep's 3.2: the results differ only for characters added since).
 *  3. Prohibit tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9.
 *  4. Bidirectional check (RFC 3454 §6): a string with a right-to-left
 *     character (table D.1) must start and end with one and contain no
 *     left-to-right character. Table D.1 is written out below; "left-to-right"
 *     (table D.2, ~360 ranges) is approximated by letters and spacing marks
 *     (\p{L}, \p{Mc}) that are not right-to-left.
 */

export type SaslprepResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: string };

type Range = readonly [number, number];

const inRanges = (cp: number, ranges: readonly Range[]): boolean => ranges.some(([lo, hi]) => cp >= lo && cp <= hi);

/** C.1.2 Non-ASCII space characters. */
const NON_ASCII_SPACE: readonly Range[] = [[0x00a0, 0x00a0], [0x1680, 0x1680], [0x2000, 0x200b], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000]];

/** B.1 Commonly mapped to nothing. */
const MAPPED_TO_NOTHING: readonly Range[] = [
  [0x00ad, 0x00ad], [0x034f, 0x034f], [0x1806, 0x1806], [0x180b, 0x180d], [0x200b, 0x200d], [0x2060, 0x2060], [0xfe00, 0xfe0f], [0xfeff, 0xfeff],
];

/** Prohibited output, with the name of the table for the error message. */
const PROHIBITED: readonly (readonly [string, readonly Range[]])[] = [
  ['a non-ASCII space', NON_ASCII_SPACE],
  ['an ASCII control character', [[0x0000, 0x001f], [0x007f, 0x007f]]],
  ['a non-ASCII control character', [
    [0x0080, 0x009f], [0x06dd, 0x06dd], [0x070f, 0x070f], [0x180e, 0x180e], [0x200c, 0x200d], [0x2028, 0x2029], [0x2060, 0x2063],
    [0x206a, 0x206f], [0xfeff, 0xfeff], [0xfff9, 0xfffc], [0x1d173, 0x1d17a],
  ]],
  ['a private-use character', [[0xe000, 0xf8ff], [0xf0000, 0xffffd], [0x100000, 0x10fffd]]],
  ['a non-character code point', [[0xfdd0, 0xfdef]]],
  ['a surrogate code point', [[0xd800, 0xdfff]]],
  ['a character inappropriate for plain text', [[0xfff9, 0xfffd]]],
  ['a character inappropriate for canonical representation', [[0x2ff0, 0x2ffb]]],
  ['a character that changes display properties or is deprecated', [[0x0340, 0x0341], [0x200e, 0x200f], [0x202a, 0x202e], [0x206a, 0x206f]]],
  ['a tagging character', [[0xe0001, 0xe0001], [0xe0020, 0xe007f]]],
];

/** D.1 Characters with bidirectional property "R" or "AL". */
const RAND_AL_CAT: readonly Range[] = [
  [0x05be, 0x05be], [0x05c0, 0x05c0], [0x05c3, 0x05c3], [0x05d0, 0x05ea], [0x05f0, 0x05f4], [0x061b, 0x061b], [0x061f, 0x061f],
  [0x0621, 0x063a], [0x0640, 0x064a], [0x066d, 0x066f], [0x0671, 0x06d5], [0x06dd, 0x06dd], [0x06e5, 0x06e6], [0x06fa, 0x06fe],
  [0x0700, 0x070d], [0x0710, 0x0710], [0x0712, 0x072c], [0x0780, 0x07a5], [0x07b1, 0x07b1], [0x200f, 0x200f], [0xfb1d, 0xfb1d],
  [0xfb1f, 0xfb28], [0xfb2a, 0xfb36], [0xfb38, 0xfb3c], [0xfb3e, 0xfb3e], [0xfb40, 0xfb41], [0xfb43, 0xfb44], [0xfb46, 0xfbb1],
  [0xfbd3, 0xfd3d], [0xfd50, 0xfd8f], [0xfd92, 0xfdc7], [0xfdf0, 0xfdfc], [0xfe70, 0xfe74], [0xfe76, 0xfefc],
];

const isNonCharacter = (cp: number): boolean => (cp & 0xfffe) === 0xfffe || (cp >= 0xfdd0 && cp <= 0xfdef);
const LETTER_OR_MARK = /^[\p{L}\p{Mc}]$/u;
const isRandAL = (cp: number): boolean => inRanges(cp, RAND_AL_CAT);
const isL = (cp: number): boolean => !isRandAL(cp) && LETTER_OR_MARK.test(String.fromCodePoint(cp));

/** The code points of a string; a lone surrogate comes out as itself. */
function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(ch.codePointAt(0) ?? 0);
  return out;
}

/**
 * Prepares a string. The reason names the kind of character refused, never
 * the character, so that it can describe a password without revealing it.
 */
export function saslprep(input: string): SaslprepResult {
  let mapped = '';
  for (const cp of codePoints(input)) {
    // A lone surrogate (C.5) is refused before mapping: removing a character
    // between two of them would otherwise pair them into a valid one.
    if (cp >= 0xd800 && cp <= 0xdfff) return { ok: false, reason: 'a surrogate code point' };
    if (inRanges(cp, MAPPED_TO_NOTHING)) continue;
    mapped += inRanges(cp, NON_ASCII_SPACE) ? ' ' : String.fromCodePoint(cp);
  }
  const normalized = mapped.normalize('NFKC');
  const output = codePoints(normalized);
  for (const cp of output) {
    if (isNonCharacter(cp)) return { ok: false, reason: 'a non-character code point' };
    for (const [what, ranges] of PROHIBITED) if (inRanges(cp, ranges)) return { ok: false, reason: what };
  }
  if (output.some(isRandAL)) {
    if (output.some(isL)) return { ok: false, reason: 'both right-to-left and left-to-right characters' };
    const first = output[0];
    const last = output[output.length - 1];
    if (first === undefined || last === undefined || !isRandAL(first) || !isRandAL(last)) {
      return { ok: false, reason: 'right-to-left text that does not start and end with a right-to-left character' };
    }
  }
  return { ok: true, value: normalized };
}
