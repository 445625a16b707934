/**
 * Which token store: the keyring when `secret-tool` is on the PATH, the
 * 0600 file otherwise, and the file too when the keyring refuses (no
 * Secret Service running: a server, a container, an ssh session).
 * `OUTBOX_OAUTH2_STORE=file` or `=keyring` chooses one alone.
 *
 * A token is read from the first store that has it and written back to
 * the store it came from, so a refresh (and a rotated refresh token) lands
 * where the next run looks first.
 */
import { findProgram } from '../config/system.js';
import { OutboxError } from '../errors.js';
import { fileStore, tokenFolder } from './file-store.js';
import { keyringStore, secretToolRunner } from './keyring-store.js';
import type { StoreName, TokenKey, TokenRecord, TokenStore } from './token-record.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The stores to use, best first. */
export function openTokenStores(env: Env, home: string): TokenStore[] {
  const choice = env['OUTBOX_OAUTH2_STORE'] || undefined;
  if (choice !== undefined && choice !== 'file' && choice !== 'keyring') {
    throw new OutboxError('E_CONFIG', `OUTBOX_OAUTH2_STORE must be file or keyring, not ${JSON.stringify(choice)}`);
  }
  const file = fileStore(tokenFolder(env, home));
  const program = choice === 'file' ? undefined : findProgram('secret-tool', env);
  const keyring = program === undefined ? [] : [keyringStore(secretToolRunner(program))];
  if (choice !== 'keyring') return [...keyring, file];
  if (keyring.length === 0) throw new OutboxError('E_CONFIG', 'OUTBOX_OAUTH2_STORE=keyring, but secret-tool is not on the PATH');
  return keyring;
}

export interface FoundToken {
  readonly record: TokenRecord;
  readonly store: StoreName;
}

export async function loadToken(stores: readonly TokenStore[], key: TokenKey): Promise<FoundToken | undefined> {
  for (const store of stores) {
    const record = await store.load(key);
    if (record !== undefined) return { record, store: store.name };
  }
  return undefined;
}

/**
 * Saves in `preferred` (where the token was found) or the best store; when
 * a store refuses, the next is tried. Returns the store that took it; the
 * last refusal is thrown when none did.
 */
export async function saveToken(stores: readonly TokenStore[], key: TokenKey, record: TokenRecord, preferred?: StoreName): Promise<StoreName> {
  const ordered = preferred === undefined ? stores : [...stores.filter((s) => s.name === preferred), ...stores.filter((s) => s.name !== preferred)];
  let failure: unknown = new OutboxError('E_CONFIG', 'no token store');
  for (const store of ordered) {
    try {
      await store.save(key, record);
      return store.name;
    } catch (error) {
      failure = error;
    }
  }
  throw failure;
}

/** Removes the token from every store; returns those that held one. */
export async function removeToken(stores: readonly TokenStore[], key: TokenKey): Promise<StoreName[]> {
  const removed: StoreName[] = [];
  for (const store of stores) if (await store.remove(key)) removed.push(store.name);
  return removed;
}
