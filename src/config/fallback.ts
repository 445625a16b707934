/**
 * Fail-over chains: `fallback_account NAME` (outbox's own; msmtp has no such
 * command). When an account cannot be reached, or refuses temporarily before
 * the mail is accepted, the mail goes through NAME instead, then through
 * NAME's own `fallback_account`, and so on (which failures count is decided
 * in delivery/fallover.ts).
 *
 * The chains are checked when the files are read, like `account x : y`'s
 * parents: a name that no account has, and a chain that comes back to an
 * account already in it (a → a, a → b → a), are errors at the line of the
 * `fallback_account` command, whichever account is used. A chain must end,
 * or a server that is down would be tried forever.
 *
 * Each account of a chain is used as its own lines define it (host, port,
 * TLS, auth, domain, timeout…): the command-line options change only the
 * chosen account, and each fallback passes msmtp's account checks as soon as
 * the chain is built, so a broken fallback is found before the first mail
 * needs it, not at the moment it is needed.
 */
import { OutboxError } from '../errors.js';
import type { AccountSettings } from './account.js';
import { layer, resolveAccount } from './layer.js';
import { errorAt } from './location.js';
import type { AccountDefinition } from './parser.js';
import { describeAccount, finalizeAccount, type ReadyAccount } from './validate.js';

/** Refuses unknown names and loops in every account's chain; errors name the `fallback_account` line. */
export function checkFallbackChains(accounts: readonly AccountDefinition[]): void {
  const byName = new Map(accounts.map((a) => [a.name, a] as const));
  for (const account of accounts) {
    const next = fallbackOf(account);
    if (next === null) continue;
    if (!byName.has(next)) throw errorAt(lineOf(account), `fallback_account: account ${next} not found`);
    const loop = loopThrough(account, byName);
    if (loop) throw errorAt(lineOf(account), `fallback_account: the chain ${loop.join(' → ')} comes back to account ${account.name}`);
  }
}

/**
 * The accounts to try after `first`, in order, each resolved from its own
 * definition and checked. Empty when `first` has no `fallback_account` (and
 * always for the `--host` and environment accounts, which have no file).
 */
export function fallbackChain(accounts: readonly AccountDefinition[], first: Pick<ReadyAccount, 'name' | 'fallback_account'>): ReadyAccount[] {
  const chain: ReadyAccount[] = [];
  const seen = new Set([first.name]);
  for (let name = first.fallback_account; name !== null; name = chain[chain.length - 1]!.fallback_account) {
    const definition = accounts.find((a) => a.name === name);
    // checkFallbackChains ran when the files were read; these guard the loop's end all the same.
    if (!definition) throw new OutboxError('E_CONFIG', `account ${name} not found (fallback_account of account ${chain.at(-1)?.name ?? first.name})`);
    if (seen.has(name)) throw new OutboxError('E_CONFIG', `${describeAccount(definition)}: fallback_account chain is a loop`);
    seen.add(name);
    chain.push(finalizeAccount(resolveAccount(definition, definition.defaults, definition.explicit)));
  }
  return chain;
}

/** `b` for one fallback, `b (→ c → d)` for a longer chain: what `--pretend` shows. */
export function describeChain(names: readonly string[]): string {
  const [next, ...rest] = names;
  if (next === undefined) return '(not set)';
  return rest.length === 0 ? next : `${next} (→ ${rest.join(' → ')})`;
}

function fallbackOf(account: AccountDefinition): string | null {
  const settings: AccountSettings = layer(account.defaults, account.explicit);
  return settings.fallback_account ?? null;
}

/** The names from `start` until the chain returns to it, or undefined when it ends (or loops elsewhere, which that loop's own account reports). */
function loopThrough(start: AccountDefinition, byName: ReadonlyMap<string, AccountDefinition>): string[] | undefined {
  const path = [start.name];
  // Each step visits a new account or stops, so the walk is bounded by the number of accounts.
  for (let current: AccountDefinition | undefined = start; current !== undefined && path.length <= byName.size + 1;) {
    const next = fallbackOf(current);
    if (next === null) return undefined;
    path.push(next);
    if (next === start.name) return path;
    if (path.indexOf(next) < path.length - 1) return undefined;
    current = byName.get(next);
  }
  return undefined;
}

function lineOf(account: AccountDefinition): { file: string; line: number } {
  const source = account.sources['fallback_account'];
  return source !== undefined && source !== 'command line' ? source : { file: account.file, line: account.line };
}
