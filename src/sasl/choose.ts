/**
 * Which mechanism to use: msmtp's `auth on` choice, made stricter where a
 * password could be read, and an explicitly named method taken as asked.
 *
 * `auth on`
 *  - with TLS, the first offered of SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS
 *    (these two only when the connection provides channel binding),
 *    SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, CRAM-MD5, LOGIN;
 *  - without TLS, only SCRAM-SHA-256 or SCRAM-SHA-1: nothing that sends the
 *    password, or lets a listener test guesses against it cheaply;
 *  - never EXTERNAL, OAUTHBEARER or XOAUTH2, which need a client certificate
 *    or a token rather than a password and so must be named.
 * `auth METHOD` uses that method, with or without TLS, if the server offers
 * it; GSSAPI, NTLM and DIGEST-MD5 are refused with the reason.
 *
 * Every refusal is E_CAPABILITY (exit 69, as msmtp).
 */
import { MECHANISM_NAMES, MECHANISMS, UNSUPPORTED_MECHANISMS, isMechanismName, type MechanismName } from './registry.js';

export interface ChooseOptions {
  /** The session is encrypted (implicit TLS or after STARTTLS). */
  readonly tls: boolean;
  /** The TLS connection can provide channel binding data (tls-exporter or tls-unique). */
  readonly channelBinding: boolean;
  /** `on`, or one method in msmtp's lower-case spelling, e.g. `scram-sha-256` (any case is accepted). */
  readonly requested: 'on' | string;
  /** False when no password or token is configured; undefined when not known. */
  readonly hasSecret?: boolean;
  /** False when no TLS client certificate is configured; undefined when not known. */
  readonly hasClientCertificate?: boolean;
  /**
   * The secret is an OAuth2 access token from outbox's own store (the account
   * sets `oauth2_provider`): `auth on` then chooses among OAUTHBEARER and
   * XOAUTH2, as the server offers them, and nothing else (a token is no password).
   */
  readonly bearer?: boolean;
}

/** The mechanism is one of the registry's names, so `MECHANISMS[result.mechanism]` is its factory. */
export type ChooseResult =
  | { readonly mechanism: MechanismName }
  | { readonly error: string; readonly code: 'E_CAPABILITY' | 'E_NO_CREDENTIALS' | 'E_NOT_SUPPORTED' };

/** `auth on` with TLS, best first. */
export const AUTO_ORDER_TLS: readonly MechanismName[] = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'CRAM-MD5', 'LOGIN'];
/** `auth on` without TLS, best first. */
export const AUTO_ORDER_PLAINTEXT: readonly MechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-1'];
/** `auth on` for an OAuth2 account (`bearer`), best first: RFC 7628's standard, then Google's and Microsoft's XOAUTH2. */
export const AUTO_ORDER_BEARER: readonly MechanismName[] = ['OAUTHBEARER', 'XOAUTH2'];
/** Never chosen by `auth on` (but for `bearer`, the two token mechanisms). */
const EXPLICIT_ONLY: readonly MechanismName[] = ['EXTERNAL', 'OAUTHBEARER', 'XOAUTH2'];

/** The server offers nothing we may use. */
const refuse = (error: string): ChooseResult => ({ error, code: 'E_CAPABILITY' });
/** A credential the mechanism needs is not configured. */
const noCredentials = (error: string): ChooseResult => ({ error, code: 'E_NO_CREDENTIALS' });
/** outbox does not implement the mechanism asked for. */
const notSupported = (error: string): ChooseResult => ({ error, code: 'E_NOT_SUPPORTED' });

