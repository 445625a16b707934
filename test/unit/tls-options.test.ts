/**
 * From TlsPolicy to Node's options: every file problem is a configuration
 * error naming the setting and the path; SNI is never an IP literal; the
 * settings key changes with everything that decides trust, and only that.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { colonHex, parseFingerprint } from '../../src/net/tls-certificate.js';
import { prepareTls, SYSTEM_TRUST_FILES } from '../../src/net/tls-options.js';
import type { TlsPolicy } from '../../src/net/tls-policy.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';

let certs: TestCertificates;
let scratch: string;
beforeAll(() => {
  certs = makeTestCertificates();
  scratch = mkdtempSync(join(tmpdir(), 'outbox-tls-options-'));
});
afterAll(() => {
  certs.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

function policy(overrides: Partial<TlsPolicy> = {}): TlsPolicy {
  return {
    mode: 'tls', trustFile: certs.caFile, crlFile: null, fingerprint: null, certcheck: true, hostOverride: null,
    certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: '/cache', ...overrides,
  };
}

function configError(run: () => unknown): OutboxError {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OutboxError);
  expect((error as OutboxError).code).toBe('E_CONFIG');
  return error as OutboxError;
}

describe('prepareTls', () => {
  it('verifies against the trust file, with the host as SNI and as the name to check', () => {
    const prepared = prepareTls(policy(), 'localhost');
    expect(prepared.verification).toEqual({ kind: 'ca', trust: `tls_trust_file ${certs.caFile}`, crlFile: null });
    expect(prepared.options).toMatchObject({ servername: 'localhost', rejectUnauthorized: true });
    expect(prepared.verifyName).toBe('localhost');
    expect(prepared.sessionCacheDir).toBe('/cache');
  });

  it('never sends an IP literal as SNI, but checks the address against the certificate', () => {
    for (const host of ['192.0.2.1', '::1']) {
      const prepared = prepareTls(policy(), host);
      expect(prepared.options.servername).toBeUndefined();
      expect(prepared.verifyName).toBe(host);
    }
    const cert = new X509Certificate(certs.server.cert).toLegacyObject();
    expect(prepareTls(policy(), '127.0.0.1').options.checkServerIdentity!('ignored', cert)).toBeUndefined();
    expect(prepareTls(policy(), '192.0.2.1').options.checkServerIdentity!('ignored', cert)).toBeInstanceOf(Error);
  });

  it('tls_host_override is the SNI and the name checked', () => {
    const prepared = prepareTls(policy({ hostOverride: 'mail.example.org' }), '192.0.2.1');
    expect(prepared.options.servername).toBe('mail.example.org');
    const cert = new X509Certificate(certs.otherName.cert).toLegacyObject();
    expect(prepared.options.checkServerIdentity!('192.0.2.1', cert)).toBeUndefined();
  });

  it('a Unicode host name is used in its ASCII form', () => {
    expect(prepareTls(policy(), 'bücher.example').options.servername).toBe('xn--bcher-kva.example');
  });

  it('a fingerprint replaces CA checking; certcheck off turns checking off; both skip Node\'s CA check only then', () => {
    const pin = new X509Certificate(certs.server.cert).fingerprint256;
    const pinned = prepareTls(policy({ fingerprint: pin }), 'localhost');
    expect(pinned.verification.kind).toBe('fingerprint');
    expect(pinned.options.rejectUnauthorized).toBe(false);
    const off = prepareTls(policy({ trustFile: null, certcheck: false }), 'localhost');
    expect(off.verification).toEqual({ kind: 'none' });
    expect(off.options.rejectUnauthorized).toBe(false);
  });

  it('"system" uses the operating system\'s bundle where there is one', () => {
    const prepared = prepareTls(policy({ trustFile: 'system' }), 'mx.example.org');
    expect(prepared.verification).toMatchObject({ kind: 'ca', trust: 'the system trust store' });
    expect(SYSTEM_TRUST_FILES).toContain('/etc/ssl/certs/ca-certificates.crt');
  });

  it('passes tls_min_dh_prime_bits on, and an empty tls_priorities means the default', () => {
    expect(prepareTls(policy({ minDhPrimeBits: 2048 }), 'localhost').options.minDHSize).toBe(2048);
    expect(prepareTls(policy({ priorities: '' }), 'localhost').settingsKey).toBeDefined();
  });

  it('%NO_TICKETS turns the session cache off', () => {
    expect(prepareTls(policy({ priorities: 'NORMAL:%NO_TICKETS' }), 'localhost').sessionCacheDir).toBeNull();
  });

  describe('configuration errors name the setting, the file and the reason', () => {
    it('files that cannot be read', () => {
      expect(configError(() => prepareTls(policy({ trustFile: '/nonexistent/ca.pem' }), 'h')).message)
        .toBe('tls_trust_file /nonexistent/ca.pem: no such file');
      expect(configError(() => prepareTls(policy({ crlFile: scratch }), 'h')).message).toBe(`tls_crl_file ${scratch}: is a directory`);
      expect(configError(() => prepareTls(policy({ certFile: '/nonexistent/c.pem', keyFile: certs.client.keyFile }), 'h')).message)
        .toBe('tls_cert_file /nonexistent/c.pem: no such file');
      if (process.getuid?.() !== 0) {
        const locked = join(scratch, 'locked.pem');
        writeFileSync(locked, certs.ca);
        chmodSync(locked, 0);
        expect(configError(() => prepareTls(policy({ trustFile: locked }), 'h')).message).toBe(`tls_trust_file ${locked}: permission denied`);
      }
    });

    it('files with the wrong content', () => {
      const notPem = join(scratch, 'not-pem.txt');
      writeFileSync(notPem, 'hello\n');
      expect(configError(() => prepareTls(policy({ trustFile: notPem }), 'h')).message).toContain('no PEM certificate');
      expect(configError(() => prepareTls(policy({ crlFile: notPem }), 'h')).message).toContain('no PEM CRL');
      const broken = join(scratch, 'broken.pem');
      writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      expect(configError(() => prepareTls(policy({ trustFile: broken }), 'h')).message).toContain('certificate 1 cannot be parsed');
      const mismatch = configError(() => prepareTls(policy({ certFile: certs.client.certFile, keyFile: certs.server.keyFile }), 'h'));
      expect(mismatch.message).toContain(`tls_cert_file ${certs.client.certFile}`);
      expect(mismatch.message).toMatch(/mismatch/);
    });

    it('settings that do not go together', () => {
      expect(configError(() => prepareTls(policy({ keyFile: certs.client.keyFile }), 'h')).message).toBe('tls_cert_file and tls_key_file must be set together');
      expect(configError(() => prepareTls(policy({ trustFile: null }), 'h')).message).toContain('TLS needs tls_trust_file');
      expect(configError(() => prepareTls(policy({ fingerprint: 'AB:CD' }), 'h')).message).toContain("tls_fingerprint 'AB:CD'");
      expect(configError(() => prepareTls(policy({ priorities: 'NORMAL:+AES-128-CBC' }), 'h')).message).toContain("'+AES-128-CBC'");
    });
  });

  describe('the settings key (which cached sessions may be resumed)', () => {
    const base = () => prepareTls(policy(), 'localhost').settingsKey;

    it('is stable, and ignores what does not decide trust', () => {
      expect(base()).toBe(base());
      expect(prepareTls(policy({ sessionCacheDir: '/elsewhere', mode: 'starttls' }), 'localhost').settingsKey).toBe(base());
    });

    it('changes with every setting that decides what is accepted', () => {
      const copy = join(scratch, 'ca-copy.pem');
      writeFileSync(copy, certs.ca);
      const pin = new X509Certificate(certs.server.cert).fingerprint256;
      const variants: Array<[string, Partial<TlsPolicy>, string?]> = [
        ['trust file path', { trustFile: copy }],
        ['system trust', { trustFile: 'system' }],
        ['CRL', { crlFile: certs.crlFile }],
        ['fingerprint', { fingerprint: pin }],
        ['certcheck', { trustFile: null, certcheck: false }],
        ['host override', { hostOverride: 'mail.example.org' }],
        ['client certificate', { certFile: certs.client.certFile, keyFile: certs.client.keyFile }],
        ['priorities', { priorities: 'PFS' }],
        ['DH bits', { minDhPrimeBits: 2048 }],
        ['host', {}, '127.0.0.1'],
      ];
      const keys = new Set([base()]);
      for (const [, overrides, host] of variants) keys.add(prepareTls(policy(overrides), host ?? 'localhost').settingsKey);
      expect(keys.size).toBe(variants.length + 1);
      // The trust file's content counts, not only its path.
      const before = prepareTls(policy({ trustFile: copy }), 'localhost').settingsKey;
      writeFileSync(copy, `${certs.ca}${certs.server.cert}`);
      expect(prepareTls(policy({ trustFile: copy }), 'localhost').settingsKey).not.toBe(before);
    });
  });
});

describe('fingerprints', () => {
  it('are parsed by length, in any case', () => {
    const hex = (n: number) => Array.from({ length: n }, (_, i) => (i * 7 % 256).toString(16).padStart(2, '0')).join(':');
    expect(parseFingerprint(hex(32)).algorithm).toBe('sha256');
    expect(parseFingerprint(hex(20).toUpperCase()).algorithm).toBe('sha1');
    expect(parseFingerprint(hex(16)).algorithm).toBe('md5');
    expect(colonHex(parseFingerprint(hex(20)).bytes)).toBe(hex(20).toUpperCase());
    for (const bad of ['', hex(31), `${hex(31)}:zz`, hex(32).replace(/:/g, ''), `${hex(32)}:`]) {
      expect(() => parseFingerprint(bad)).toThrow(OutboxError);
    }
  });
});
