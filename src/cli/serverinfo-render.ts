/**
 * `--serverinfo` as text: msmtp's layout, line for line where msmtp has the
 * item, plus what msmtp leaves out (8BITMIME, CHUNKING, ENHANCEDSTATUSCODES,
 * BINARYMIME, REQUIRETLS, every unknown keyword as received) and warnings.
 * `--json` prints the collected data instead (see delivery/serverinfo.ts).
 */
import type { ServerInfo } from '../delivery/serverinfo.js';
import type { CertificateInfo, TlsSessionInfo } from '../net/tls-policy.js';

/** Capabilities in msmtp's order with msmtp's words, then the ones msmtp does not show. */
const EXPLAINED: ReadonlyArray<readonly [string, string]> = [
  ['PIPELINING', 'Support for command grouping for faster transmission'],
  ['SMTPUTF8', 'Support for Internationalized Email'],
  ['ETRN', 'Support for RMQS (Remote Message Queue Starting)'],
  ['DSN', 'Support for Delivery Status Notifications'],
  ['STARTTLS', 'Support for TLS encryption via the STARTTLS command'],
  ['8BITMIME', 'Support for 8-bit message bodies (RFC 6152)'],
  ['CHUNKING', 'Support for sending the mail in chunks with BDAT (RFC 3030)'],
  ['BINARYMIME', 'Support for binary message bodies (RFC 3030)'],
  ['ENHANCEDSTATUSCODES', 'Support for enhanced status codes in replies (RFC 2034)'],
  ['REQUIRETLS', 'Support for requiring TLS on every hop (RFC 8689)'],
];

/** msmtp lists the mechanisms it knows in this order. */
const AUTH_ORDER = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'GSSAPI', 'EXTERNAL', 'OAUTHBEARER', 'CRAM-MD5', 'DIGEST-MD5', 'LOGIN', 'NTLM', 'XOAUTH2'];

export function renderServerInfo(info: ServerInfo): string {
  const lines = [
    // As msmtp: a socket is named instead of the host, and the header still says "port N".
    `${info.protocol === 'lmtp' ? 'LMTP' : 'SMTP'} server at ${info.socket ?? `${info.host}${where(info)}`}, port ${info.port}:`,
    ...info.greeting.map((line) => `    ${line}`),
  ];
  if (info.tls) lines.push(...tlsLines(info.tls));
  lines.push(...capabilityLines(info));
  if (info.mayOfferMoreWithTls) lines.push('This server might advertise more or other capabilities when TLS is active.');
  lines.push(...info.warnings.map((warning) => `Warning: ${warning}`));
  return `${lines.join('\n')}\n`;
}

/** The TLS session and the server's certificate, as --serverinfo and --debug show them. */
export function tlsLines(tls: TlsSessionInfo): string[] {
  const lines = ['TLS session parameters:', `    ${tls.protocol}, ${tls.cipher}${tls.resumed ? ' (resumed session)' : ''}`];
  return tls.certificate ? [...lines, ...certificateLines(tls.certificate)] : lines;
}

export function renderServerInfoJson(info: ServerInfo): string {
  return `${JSON.stringify(info, null, 2)}\n`;
}

/** "(rdns [ip])", "(rdns)", "([ip])" or nothing, as msmtp prints it. */
function where(info: ServerInfo): string {
  const parts = [info.reverseName, info.address ? `[${info.address}]` : undefined].filter(Boolean);
  return parts.length ? ` (${parts.join(' ')})` : '';
}

function certificateLines(certificate: CertificateInfo): string[] {
  return [
    'TLS certificate information:',
    '    Subject:',
    `        ${certificate.subject}`,
    '    Issuer:',
    `        ${certificate.issuer}`,
    '    Validity:',
    `        Activation time: ${cTime(certificate.validFrom)}`,
    `        Expiration time: ${cTime(certificate.validTo)}`,
    '    Fingerprints:',
    `        SHA256: ${certificate.sha256}`,
    `        SHA1 (deprecated): ${certificate.sha1}`,
  ];
}

function capabilityLines(info: ServerInfo): string[] {
  if (info.capabilities.length === 0) return ['No special capabilities.'];
  const byKeyword = new Map(info.capabilities.map(([keyword, params]) => [keyword, params]));
  const lines = ['Capabilities:'];
  const size = byKeyword.get('SIZE');
  if (size !== undefined) lines.push(...sizeLines(size));
  for (const [keyword, explanation] of EXPLAINED) {
    if (byKeyword.has(keyword)) lines.push(`    ${keyword}:`, `        ${explanation}`);
  }
  const auth = byKeyword.get('AUTH');
  if (auth !== undefined) lines.push('    AUTH:', '        Supported authentication methods:', `        ${authOrder(auth).join(' ')}`);
  const known = new Set(['SIZE', 'AUTH', ...EXPLAINED.map(([keyword]) => keyword)]);
  for (const [keyword, params] of info.capabilities) {
    if (!known.has(keyword)) lines.push(`    ${[keyword, ...params].join(' ')}`);
  }
  return lines;
}

function sizeLines(params: readonly string[]): string[] {
  const value = params[0];
  if (value !== undefined && !/^\d+$/.test(value)) return [`    SIZE ${params.join(' ')}:`, '        (not a number: no limit is known)'];
  const octets = Number(value ?? 0);
  if (octets === 0) return [`    SIZE ${value ?? ''}:`.replace(' :', ':'), '        Maximum message size is unlimited'];
  return [`    SIZE ${octets}:`, `        Maximum message size is ${octets} bytes${humanSize(octets)}`];
}

/** msmtp's thresholds: MiB above 1 MiB, KiB above 1 KiB (so exactly 1 MiB is "1024.00 KiB"). */
function humanSize(octets: number): string {
  if (octets > 1024 * 1024) return ` = ${(octets / (1024 * 1024)).toFixed(2)} MiB`;
  if (octets > 1024) return ` = ${(octets / 1024).toFixed(2)} KiB`;
  return '';
}

function authOrder(mechanisms: readonly string[]): string[] {
  const upper = mechanisms.map((m) => m.toUpperCase());
  return [...AUTH_ORDER.filter((m) => upper.includes(m)), ...upper.filter((m) => !AUTH_ORDER.includes(m))];
}

/** ctime(3)'s layout in local time, as msmtp prints certificate times. */
function cTime(date: Date): string {
  const text = date.toString(); // "Sat Nov 21 2026 12:00:00 GMT+0000 (…)"
  const [day, month, dayOfMonth, year, time] = text.split(' ');
  return `${day} ${month} ${String(Number(dayOfMonth)).padStart(2, ' ')} ${time} ${year}`;
}
