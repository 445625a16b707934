/**
 * The server certificate as outbox reports and pins it: names in RFC 4514
 * order as msmtp prints them (most specific first: "CN=mx.example.org,O=Example"),
 * fingerprints in msmtp's colon format, and the fingerprint comparison that
 * `tls_fingerprint` makes instead of trusting a CA.
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { OutboxError } from '../errors.js';
import type { CertificateInfo } from './tls-policy.js';

export type FingerprintAlgorithm = 'sha256' | 'sha1' | 'md5';

export interface Fingerprint {
  readonly algorithm: FingerprintAlgorithm;
  readonly bytes: Buffer;
}

const ALGORITHM_BY_LENGTH: Readonly<Record<number, FingerprintAlgorithm>> = { 32: 'sha256', 20: 'sha1', 16: 'md5' };

/**
 * Parses msmtp's format: hex pairs joined by colons (or blanks), any case. The length
 * says the hash (SHA256 32 bytes; the deprecated SHA1 20, MD5 16), as in msmtp.
 */
export function parseFingerprint(text: string): Fingerprint {
  const pairs = text.trim().split(/[:\s]/);
  const algorithm = ALGORITHM_BY_LENGTH[pairs.length];
  if (!algorithm || !pairs.every((pair) => /^[0-9a-fA-F]{2}$/.test(pair))) {
    throw new OutboxError('E_CONFIG', `tls_fingerprint '${text}': expected 32 (SHA256), 20 (SHA1) or 16 (MD5) hex pairs separated by colons, e.g. 00:11:22:…`);
  }
  return { algorithm, bytes: Buffer.from(pairs.join(''), 'hex') };
}

/** Upper-case hex pairs joined by ":". */
export function colonHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

export function certificateDigest(certificate: X509Certificate, algorithm: FingerprintAlgorithm): Buffer {
  return createHash(algorithm).update(certificate.raw).digest();
}

/** True when the certificate is the pinned one. Constant time, though nothing here is secret. */
export function matchesFingerprint(certificate: X509Certificate, pin: Fingerprint): boolean {
  const actual = certificateDigest(certificate, pin.algorithm);
  return actual.length === pin.bytes.length && timingSafeEqual(actual, pin.bytes);
}

export function certificateInfo(certificate: X509Certificate): CertificateInfo {
  return {
    subject: distinguishedName(certificate.subject),
    issuer: distinguishedName(certificate.issuer),
    validFrom: new Date(certificate.validFrom),
    validTo: new Date(certificate.validTo),
    sha256: colonHex(certificateDigest(certificate, 'sha256')),
    sha1: colonHex(certificateDigest(certificate, 'sha1')),
  };
}

/**
 * Node prints a name one attribute per line in certificate order (C first),
 * already escaped as RFC 2253 asks; RFC 4514 writes it most specific first.
 */
export function distinguishedName(multiline: string): string {
  return multiline.split('\n').filter((line) => line !== '').reverse().join(',');
}

/** The names a certificate is valid for, as a person reads them: "DNS:mx.example.org, IP Address:192.0.2.1". */
export function certificateNames(certificate: X509Certificate): string {
  const names = certificate.subjectAltName;
  if (names) return names;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(certificate.subject)?.[1];
  return cn ? `CN=${cn}` : 'no name at all';
}
