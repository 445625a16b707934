/**
 * What the token store keeps for one account, and the store's interface.
 * The record names the client and token endpoint it came from: a token
 * made for another client (the configuration changed) is not used.
 */

/** Which tokens: the server and the user, as msmtp's keyring entries (`host H service smtp user U`). */
export interface TokenKey {
  readonly host: string;
  readonly user: string;
}

export interface TokenRecord {
  readonly accessToken: string;
  /** Milliseconds since the epoch; `null` when the server gave no `expires_in`. */
  readonly expiresAt: number | null;
  readonly refreshToken: string | undefined;
  /** The scope granted (RFC 6749 §5.1), when the server said. */
  readonly scope: string | undefined;
  readonly clientId: string;
  readonly tokenEndpoint: string;
}

export type StoreName = 'keyring' | 'file';

export interface TokenStore {
  readonly name: StoreName;
  load(key: TokenKey): Promise<TokenRecord | undefined>;
  save(key: TokenKey, record: TokenRecord): Promise<void>;
  /** True when there was something to remove. */
  remove(key: TokenKey): Promise<boolean>;
}

/** The record as JSON (the file's content, the keyring item's secret). */
export function serializeRecord(record: TokenRecord): string {
  return JSON.stringify({
    version: 1,
    access_token: record.accessToken,
    expires_at: record.expiresAt,
    ...(record.refreshToken !== undefined ? { refresh_token: record.refreshToken } : {}),
    ...(record.scope !== undefined ? { scope: record.scope } : {}),
    client_id: record.clientId,
    token_endpoint: record.tokenEndpoint,
  });
}

/** A stored record read back strictly; `undefined` for anything malformed (it is then as if absent). */
export function parseRecord(text: string): TokenRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const optionalString = (x: unknown): x is string | undefined => x === undefined || typeof x === 'string';
  if (v['version'] !== 1 || typeof v['access_token'] !== 'string' || typeof v['client_id'] !== 'string' || typeof v['token_endpoint'] !== 'string') return undefined;
  if (!(v['expires_at'] === null || typeof v['expires_at'] === 'number') || !optionalString(v['refresh_token']) || !optionalString(v['scope'])) return undefined;
  return {
    accessToken: v['access_token'],
    expiresAt: v['expires_at'],
    refreshToken: v['refresh_token'],
    scope: v['scope'],
    clientId: v['client_id'],
    tokenEndpoint: v['token_endpoint'],
  };
}
