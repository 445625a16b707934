/**
 * OAuth2 built in (issue 16), as the CLI uses it:
 *
 * ```ts
 * // sending: the token for AUTH, refreshed when it is about to expire
 * const access = await accessTokenForAccount(account, { runCommand, env, home });
 * // access.token for the SASL mechanism; access.refresh() once if the server refuses it
 * // outbox oauth2 login / status / logout
 * await login(await resolveClient(account, runCommand), flow, deps);
 * ```
 */
import type { AsyncCommandRunner } from '../config/shell.js';
import { clientOf, resolveClient, type OAuth2Account, type OAuth2Client } from './client.js';
import { openTokenStores } from './store.js';
import { fetchPost } from './token-endpoint.js';
import { accessTokenFor, type AccessToken } from './tokens.js';

export { clientOf, resolveClient, loginNeeded, type OAuth2Account, type OAuth2Client } from './client.js';
export { chooseFlow, login, logout, tokenStatus, type LoginDeps, type LoginFlow, type TokenStatus } from './login.js';
export { openTokenStores } from './store.js';
export { fetchPost, type Post } from './token-endpoint.js';
export { accessTokenFor, REFRESH_MARGIN_MS, type AccessToken } from './tokens.js';
export { PROVIDERS } from './providers.js';

export interface SystemDeps {
  readonly runCommand: AsyncCommandRunner;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
}

/** The send path's token: the account's client (its secret evaluated only when a refresh needs it), the stores of this system, Node's fetch, the clock. */
export async function accessTokenForAccount(account: OAuth2Account, deps: SystemDeps): Promise<AccessToken> {
  const withSecret = (): Promise<OAuth2Client> => resolveClient(account, deps.runCommand);
  return accessTokenFor({ ...clientOf(account), clientSecret: undefined }, { stores: openTokenStores(deps.env, deps.home), post: fetchPost, now: Date.now, withSecret });
}
