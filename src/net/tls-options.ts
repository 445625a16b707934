/**
 * A `TlsPolicy` (msmtp's tls_* settings) turned into what `tls.connect`
 * needs, plus what Node cannot check for us: the fingerprint pin, and the
 * fingerprint of the settings themselves, so that a cached session is only
 * ever resumed under the verification settings it was verified with.
 *
 * Every file is read here, once, so a bad path or content is a configuration
 * error before any connection is made. msmtp exits 66 (EX_NOINPUT) for an
 * unreadable TLS file; outbox says E_CONFIG (78), like every other file the
 * configuration names, with the setting, the path and the reason.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { checkServerIdentity, createSecureContext, rootCertificates, type ConnectionOptions, type SecureContextOptions } from 'node:tls';
import { OutboxError } from '../errors.js';
import { parseFingerprint, type Fingerprint } from './tls-certificate.js';
import type { TlsPolicy } from './tls-policy.js';
import { mapPriorities } from './tls-priorities.js';

/** How the server proves who it is. */
export type Verification =
  /** A chain to a trusted CA, a valid date, the right name; Node checks, and we again on resumption. */
  | { readonly kind: 'ca'; readonly trust: string; readonly crlFile: string | null }
  /** msmtp: "trusted regardless of its contents": only the certificate's hash counts. */
  | { readonly kind: 'fingerprint'; readonly pin: Fingerprint; readonly text: string }
  /** `tls_certcheck off`. */
  | { readonly kind: 'none' };

export interface PreparedTls {
  /** For `tls.connect`, without `socket` and `session`. */
  readonly options: ConnectionOptions;
  readonly verification: Verification;
  /** The name the certificate must carry: tls_host_override, else the host (in ASCII). */
  readonly verifyName: string;
  /** Hex SHA-256 of every setting (and file content) that decides what is accepted. */
  readonly settingsKey: string;
  /** Where sessions are cached; null when resumption is off (no folder, or %NO_TICKETS). */
  readonly sessionCacheDir: string | null;
}

/** Where distributions keep the system's CA bundle; the first one present is used. */
export const SYSTEM_TRUST_FILES = [
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Arch, Gentoo
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/ssl/cert.pem', // Alpine, macOS, the BSDs
];

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function prepareTls(policy: TlsPolicy, host: string): PreparedTls {
  const verifyName = asciiHost(policy.hostOverride ?? host);
  const verification = chooseVerification(policy);
  // msmtp: tls_priorities without an argument means the default.
  const priorities = policy.priorities === null || policy.priorities.trim() === '' ? undefined : mapPriorities(policy.priorities);
  const key: Record<string, unknown> = {
    v: 1,
    name: verifyName,
    kind: verification.kind,
    priorities: policy.priorities,
    minDhPrimeBits: policy.minDhPrimeBits,
  };
  const context: SecureContextOptions = {};

  if (verification.kind === 'fingerprint') key['fingerprint'] = verification.pin.bytes.toString('hex');
  if (policy.trustFile !== null && verification.kind === 'ca') {
    const trust = readTrust(policy.trustFile);
    context.ca = trust.certificates;
    key['trust'] = [trust.source, sha256(trust.certificates.join('\n'))];
    if (policy.crlFile !== null) {
      const crl = readFile('tls_crl_file', policy.crlFile);
      if (!crl.includes('-----BEGIN X509 CRL-----')) throw fileError('tls_crl_file', policy.crlFile, 'no PEM CRL (-----BEGIN X509 CRL-----) in it');
      context.crl = crl;
      key['crl'] = [policy.crlFile, sha256(crl)];
    }
  }
  if (policy.certFile !== null || policy.keyFile !== null) {
    if (policy.certFile === null || policy.keyFile === null) {
      throw new OutboxError('E_CONFIG', 'tls_cert_file and tls_key_file must be set together');
    }
    context.cert = readFile('tls_cert_file', policy.certFile);
    context.key = readFile('tls_key_file', policy.keyFile);
    // The client's identity is part of a resumed session: a new certificate needs a new session.
    key['client'] = [policy.certFile, sha256(context.cert as string), policy.keyFile];
  }
  if (priorities) {
    context.minVersion = priorities.minVersion;
    context.maxVersion = priorities.maxVersion;
    if (priorities.ciphers !== undefined) context.ciphers = priorities.ciphers;
    if (priorities.ecdhCurve !== undefined) context.ecdhCurve = priorities.ecdhCurve;
  }

  const options: ConnectionOptions = {
    secureContext: secureContext(context, policy),
    // Node refuses an IP literal as SNI (RFC 6066 §3): then the server gets none.
    ...(isIP(verifyName) ? {} : { servername: verifyName }),
    // Off only where msmtp does no CA check: a pin (verified by tls-connect before anything is sent) or certcheck off.
    rejectUnauthorized: verification.kind === 'ca',
    checkServerIdentity: verification.kind === 'ca' ? (_name, cert) => checkServerIdentity(verifyName, cert) : () => undefined,
    ...(policy.minDhPrimeBits !== null ? { minDHSize: policy.minDhPrimeBits } : {}),
  };
  return {
    options,
    verification,
    verifyName,
    settingsKey: sha256(JSON.stringify(key)),
    sessionCacheDir: priorities?.sessionTickets === false ? null : policy.sessionCacheDir,
  };
}

