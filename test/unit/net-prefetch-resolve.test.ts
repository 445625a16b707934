import { describe, expect, it } from 'vitest';
import { prefetchResolve, type Resolve } from '../../src/net/connector.js';
import type { ResolvedAddress } from '../../src/net/happy-eyeballs.js';

/** A resolver that records what it was asked, answering from a table (a missing name fails as getaddrinfo does). */
function recordingResolve(table: Record<string, ResolvedAddress[]>): { resolve: Resolve; asked: string[] } {
  const asked: string[] = [];
  const forward = (host: string): Promise<ResolvedAddress[]> => {
    asked.push(host);
    const found = table[host];
    return found ? Promise.resolve(found) : Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
  };
  return { resolve: Object.assign(forward, { reverse: async (address: string) => `name-of-${address}` }), asked };
}

const MX = [{ address: '192.0.2.7', family: 4 as const }];

describe('prefetchResolve', () => {
  it('starts the lookup at once and answers the first request for the name with it', async () => {
    const { resolve, asked } = recordingResolve({ 'mail.example.net': MX });
    const prefetching = prefetchResolve(resolve, 'mail.example.net');
    expect(asked).toEqual(['mail.example.net']);
    await expect(prefetching('mail.example.net')).resolves.toEqual(MX);
    expect(asked).toEqual(['mail.example.net']);
  });

  it('a second request, or another name, is a new lookup', async () => {
    const { resolve, asked } = recordingResolve({ 'mail.example.net': MX, 'other.example.net': MX });
    const prefetching = prefetchResolve(resolve, 'mail.example.net');
    await prefetching('other.example.net');
    await prefetching('mail.example.net');
    await prefetching('mail.example.net');
    expect(asked).toEqual(['mail.example.net', 'other.example.net', 'mail.example.net']);
  });

  it('an IP literal, bracketed or not, needs no lookup: the resolver comes back unchanged', () => {
    const { resolve, asked } = recordingResolve({});
    expect(prefetchResolve(resolve, '127.0.0.1')).toBe(resolve);
    expect(prefetchResolve(resolve, '[::1]')).toBe(resolve);
    expect(asked).toEqual([]);
  });

  it('a failed lookup is reported to whoever asks, and unasked it is no unhandled rejection', async () => {
    const { resolve } = recordingResolve({});
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason); };
    process.on('unhandledRejection', onUnhandled);
    try {
      prefetchResolve(resolve, 'never-asked.example');
      const asked = prefetchResolve(resolve, 'missing.example');
      await expect(asked('missing.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      await new Promise((done) => setImmediate(done));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('keeps the resolver\'s reverse lookup', async () => {
    const { resolve } = recordingResolve({ 'mail.example.net': MX });
    await expect(prefetchResolve(resolve, 'mail.example.net').reverse!('192.0.2.7', 25)).resolves.toBe('name-of-192.0.2.7');
  });
});
