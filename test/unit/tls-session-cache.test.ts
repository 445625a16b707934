/**
 * TLS session resumption across runs: the second connection resumes; any
 * change to what decides trust means a full handshake; a resumed session is
 * held to the same checks; and no cache problem ever fails a connection.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import type { ConnectOptions } from '../../src/net/connector.js';
import { connectTls, type TlsConnection } from '../../src/net/tls-connect.js';
import type { TlsPolicy } from '../../src/net/tls-policy.js';
import { derLength, MAX_SESSION_AGE_MS, openSessionCache, sessionLifetimeSeconds } from '../../src/net/tls-session-cache.js';
import {
  expectClientsClosed, expectNoOpenHandles, makeTestCertificates, startTlsServer,
  type LoopbackServer, type TestCertificates,
} from '../helpers/certs.js';

let certs: TestCertificates;
let server: LoopbackServer;
let cacheDir: string;
let scratch: string;

beforeAll(async () => {
  certs = makeTestCertificates();
  server = await startTlsServer({ key: certs.server.key, cert: certs.server.cert });
});
afterAll(async () => {
  await server.close();
  await expectNoOpenHandles();
  certs.cleanup();
});
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'outbox-tls-cache-'));
  cacheDir = join(scratch, 'outbox', 'tls-sessions');
});
afterEach(async () => {
  await expectClientsClosed([server]);
  rmSync(scratch, { recursive: true, force: true });
});

function policy(overrides: Partial<TlsPolicy> = {}): TlsPolicy {
  return {
    mode: 'tls', trustFile: certs.caFile, crlFile: null, fingerprint: null, certcheck: true, hostOverride: null,
    certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: cacheDir, ...overrides,
  };
}

function target(): ConnectOptions {
  return { host: 'localhost', port: server.port, timeoutMs: 2000, resolve: async () => [{ address: '127.0.0.1', family: 4 }] };
}

/**
 * Connects, reads the greeting, says EHLO and reads the reply, closes; returns
 * the session info. A TLS 1.3 server sends its tickets after the handshake, here
 * just after the greeting: they arrive while the client waits for its first reply.
 */
async function session(settings: TlsPolicy = policy()): Promise<TlsConnection['info']> {
  const { transport, info } = await connectTls(target(), settings);
  try {
    expect(Buffer.from((await transport.read(2000))!).toString()).toBe('220 ready\r\n');
    await transport.write([Buffer.from('EHLO me\r\n')], 2000);
    expect(Buffer.from((await transport.read(2000))!).toString()).toBe('250 ok EHLO me\r\n');
  } finally {
    transport.destroy();
  }
  return info;
}

function cacheFiles(): string[] {
  try {
    return readdirSync(cacheDir).map((name) => join(cacheDir, name));
  } catch {
    return [];
  }
}

function onlyCacheFile(): string {
  const files = cacheFiles();
  expect(files).toHaveLength(1);
  return files[0]!;
}

