/**
 * msmtp's `tls_priorities` takes a GnuTLS priority string; Node speaks
 * OpenSSL. Only the strings people actually write are mapped, each to the
 * nearest Node setting; everything else is refused by name, because silently
 * ignoring a token someone added to harden their setup would be a downgrade.
 * The table lives in docs/tls.md; keep the two in step.
 */
import { DEFAULT_CIPHERS, type SecureVersion } from 'node:tls';
import { OutboxError } from '../errors.js';

export interface PriorityMapping {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** An OpenSSL cipher string (TLS 1.3 suites included), or undefined for Node's default. */
  readonly ciphers: string | undefined;
  /** Node's `ecdhCurve`, or undefined for its default ('auto'). */
  readonly ecdhCurve: string | undefined;
  /** False after `%NO_TICKETS`: no session is cached or resumed. */
  readonly sessionTickets: boolean;
}

/** Oldest first: a Node version range is an interval of this list. */
const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const satisfies readonly SecureVersion[];

const VERSION_TOKENS: Readonly<Record<string, SecureVersion>> = {
  'VERS-TLS1.0': 'TLSv1',
  'VERS-TLS1.1': 'TLSv1.1',
  'VERS-TLS1.2': 'TLSv1.2',
  'VERS-TLS1.3': 'TLSv1.3',
};

/** 256-bit ciphers with forward secrecy only; SHA-1 MACs out (GnuTLS's 192/256-bit levels drop them). */
const CIPHERS_256 = [
  'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE+AES256', 'ECDHE+CHACHA20', 'DHE+AES256', 'DHE+CHACHA20', '!SHA1', '!aNULL', '!eNULL',
].join(':');

interface Base {
  readonly ciphers: string | undefined;
  readonly ecdhCurve: string | undefined;
}

/**
 * The base keywords. GnuTLS's SECURE128 only drops ciphers under 128 bits,
 * which Node's default list already excludes; SECURE192/256 also raise the
 * key-size floor (GnuTLS's "high" and "ultra" profiles), which is OpenSSL's
 * security level 3 and 4. PERFORMANCE differs from NORMAL only in ordering.
 */
const BASES: Readonly<Record<string, Base>> = {
  NORMAL: { ciphers: undefined, ecdhCurve: undefined },
  PERFORMANCE: { ciphers: undefined, ecdhCurve: undefined },
  SECURE128: { ciphers: undefined, ecdhCurve: undefined },
  SECURE: { ciphers: undefined, ecdhCurve: undefined },
  // A getter: node:tls is loaded only when TLS is used (bin/outbox defers it).
  PFS: { get ciphers() { return `${DEFAULT_CIPHERS}:!kRSA`; }, ecdhCurve: undefined },
  SECURE192: { ciphers: `${CIPHERS_256}:@SECLEVEL=3`, ecdhCurve: 'P-384:P-521:X448' },
  SECURE256: { ciphers: `${CIPHERS_256}:@SECLEVEL=4`, ecdhCurve: 'P-384:P-521:X448' },
};

/** Flags that only change a server's behaviour or work around broken peers: no effect on a Node client. */
const IGNORED_FLAGS = new Set(['%SERVER_PRECEDENCE', '%COMPAT']);

/** Maps a GnuTLS priority string, or throws E_CONFIG naming the first token it cannot honour. */
export function mapPriorities(priorities: string): PriorityMapping {
  const tokens = priorities.split(':').map((token) => token.trim());
  const [first = '', ...modifiers] = tokens;
  const base = BASES[first.toUpperCase()];
  if (!base) {
    throw refuse(priorities, first, `a priority string must start with one of ${Object.keys(BASES).join(', ')}`);
  }
  // Node's defaults (TLS 1.2 and 1.3) stand in for GnuTLS's, which the system's configuration decides.
  const enabled = new Set<SecureVersion>(['TLSv1.2', 'TLSv1.3']);
  let sessionTickets = true;
  for (const token of modifiers) {
    const upper = token.toUpperCase();
    if (upper === '') throw refuse(priorities, token, 'an empty element (two colons in a row?)');
    if (IGNORED_FLAGS.has(upper)) continue;
    if (upper === '%NO_TICKETS') {
      sessionTickets = false;
      continue;
    }
    const sign = upper[0];
    const name = upper.slice(1);
    if (sign !== '+' && sign !== '-' && sign !== '!') throw refuse(priorities, token, unsupportedReason(upper));
    const add = sign === '+';
    if (name === 'VERS-ALL' || name === 'VERS-TLS-ALL') {
      for (const version of VERSIONS) (add ? enabled.add(version) : enabled.delete(version));
    } else if (name === 'VERS-SSL3.0' && !add) {
      // Node never speaks SSL 3.0: removing it changes nothing.
    } else if (VERSION_TOKENS[name]) {
      const version = VERSION_TOKENS[name];
      (add ? enabled.add(version) : enabled.delete(version));
    } else {
      throw refuse(priorities, token, unsupportedReason(upper));
    }
  }
  const range = VERSIONS.filter((version) => enabled.has(version));
  const minVersion = range[0];
  const maxVersion = range[range.length - 1];
  if (!minVersion || !maxVersion) throw refuse(priorities, undefined, 'it enables no TLS version');
  if (VERSIONS.indexOf(maxVersion) - VERSIONS.indexOf(minVersion) + 1 !== range.length) {
    throw refuse(priorities, undefined, `the TLS versions it enables (${range.join(', ')}) are not one contiguous range, which is all Node can express`);
  }
  return { minVersion, maxVersion, ciphers: base.ciphers, ecdhCurve: base.ecdhCurve, sessionTickets };
}

function unsupportedReason(token: string): string {
  if (token.startsWith('@')) return 'system priority files (@KEYWORD) are GnuTLS configuration outbox cannot read';
  if (token.startsWith('%')) return 'this flag has no equivalent in Node\'s TLS';
  if (/^[+!-]VERS-/.test(token)) return 'outbox knows the versions VERS-TLS1.0 to VERS-TLS1.3 and VERS-ALL';
  return 'only protocol versions (+VERS-…, -VERS-…) can be changed; ciphers, key exchanges, MACs, groups and signatures follow the base keyword';
}

function refuse(priorities: string, token: string | undefined, reason: string): OutboxError {
  const what = token === undefined ? '' : ` element '${token}'`;
  return new OutboxError('E_CONFIG', `tls_priorities '${priorities}':${what ? `${what}:` : ''} ${reason} (see docs/tls.md for what is supported)`);
}
