/**
 * From an account to the session's options: server, protocol, timeouts, TLS
 * policy, the resolver and the debug transcript. Shared by sending and
 * --serverinfo so both open exactly the same session.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { dsnNotifyParameter, dsnReturnParameter, resolvePassword, systemSecretDeps, type ReadyAccount, type SecretDeps } from '../config/index.js';
import type { AuthSetup } from '../delivery/auth.js';
import type { SessionOptions } from '../delivery/session.js';
import type { DsnRequest } from '../delivery/envelope.js';
import { dnsServerResolve } from '../net/connector.js';
import { findMechanism } from '../sasl/registry.js';
import { asciiHost } from '../net/idn.js';
import { OutboxError } from '../errors.js';
import { startTls } from '../net/tls-connect.js';
import { prepareTls } from '../net/tls-options.js';
import type { TlsPolicy } from '../net/tls-policy.js';
import { transcriptWriter } from '../log/transcript.js';
import { tlsLines } from './serverinfo-render.js';
import { timeoutsFor } from '../smtp/timeouts.js';
import type { CliOptions } from './options.js';
import type { Stdio } from './stdio.js';

export function sessionOptionsFor(account: ReadyAccount, options: Pick<CliOptions, 'debug' | 'chunking'>, io: Pick<Stdio, 'env' | 'writeOut'>): SessionOptions {
  const debug = options.debug;
  const resolver = io.env['OUTBOX_DNS_SERVER'];
  const policy = tlsPolicyFor(account, io.env);
  return {
    // With a unix socket there may be no host; the name then only labels messages and the log.
    host: account.host !== null ? idnHost('host', account.host) : 'localhost',
    port: account.port,
    protocol: account.protocol,
    domain: idnHost('domain', account.domain),
    timeouts: timeoutsFor(account.timeout),
    chunking: options.chunking,
    ...(account.socket !== null ? { socketPath: account.socket } : {}),
    ...(account.source_ip !== null ? { sourceAddress: account.source_ip } : {}),
    ...(account.proxy_host !== null ? { proxy: { host: idnHost('proxy_host', account.proxy_host), port: account.proxy_port ?? 1080 } } : {}),
    ...(policy.mode !== 'off' ? { tls: { policy, startTls, prepare: prepareTls } } : {}),
    ...(resolver ? { resolve: dnsServerResolve(resolver) } : {}),
    ...(debug ? { trace: transcriptWriter((line) => io.writeOut(`${line}\n`)), onTls: (info) => io.writeOut(`${tlsLines(info).join('\n')}\n`) } : {}),
  };
}

/** An internationalised host name or EHLO domain in its ASCII (A-label) form, or a clear error. */
function idnHost(setting: string, name: string): string {
  const ascii = asciiHost(name);
  if (ascii === undefined) throw new OutboxError('E_CONFIG', `${setting} ${JSON.stringify(name)} is not a valid internationalised domain name`);
  return ascii;
}

/**
 * `auth off`: none; otherwise what authenticate() needs. The password is
 * looked up here, before connecting, as msmtp does: a gpg passphrase typed
 * into a pinentry, or a slow vault command, must not run while the server's
 * idle timer counts, and a failing `passwordeval` (exit 78) then sends
 * nothing at all. It is looked up only when `auth` will need one.
 */
export async function authSetupFor(account: ReadyAccount, deps: SecretDeps = systemSecretDeps(), env: NodeJS.ProcessEnv = process.env): Promise<AuthSetup | undefined> {
  if (account.auth === 'off') return undefined;
  if (account.oauth2_provider !== null && account.auth !== 'external') return oauth2AuthSetup(account, deps, env);
  const secret = needsPassword(account) ? (await resolvePassword(account, deps))?.password : undefined;
  return {
    requested: account.auth,
    user: account.user,
    secret,
    hasClientCertificate: account.tls_cert_file !== null,
    host: account.host ?? '',
    port: account.port,
  };
}

/**
 * An `oauth2_provider` account: the token comes from outbox's store (never
 * from password or passwordeval), refreshed first when it is about to
 * expire; `refreshSecret` lets the session refresh it once more if the
 * server still refuses it. Loaded only for such accounts.
 */
async function oauth2AuthSetup(account: ReadyAccount, deps: SecretDeps, env: NodeJS.ProcessEnv): Promise<AuthSetup> {
  const { accessTokenForAccount } = await import('../oauth2/index.js');
  const access = await accessTokenForAccount(account, { runCommand: deps.runCommand, env, home: deps.home });
  return {
    requested: account.auth,
    user: account.user,
    secret: access.token,
    hasClientCertificate: account.tls_cert_file !== null,
    host: account.host ?? '',
    port: account.port,
    bearer: true,
    refreshSecret: () => access.refresh(),
  };
}

/**
 * Whether the account's `auth` will ask for a password: a method that takes
 * one (PLAIN, SCRAM, the OAuth tokens…), or `auth on` with a user (every
 * method `on` may choose needs both). Not `external` (a client certificate),
 * not `on` without a user (it fails before asking), not a method outbox does
 * not speak (it fails before asking too).
 */
export function needsPassword(account: Pick<ReadyAccount, 'auth' | 'user'>): boolean {
  if (account.auth === 'off') return false;
  if (account.auth === 'on') return account.user !== null && account.user !== '';
  return findMechanism(account.auth)?.needsSecret ?? false;
}

export function tlsPolicyFor(account: ReadyAccount, env: NodeJS.ProcessEnv): TlsPolicy {
  return {
    mode: !account.tls ? 'off' : account.tls_starttls ? 'starttls' : 'tls',
    trustFile: account.tls_trust_file,
    crlFile: account.tls_crl_file,
    fingerprint: account.tls_fingerprint,
    certcheck: account.tls_certcheck,
    hostOverride: account.tls_host_override,
    certFile: account.tls_cert_file,
    keyFile: account.tls_key_file,
    minDhPrimeBits: account.tls_min_dh_prime_bits,
    priorities: account.tls_priorities,
    sessionCacheDir: sessionCacheDir(env),
  };
}

/** `$XDG_CACHE_HOME/outbox/tls-sessions`, else `~/.cache/outbox/tls-sessions`; OUTBOX_TLS_SESSION_CACHE=off disables it. */
function sessionCacheDir(env: NodeJS.ProcessEnv): string | null {
  if (env['OUTBOX_TLS_SESSION_CACHE'] === 'off') return null;
  const base = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(base, 'outbox', 'tls-sessions');
}

/** msmtp's dsn_notify and dsn_return (-N, -R), and sendmail's -V. */
export function dsnRequest(account: ReadyAccount, envid: string | undefined): { dsn?: DsnRequest } {
  const notify = dsnNotifyParameter(account.dsn_notify);
  const ret = dsnReturnParameter(account.dsn_return);
  if (notify === undefined && ret === undefined && envid === undefined) return {};
  return { dsn: { ...(notify ? { notify } : {}), ...(ret ? { ret: ret as 'HDRS' | 'FULL' } : {}), ...(envid !== undefined ? { envid } : {}) } };
}
