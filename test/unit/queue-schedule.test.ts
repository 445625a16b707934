import { describe, expect, it } from 'vitest';
import { FIRST_RETRY_SECONDS, isExpired, MAX_RETRY_SECONDS, retryDelayMs } from '../../src/queue/schedule.js';

describe('retryDelayMs', () => {
  const middle = () => 0.5;
  it('starts near a minute and doubles', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, middle))).toEqual([60_000, 120_000, 240_000, 480_000]);
  });
  it('is capped at an hour, however many attempts', () => {
    expect(retryDelayMs(7, middle)).toBe(MAX_RETRY_SECONDS * 1000);
    expect(retryDelayMs(10_000, middle)).toBe(MAX_RETRY_SECONDS * 1000);
  });
  it('jitters by at most a tenth either way', () => {
    expect(retryDelayMs(1, () => 0)).toBe(FIRST_RETRY_SECONDS * 900);
    expect(retryDelayMs(1, () => 0.999999)).toBeLessThanOrEqual(FIRST_RETRY_SECONDS * 1100);
    expect(retryDelayMs(1, () => 0.999999)).toBeGreaterThan(FIRST_RETRY_SECONDS * 1099);
  });
});

describe('isExpired', () => {
  const queued = new Date('2026-12-01T00:00:00Z');
  it('is true from the moment the lifetime is over', () => {
    expect(isExpired(queued, new Date('2026-12-05T23:59:59Z'), 5 * 86400)).toBe(false);
    expect(isExpired(queued, new Date('2026-12-06T00:00:00Z'), 5 * 86400)).toBe(true);
  });
});
