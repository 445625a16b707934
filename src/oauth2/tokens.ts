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
import { OutboxError } from '../errors.js';
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
  /**
   * The client with its secret, asked for only when a refresh needs it: a
   * valid stored token sends without running `oauth2_client_secret_eval`
   * (a gpg or pass prompt per mail otherwise). Absent: `client` is whole.
   */
  readonly withSecret?: () => Promise<OAuth2Client>;
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
  let whole: Promise<OAuth2Client> | undefined;
  const secretClient = (): Promise<OAuth2Client> => (whole ??= deps.withSecret?.() ?? Promise.resolve(client));
  const refresh = async (): Promise<string> => {
    try {
      record = await refreshAccessToken(await secretClient(), record, deps.post, deps.now);
    } catch (error) {
      const newer = await newerRecord(client, deps, record, error);
      if (newer === undefined) throw error;
      record = newer;
      if (!needsRefresh(record, deps.now())) return record.accessToken;
      record = await refreshAccessToken(await secretClient(), record, deps.post, deps.now);
    }
    await saveToken(deps.stores, client.key, record, store);
    return record.accessToken;
  };
  const token = needsRefresh(record, deps.now()) ? await refresh() : record.accessToken;
  return { token, refresh };
}

/**
 * After a refused refresh: another outbox (a background flush, a second
 * send) may have refreshed meanwhile, and a server that rotates refresh
 * tokens then refuses the one we read. The stored record, when it holds a
 * different refresh token for this client, is the one to use.
 */
async function newerRecord(client: OAuth2Client, deps: TokenDeps, used: TokenRecord, error: unknown): Promise<TokenRecord | undefined> {
  if (!(error instanceof OutboxError) || error.code !== 'E_OAUTH2_LOGIN') return undefined;
  const found = await loadToken(deps.stores, client.key);
  if (found === undefined || !recordMatches(client, found.record)) return undefined;
  const changed = found.record.refreshToken !== used.refreshToken || found.record.accessToken !== used.accessToken;
  return changed ? found.record : undefined;
}
