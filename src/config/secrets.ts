/**
 * Where the password comes from, in msmtp's order, asked only when
 * authentication needs one:
 *
 * 1. `password`;
 * 2. `passwordeval`: the first line its command prints (stdin /dev/null); a
 *    command that fails or prints nothing is a configuration error (exit 78);
 * 3. the keyring: `secret-tool lookup host H service smtp user U`, when that
 *    program exists (injected as `keyring`);
 * 4. `~/.netrc`, then the system netrc (`/etc/netrc`): machine H, login U;
 * 5. a prompt on the terminal, only when there is one (injected as `prompt`).
 *
 * No password, no command and no command output ever appears in an error
 * message: a failing `passwordeval` is named by its own `file:line`.
 */
import { OutboxError } from '../errors.js';
import type { Account } from './account.js';
import { findNetrcPassword, parseNetrc } from './netrc.js';
import { firstOutputLine, type AsyncCommandRunner } from './shell.js';
import { describeSetting } from './validate.js';

export const SYSTEM_NETRC_FILE = '/etc/netrc';

export type PasswordSource = 'password' | 'passwordeval' | 'keyring' | 'netrc' | 'system netrc' | 'prompt';

export interface KeyringQuery {
  readonly host: string;
  readonly service: 'smtp';
  readonly user: string;
}

export interface SecretDeps {
  /** Runs `passwordeval` commands without blocking: a pinentry may take a while. */
  readonly runCommand: AsyncCommandRunner;
  /** Looks the password up in the keyring; `undefined` when absent or when there is no keyring. */
  readonly keyring?: ((query: KeyringQuery) => string | undefined | Promise<string | undefined>) | undefined;
  /** Reads a netrc file; throws when it cannot (the file is then skipped). */
  readonly readFile: (path: string) => Uint8Array | string;
  readonly home: string;
  /** Default `/etc/netrc`. */
  readonly systemNetrc?: string | undefined;
  /** Asks on the terminal; absent when there is no terminal. `undefined` answer: nothing typed. */
  readonly prompt?: ((text: string) => Promise<string | undefined>) | undefined;
}

export interface ResolvedPassword {
  readonly password: string;
  readonly source: PasswordSource;
}

type PasswordAccount = Pick<Account, 'name' | 'file' | 'line' | 'sources' | 'host' | 'user' | 'password' | 'passwordeval'>;

/** The password for the account, or `undefined` when no source has one. */
export async function resolvePassword(account: PasswordAccount, deps: SecretDeps): Promise<ResolvedPassword | undefined> {
  if (account.password !== null) return { password: account.password, source: 'password' };
  if (account.passwordeval !== null) {
    return { password: await evaluatePassword(account, account.passwordeval, deps), source: 'passwordeval' };
  }
  const { host, user } = account;
  if (host !== null && user !== null) {
    const fromKeyring = await deps.keyring?.({ host, service: 'smtp', user });
    if (fromKeyring !== undefined) return { password: fromKeyring, source: 'keyring' };
    const fromNetrc = netrcPassword(`${deps.home}/.netrc`, host, user, deps);
    if (fromNetrc !== undefined) return { password: fromNetrc, source: 'netrc' };
    const fromSystem = netrcPassword(deps.systemNetrc ?? SYSTEM_NETRC_FILE, host, user, deps);
    if (fromSystem !== undefined) return { password: fromSystem, source: 'system netrc' };
  }
  const typed = await deps.prompt?.(`password for ${user ?? ''} at ${host ?? ''}: `);
  return typed === undefined ? undefined : { password: typed, source: 'prompt' };
}

async function evaluatePassword(account: PasswordAccount, command: string, deps: SecretDeps): Promise<string> {
  const output = firstOutputLine(await deps.runCommand(command));
  if (!output.ok) throw new OutboxError('E_CONFIG', `${describeSetting(account, 'passwordeval')}: ${output.reason}`);
  return output.line;
}

function netrcPassword(path: string, host: string, user: string, deps: SecretDeps): string | undefined {
  let content: Uint8Array | string;
  try {
    content = deps.readFile(path);
  } catch {
    return undefined;
  }
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  return findNetrcPassword(parseNetrc(text), host, user);
}
