import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/message/random.js';

describe('randomBytes (identifiers from /dev/urandom)', () => {
  it('gives the size asked for, small and larger than one read', () => {
    for (const size of [0, 1, 3, 12, 256, 70_000]) expect(randomBytes(size)).toHaveLength(size);
  });

  it('gives different bytes each time (96 bits: a repeat in 200 draws would mean no randomness)', () => {
    const seen = new Set(Array.from({ length: 200 }, () => randomBytes(12).toString('hex')));
    expect(seen.size).toBe(200);
  });
});