describe('TLS session resumption', () => {
  it('the second connection resumes, with the certificate of the first', async () => {
    const first = await session();
    expect(first.resumed).toBe(false);
    const second = await session();
    expect(second.resumed).toBe(true);
    expect(second.certificate).toEqual(first.certificate);
    expect(second.protocol).toBe('TLSv1.3');
  });

  it('keeps sessions private: folder 0700, file 0600, named after host and port', async () => {
    await session();
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const file = onlyCacheFile();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(file).toMatch(new RegExp(`/localhost_${server.port}_[0-9a-f]{32}\\.session$`));
  });

  it('resumes under TLS 1.2 too', async () => {
    const tls12 = policy({ priorities: 'NORMAL:-VERS-TLS1.3' });
    expect((await session(tls12)).resumed).toBe(false);
    const again = await session(tls12);
    expect(again).toMatchObject({ resumed: true, protocol: 'TLSv1.2' });
  });

  it('does not resume when a verification setting changed, and keeps only the current one', async () => {
    await session();
    const copy = join(scratch, 'ca-copy.pem');
    copyFileSync(certs.caFile, copy);
    expect((await session(policy({ trustFile: copy }))).resumed).toBe(false); // another path, same content
    expect((await session(policy({ trustFile: copy }))).resumed).toBe(true);
    expect(cacheFiles()).toHaveLength(1);
    writeFileSync(copy, `${readFileSync(certs.caFile, 'utf8')}${readFileSync(certs.otherCaFile, 'utf8')}`);
    expect((await session(policy({ trustFile: copy }))).resumed).toBe(false); // same path, new content
    expect((await session(policy({ crlFile: certs.crlFile }))).resumed).toBe(false);
    expect((await session(policy({ hostOverride: '127.0.0.1' }))).resumed).toBe(false);
    expect((await session(policy({ certFile: certs.client.certFile, keyFile: certs.client.keyFile }))).resumed).toBe(false);
    expect((await session(policy({ priorities: 'PFS' }))).resumed).toBe(false);
    expect((await session(policy({ trustFile: null, certcheck: false }))).resumed).toBe(false);
  });

  it('a corrupted cache file means a full handshake, and is replaced', async () => {
    await session();
    const file = onlyCacheFile();
    for (const garbage of ['not json', JSON.stringify({ format: 1 }), '']) {
      writeFileSync(file, garbage);
      expect((await session()).resumed).toBe(false);
      expect((await session()).resumed).toBe(true);
    }
    // Valid JSON, right key, but a session Node cannot use: also a full handshake.
    const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...entry, session: Buffer.from([0x30, 0x03, 1, 2, 3]).toString('base64') }), { mode: 0o600 });
    expect((await session()).resumed).toBe(false);
  });

  it('an entry copied under another setting\'s name is not used', async () => {
    const pinned = policy({ fingerprint: new X509Certificate(certs.server.cert).fingerprint256 });
    await session();
    const trusted = readFileSync(onlyCacheFile(), 'utf8');
    await session(pinned);
    const file = onlyCacheFile();
    writeFileSync(file, trusted);
    expect((await session(pinned)).resumed).toBe(false);
  });

  describe('a resumed session is held to the same checks', () => {
    /** Makes the cache recall `pem` as the certificate the session was verified with. */
    function recall(pem: string): void {
      const file = onlyCacheFile();
      const entry = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...entry, certificate: new X509Certificate(pem).raw.toString('base64') }));
    }

    async function refused(settings: TlsPolicy = policy()): Promise<OutboxError> {
      const error = await connectTls(target(), settings).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(OutboxError);
      return error as OutboxError;
    }

    it('the name', async () => {
      await session();
      recall(certs.otherName.cert);
      const error = await refused();
      expect(error.code).toBe('E_TLS_CERTIFICATE');
      expect(error.message).toContain('not valid for host localhost');
    });

    it('the dates', async () => {
      await session();
      recall(certs.expired.cert);
      expect((await refused()).message).toContain('has expired on 2020-01-31');
    });

    it('the fingerprint', async () => {
      const pinned = policy({ fingerprint: new X509Certificate(certs.server.cert).fingerprint256 });
      await session(pinned);
      recall(certs.otherName.cert);
      expect((await refused(pinned)).message).toContain('fingerprint mismatch');
    });
  });

  it('%NO_TICKETS keeps no session', async () => {
    await session(policy({ priorities: 'NORMAL:%NO_TICKETS' }));
    expect(cacheFiles()).toEqual([]);
  });

  it('never fails a connection: unusable folder, foreign permissions', async () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, '');
    expect((await session(policy({ sessionCacheDir: join(file, 'sessions') }))).resumed).toBe(false);

    await session();
    chmodSync(onlyCacheFile(), 0o644); // readable by others: not trusted to be ours alone
    expect((await session()).resumed).toBe(false);
    chmodSync(cacheDir, 0o755);
    rmSync(onlyCacheFile());
    await session(); // a full handshake saves a session, in a folder made private again
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700); // tightened again
  });
});

describe('the cache file', () => {
  const der = (bytes: number[]) => Buffer.from(bytes);
  const session = der([0x30, 0x0a, 0xa2, 0x04, 0x02, 0x02, 0x1c, 0x20, 0xa9, 0x02, 0x02, 0x00]);

  it('expires after the ticket lifetime, at most 24 hours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-tls-cache-'));
    try {
      let now = 1_000_000;
      const cache = openSessionCache(dir, 'mx.example.org', 465, 'k', () => now);
      const certificate = new X509Certificate(certs.server.cert).raw;
      cache.save({ session, certificate });
      now += 7199_000;
      expect(cache.load()?.session).toEqual(session);
      now += 2_000;
      expect(cache.load()).toBeUndefined();

      const forever = der([0x30, 0x07, 0xa9, 0x05, 0x02, 0x03, 0x7f, 0xff, 0xff]);
      now = 1_000_000;
      cache.save({ session: forever, certificate });
      now += MAX_SESSION_AGE_MS - 1;
      expect(cache.load()).toBeDefined();
      now += 2;
      expect(cache.load()).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the lifetime hint, else the timeout, from the session', () => {
    expect(sessionLifetimeSeconds(der([0x30, 0x0a, 0xa2, 0x04, 0x02, 0x02, 0x1c, 0x20, 0xa9, 0x02, 0x02, 0x00]))).toBe(7200);
    expect(sessionLifetimeSeconds(der([0x30, 0x0a, 0xa2, 0x03, 0x02, 0x01, 0x3c, 0xa9, 0x03, 0x02, 0x01, 0x78]))).toBe(120);
    expect(sessionLifetimeSeconds(der([0x30, 0x00]))).toBeUndefined();
    expect(sessionLifetimeSeconds(der([0x30, 0x05, 0xa9]))).toBeUndefined();
    expect(derLength(der([0x30, 0x82, 0x01, 0x00]))).toBe(-1);
    expect(derLength(der([0x30, 0x01, 0x00]))).toBe(3);
  });
});