export function chooseMechanism(offered: readonly string[], options: ChooseOptions): ChooseResult {
  const offers = [...new Set(offered.map((m) => m.trim().toUpperCase()).filter((m) => m !== ''))];
  const listing = offers.length === 0 ? 'none' : offers.join(' ');
  const requested = options.requested.trim();

  if (requested.toLowerCase() === 'on') return chooseAutomatically(offers, listing, options);

  const name = requested.toUpperCase();
  const unsupported = UNSUPPORTED_MECHANISMS[name];
  if (unsupported !== undefined) return notSupported(`authentication method ${name} is not supported by outbox: ${unsupported}`);
  if (!isMechanismName(name)) {
    return notSupported(`unknown authentication method "${requested}"; outbox supports ${MECHANISM_NAMES.map((m) => m.toLowerCase()).join(', ')}`);
  }
  if (!offers.includes(name)) return refuse(`the server does not support authentication method ${name} (it offers: ${listing})`);
  const factory = MECHANISMS[name];
  if (factory.needsChannelBinding && !(options.tls && options.channelBinding)) {
    return refuse(options.tls
      ? `authentication method ${name} needs TLS channel binding, which this TLS connection does not provide`
      : `authentication method ${name} needs TLS channel binding, and the session is not encrypted`);
  }
  if (name === 'EXTERNAL' && options.hasClientCertificate === false) {
    return noCredentials('authentication method EXTERNAL uses the TLS client certificate, and none is configured (tls_cert_file, tls_key_file)');
  }
  if (factory.needsSecret && options.hasSecret === false) return noCredentials(missingSecret(name));
  return { mechanism: name };
}

function chooseAutomatically(offers: readonly string[], listing: string, options: ChooseOptions): ChooseResult {
  if (options.bearer) return chooseBearer(offers, listing, options);
  const order = options.tls
    ? AUTO_ORDER_TLS.filter((m) => !MECHANISMS[m].needsChannelBinding || options.channelBinding)
    : AUTO_ORDER_PLAINTEXT;
  const chosen: MechanismName | undefined = order.find((m) => offers.includes(m));
  if (chosen === undefined) {
    const named = EXPLICIT_ONLY.filter((m) => offers.includes(m));
    const hint = named.length === 0 ? '' : `; auth on never chooses ${named.join(' or ')}: name it with "auth ${named[0]?.toLowerCase()}"`;
    if (!options.tls) {
      return refuse(`the server offers no authentication method that keeps the password secret without TLS (it offers: ${listing}); `
        + `use TLS ("tls on"), or name a method with "auth METHOD" to send it unencrypted anyway${hint}`);
    }
    return refuse(`the server offers no authentication method that auth on can use (it offers: ${listing})${hint}`);
  }
  if (options.hasSecret === false) {
    const certificate = options.hasClientCertificate === true && offers.includes('EXTERNAL')
      ? '; the server offers EXTERNAL and a client certificate is configured: use "auth external"'
      : '';
    return noCredentials(`${missingSecret(chosen)}${certificate}`);
  }
  return { mechanism: chosen };
}

function missingSecret(name: string): string {
  const what = name === 'OAUTHBEARER' || name === 'XOAUTH2' ? 'an OAuth2 access token' : 'a password';
  return `authentication method ${name} needs ${what}, and none is configured (password, passwordeval, or .netrc)`;
}

/**
 * `auth on` with an OAuth2 provider. A bearer token sent in clear can be
 * replayed by whoever reads it, so without TLS the method must be named,
 * as for passwords.
 */
function chooseBearer(offers: readonly string[], listing: string, options: ChooseOptions): ChooseResult {
  const chosen = AUTO_ORDER_BEARER.find((m) => offers.includes(m));
  if (chosen === undefined) return refuse(`the server offers neither OAUTHBEARER nor XOAUTH2, which an oauth2_provider account needs (it offers: ${listing})`);
  if (!options.tls) {
    return refuse(`auth on does not send an OAuth2 token without TLS: use TLS ("tls on"), or name the method ("auth ${chosen.toLowerCase()}") to send it unencrypted anyway`);
  }
  if (options.hasSecret === false) return noCredentials(missingSecret(chosen));
  return { mechanism: chosen };
}
