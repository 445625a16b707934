/**
 * The typed registry: every mechanism outbox speaks, by its upper-case IANA
 * name, and the ones it deliberately does not, with the reason.
 */
import { cramMd5 } from './cram-md5.js';
import { external } from './external.js';
import type { MechanismFactory } from './mechanism.js';
import { oauthbearer, xoauth2 } from './oauth.js';
import { plain } from './plain.js';
import { login } from './login.js';
import { scramMechanism, scramSha1, scramSha1Plus, scramSha256, scramSha256Plus } from './scram.js';

export const MECHANISM_NAMES = [
  'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1',
  'PLAIN',
  'CRAM-MD5',
  'LOGIN',
  'EXTERNAL',
  'OAUTHBEARER',
  'XOAUTH2',
] as const;

export type MechanismName = (typeof MECHANISM_NAMES)[number];

export const MECHANISMS: Readonly<Record<MechanismName, MechanismFactory>> = {
  'SCRAM-SHA-256-PLUS': scramSha256Plus,
  'SCRAM-SHA-1-PLUS': scramSha1Plus,
  'SCRAM-SHA-256': scramSha256,
  'SCRAM-SHA-1': scramSha1,
  PLAIN: plain,
  'CRAM-MD5': cramMd5,
  LOGIN: login,
  EXTERNAL: external,
  OAUTHBEARER: oauthbearer,
  XOAUTH2: xoauth2,
};

/** Mechanisms msmtp knows that outbox refuses, and why (see docs/auth.md). */
export const UNSUPPORTED_MECHANISMS: Readonly<Record<string, string>> = {
  GSSAPI: 'it needs the system Kerberos libraries (GSS-API), which Node cannot reach without a native add-on',
  NTLM: 'it is a proprietary, obsolete mechanism with weak cryptography (MD4/MD5-based, open to relay and offline attacks); Microsoft 365 takes XOAUTH2 or OAUTHBEARER',
  'DIGEST-MD5': 'RFC 6331 moved it to Historic; use SCRAM-SHA-256 instead',
};

export function isMechanismName(name: string): name is MechanismName {
  return (MECHANISM_NAMES as readonly string[]).includes(name);
}

export interface LookupOptions {
  /**
   * The connection can provide channel binding but the server did not offer
   * the -PLUS variant: plain SCRAM then says `y` in its GS2 header (RFC 5802
   * §6) instead of `n`. Leave it unset when the server offered -PLUS.
   */
  readonly clientSupportsChannelBinding?: boolean;
}

const SCRAM_Y = {
  'SCRAM-SHA-1': scramMechanism({ hash: 'SHA-1', plus: false, clientSupportsChannelBinding: true }),
  'SCRAM-SHA-256': scramMechanism({ hash: 'SHA-256', plus: false, clientSupportsChannelBinding: true }),
} as const;

/** The factory for a mechanism name (any case), or undefined for one outbox does not speak. */
export function findMechanism(name: string, options: LookupOptions = {}): MechanismFactory | undefined {
  const upper = name.toUpperCase();
  if (!isMechanismName(upper)) return undefined;
  if (options.clientSupportsChannelBinding && (upper === 'SCRAM-SHA-1' || upper === 'SCRAM-SHA-256')) return SCRAM_Y[upper];
  return MECHANISMS[upper];
}