/** As msmtp: certcheck off wins, then a fingerprint (which replaces CA checking), then the trust file. */
function chooseVerification(policy: TlsPolicy): Verification {
  if (!policy.certcheck) return { kind: 'none' };
  if (policy.fingerprint !== null) {
    return { kind: 'fingerprint', pin: parseFingerprint(policy.fingerprint), text: policy.fingerprint };
  }
  if (policy.trustFile === null) {
    throw new OutboxError('E_CONFIG', 'TLS needs tls_trust_file (or "system"), tls_fingerprint, or tls_certcheck off');
  }
  const trust = policy.trustFile === 'system' ? 'the system trust store' : `tls_trust_file ${policy.trustFile}`;
  return { kind: 'ca', trust, crlFile: policy.crlFile };
}

interface Trust {
  readonly source: string;
  readonly certificates: string[];
}

function readTrust(trustFile: string): Trust {
  if (trustFile === 'system') {
    const bundle = SYSTEM_TRUST_FILES.find((file) => existsSync(file));
    if (bundle !== undefined) {
      const certificates = readFile('tls_trust_file', bundle).match(PEM_CERTIFICATE) ?? [];
      if (certificates.length > 0) return { source: bundle, certificates };
    }
    return { source: `node ${process.versions.node}`, certificates: [...rootCertificates] };
  }
  const certificates = readFile('tls_trust_file', trustFile).match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw fileError('tls_trust_file', trustFile, 'no PEM certificate (-----BEGIN CERTIFICATE-----) in it');
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw fileError('tls_trust_file', trustFile, `certificate ${index + 1} cannot be parsed: ${(error as Error).message}`);
    }
  }
  return { source: trustFile, certificates };
}

function secureContext(options: SecureContextOptions, policy: TlsPolicy): ReturnType<typeof createSecureContext> {
  try {
    return createSecureContext(options);
  } catch (error) {
    const files = [
      policy.certFile && `tls_cert_file ${policy.certFile}`,
      policy.keyFile && `tls_key_file ${policy.keyFile}`,
      policy.crlFile && `tls_crl_file ${policy.crlFile}`,
      policy.priorities && `tls_priorities ${policy.priorities}`,
    ].filter(Boolean).join(', ');
    const reason = (error as Error).message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/, '');
    throw new OutboxError('E_CONFIG', `cannot set up TLS with ${files || 'these settings'}: ${reason}`, { cause: error });
  }
}

function readFile(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw fileError(setting, path, reason, error);
  }
}

function fileError(setting: string, path: string, reason: string, cause?: unknown): OutboxError {
  return new OutboxError('E_CONFIG', `${setting} ${path}: ${reason}`, cause === undefined ? {} : { cause });
}

/** Certificates carry A-labels; a host written in Unicode is compared in its ASCII form. Case never matters. */
function asciiHost(host: string): string {
  if (/^[\x00-\x7f]*$/.test(host)) return host.toLowerCase();
  return domainToASCII(host) || host.toLowerCase();
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
