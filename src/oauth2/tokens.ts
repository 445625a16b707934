/**
 * The access token for sending: read from the store, refreshed shortly
 * before it expires (RFC 6749 §6), the new record (with a rotated refresh
 * token, when the server sent one) saved before the token is used, so a
 * crash after the refresh never loses the only valid refresh token.
 *
 * `refresh()` is what the SMTP side calls once when the server refuses the
 * token inside the SASL exchange (revoked early, a clock that is off): it
 * refreshes whatever the stored expiry says.
 */
import type { OAuth2Client } from './client.js';
import { loginNeeded } from './client.js';
import { loadToken, saveToken } from './store.js';
import { refreshAccessToken, type Post } from './token-endpoint.js';
import type { StoreName, TokenRecord, TokenStore } from './token-record.js';

/** Refreshed when less than this is left: a mail's connection, TLS and AUTH fit well inside. */
export const REFRESH_MARGIN_MS = 5 * 60_000;

export interface TokenDeps {
  readonly stores: readonly TokenStore[];
  readonly post: Post;
  /** Milliseconds since the epoch (tests pass a fake clock). */
  readonly now: () => number;
}

export interface AccessToken {
  readonly token: string;
  /** Refreshes now, saves, and returns the new access token. */
  refresh(): Promise<string>;
}

/** Whether a record is for this client (a changed client id or token endpoint makes it unusable). */
export function recordMatches(client: Pick<OAuth2Client, 'clientId' | 'tokenEndpoint'>, record: TokenRecord): boolean {
  return record.clientId === client.clientId && record.tokenEndpoint === client.tokenEndpoint;
}

export function needsRefresh(record: TokenRecord, now: number): boolean {
  return record.expiresAt !== null && record.expiresAt - now < REFRESH_MARGIN_MS;
}

export async function accessTokenFor(client: OAuth2Client, deps: TokenDeps): Promise<AccessToken> {
  const found = await loadToken(deps.stores, client.key);
  if (found === undefined) throw loginNeeded(client.account, 'no OAuth2 token is stored');
  if (!recordMatches(client, found.record)) throw loginNeeded(client.account, 'the stored OAuth2 token is for another client or token endpoint');
  let record = found.record;
  const store: StoreName = found.store;
  const refresh = async (): Promise<string> => {
    record = await refreshAccessToken(client, record, deps.post, deps.now);
    await saveToken(deps.stores, client.key, record, store);
    return record.accessToken;
  };
  const token = needsRefresh(record, deps.now()) ? await refresh() : record.accessToken;
  return { token, refresh };
}
