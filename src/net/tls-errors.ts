/**
 * What went wrong in TLS, in words a person can act on, and with msmtp's
 * meaning: a refused certificate is E_TLS_CERTIFICATE (69), a failed handshake
 * E_TLS_HANDSHAKE (76), and a reset or a timeout is transient (75) because a
 * retry may well succeed.
 */
import type { X509Certificate } from 'node:crypto';
import { OutboxError } from '../errors.js';
import { certificateNames, distinguishedName } from './tls-certificate.js';
import type { Verification } from './tls-options.js';

export interface FailureContext {
  /** Where we are connected, e.g. "mx.example.org (192.0.2.1) port 465". */
  readonly peer: string;
  /** The name the certificate must carry. */
  readonly verifyName: string;
  readonly verification: Verification;
  /** The server's certificate, when the handshake got that far. */
  readonly certificate: X509Certificate | undefined;
}

/** OpenSSL's verification results (X509_V_ERR_*) that mean "no chain to a trusted CA". */
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG', 'INVALID_CA', 'PATH_LENGTH_EXCEEDED', 'CERT_REJECTED', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
]);

const OTHER_CERTIFICATE_CODES = new Set([
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'UNABLE_TO_GET_CRL', 'CRL_HAS_EXPIRED', 'CRL_NOT_YET_VALID',
  'CRL_SIGNATURE_FAILURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE', 'INVALID_PURPOSE', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'ERR_TLS_CERT_ALTNAME_INVALID', 'EE_KEY_TOO_SMALL',
  'CA_KEY_TOO_SMALL', 'CA_MD_TOO_WEAK',
]);

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH']);

/** Turns whatever the TLS layer threw during the handshake into an OutboxError. */
export function tlsFailure(error: unknown, context: FailureContext): OutboxError {
  if (error instanceof OutboxError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const message = (error as Error | undefined)?.message ?? String(error);
  if (UNTRUSTED.has(code) || OTHER_CERTIFICATE_CODES.has(code)) {
    return certificateError(certificateProblem(code, message, context), context, error);
  }
  if (TRANSIENT_CODES.has(code)) {
    return new OutboxError('E_CONNECTION', `TLS handshake with ${context.peer} failed: the connection was ${code === 'ETIMEDOUT' ? 'timed out' : 'reset or closed'} (${message})`, { transient: true, cause: error });
  }
  return handshakeError(error instanceof Error ? error : new Error(message), context.peer);
}

/** A failed handshake, or a TLS alert right after it (a TLS 1.3 server refusing our client certificate). */
export function handshakeError(error: NodeJS.ErrnoException, peer: string): OutboxError {
  // OpenSSL's errors carry a short `reason` ("wrong version number"); the message adds source paths.
  const detail = (error as { reason?: unknown }).reason;
  const reason = typeof detail === 'string' && detail ? detail : error.message;
  return new OutboxError('E_TLS_HANDSHAKE', `TLS handshake with ${peer} failed: ${handshakeReason(error.code ?? '', reason)}`, { cause: error });
}

export function certificateError(problem: string, context: Pick<FailureContext, 'peer'>, cause?: unknown): OutboxError {
  return new OutboxError('E_TLS_CERTIFICATE', `TLS certificate of ${context.peer} refused: ${problem}`, cause === undefined ? {} : { cause });
}

function certificateProblem(code: string, message: string, context: FailureContext): string {
  const cert = context.certificate;
  const trust = context.verification.kind === 'ca' ? context.verification.trust : 'the trust file';
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `the server's certificate has expired${cert ? ` on ${formatDate(cert.validTo)}` : ''}`;
    case 'CERT_NOT_YET_VALID':
      return `the server's certificate is not valid yet${cert ? ` (not before ${formatDate(cert.validFrom)})` : ''}; check this machine's clock`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'HOSTNAME_MISMATCH':
    case 'IP_ADDRESS_MISMATCH':
      return `the server's certificate is not valid for host ${context.verifyName}${cert ? ` (it is for ${certificateNames(cert)})` : ''}; tls_host_override can name the host to check instead`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `the server's certificate is self-signed and not trusted by ${trust}; tls_fingerprint can pin it`;
    case 'CERT_REVOKED':
      return `the server's certificate has been revoked (tls_crl_file ${crlFile(context)})`;
    case 'UNABLE_TO_GET_CRL':
      return `tls_crl_file ${crlFile(context)} has no CRL from the issuer of the server's certificate, or of a CA above it (every CA in the chain needs one)`;
    case 'CRL_HAS_EXPIRED':
      return `the CRL in tls_crl_file ${crlFile(context)} has expired; fetch a new one`;
    case 'CRL_NOT_YET_VALID':
      return `the CRL in tls_crl_file ${crlFile(context)} is not valid yet; check this machine's clock`;
    case 'INVALID_PURPOSE':
      return 'the server\'s certificate is not meant for TLS servers (extended key usage)';
    default:
      if (UNTRUSTED.has(code)) {
        return `the server's certificate is not signed by a trusted CA (${trust})${cert ? `; it was issued by ${distinguishedName(cert.issuer)}` : ''}`;
      }
      return `${message} (${code})`;
  }
}

function crlFile(context: FailureContext): string {
  return context.verification.kind === 'ca' ? context.verification.crlFile ?? '(none)' : '(none)';
}

/** OpenSSL's reasons, said plainly where the cause is usually the same. */
function handshakeReason(code: string, detail: string): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'ERR_SSL_HTTP_REQUEST') {
    return `the server does not speak TLS on this port (${detail}); for a plaintext port use tls_starttls on`;
  }
  if (code.includes('PROTOCOL_VERSION') || code === 'ERR_SSL_UNSUPPORTED_PROTOCOL' || code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE') {
    return `no TLS version both sides accept (${detail}); see tls_priorities`;
  }
  if (code.includes('HANDSHAKE_FAILURE') || code === 'ERR_SSL_NO_SHARED_CIPHER' || code === 'ERR_SSL_NO_CIPHERS_AVAILABLE') {
    return `the server and outbox share no cipher or key exchange (${detail}); see tls_priorities`;
  }
  if (code === 'ERR_SSL_DH_KEY_TOO_SMALL') return `the server's Diffie-Hellman prime is too small (${detail}); see tls_min_dh_prime_bits`;
  if (code.includes('CERTIFICATE_REQUIRED')) return `the server requires a client certificate (${detail}); see tls_cert_file and tls_key_file`;
  if (code.includes('ALERT')) return `the server refused the handshake: ${detail}`;
  return code ? `${detail} (${code})` : detail;
}

/** "2020-01-31 00:00:00 UTC" from Node's "Jan 31 00:00:00 2020 GMT". */
function formatDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
