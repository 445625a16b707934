/**
 * The checks msmtp makes on the account it is about to use (`check_account()`),
 * with its wording, and the values it fills in: the port for the protocol and
 * TLS mode, the SOCKS port. Only the chosen account is checked, as in msmtp:
 * a broken account elsewhere in the file does not matter until it is used.
 */
import { OutboxError } from '../errors.js';
import { DEFAULT_PROXY_PORT, defaultPort, type Account, type Settings } from './account.js';

/** An account that passed the checks; its port is known. */
export interface ReadyAccount extends Account {
  readonly port: number;
}

/** Fills in the default ports and checks the account; throws E_CONFIG naming the account and where it is defined. */
export function finalizeAccount(account: Account): ReadyAccount {
  const port = account.port ?? defaultPort(account);
  const problem = accountProblem(account, port);
  if (problem) throw new OutboxError('E_CONFIG', `${describeAccount(account)}: ${problem}`);
  const proxyPort = account.proxy_host !== null ? (account.proxy_port ?? DEFAULT_PROXY_PORT) : account.proxy_port;
  // With a socket and LMTP there is no port to use; 0 says so.
  return { ...account, port: port ?? 0, proxy_port: proxyPort };
}

function accountProblem(account: Account, port: number | null): string | undefined {
  // An account with an `mda` may deliver only locally: its server is checked when a mail needs it (requireServer).
  if (account.mda === null) {
    const problem = serverProblem(account, port);
    if (problem) return problem;
  }
  if (account.tls_key_file !== null && account.tls_cert_file === null) return 'tls_key_file requires tls_cert_file';
  if (account.tls_cert_file !== null && account.tls_key_file === null) return 'tls_cert_file requires tls_key_file';
  if (account.tls && account.tls_trust_file === null && account.tls_fingerprint === null && account.tls_certcheck) {
    return 'tls requires either tls_trust_file (highly recommended) or tls_fingerprint or a disabled tls_certcheck';
  }
  if (account.tls_crl_file !== null && account.tls_trust_file === null) return 'tls_crl_file requires tls_trust_file';
  // outbox's own: a bearer token is not a password, and must never be sent as one (issue 16).
  if (account.oauth2_provider !== null && !['on', 'off', 'oauthbearer', 'xoauth2', 'external'].includes(account.auth)) {
    return `oauth2_provider requires auth on, oauthbearer or xoauth2 (not ${account.auth})`;
  }
  return undefined;
}

function serverProblem(account: Pick<Account, 'host' | 'socket'>, port: number | null): string | undefined {
  if (account.host === null && account.socket === null) return 'host not set';
  if (port === null && account.socket === null) return 'port not set';
  return undefined;
}

/** An account with an `mda` that must send over SMTP after all (a recipient that is not local): the checks skipped before. */
export function requireServer(account: ReadyAccount): void {
  const problem = serverProblem(account, account.port === 0 ? null : account.port);
  if (problem) throw new OutboxError('E_CONFIG', `${describeAccount(account)}: ${problem}`);
}

/** "file:12: account work", or "account (command line)" for an account without a file. */
export function describeAccount(account: Pick<Account, 'name' | 'file' | 'line'>): string {
  return account.file === null ? `account ${account.name}` : `${account.file}:${account.line ?? 0}: account ${account.name}`;
}

/**
 * Where one setting was given, for an error about it: "file:7: passwordeval"
 * (the setting's own line), "passwordeval (command line)", or, when the
 * source is unknown, the account and the setting.
 */
export function describeSetting(account: Pick<Account, 'name' | 'file' | 'line' | 'sources'>, setting: keyof Settings): string {
  const source = account.sources?.[setting];
  if (source === 'command line') return `${setting} (command line)`;
  if (source !== undefined) return `${source.file}:${source.line}: ${setting}`;
  return `${describeAccount(account)}: ${setting}`;
}
