/**
 * `outbox oauth2 login`, `status` and `logout` as functions over injected
 * I/O: the flows (authorization code with a loopback redirect, or the
 * device grant) end with the record saved in the token store. What they
 * tell the user goes through `say`; no token, code or verifier ever does.
 */
import { OutboxError } from '../errors.js';
import { authorizationUrl, exchangeCode, listenForRedirect, makePkce, makeState, LOGIN_TIMEOUT_MS } from './authorization-code.js';
import type { OAuth2Client } from './client.js';
import { pollForToken, requestDeviceCode } from './device.js';
import { loadToken, removeToken, saveToken } from './store.js';
import type { Post } from './token-endpoint.js';
import { recordMatches } from './tokens.js';
import type { StoreName, TokenKey, TokenStore } from './token-record.js';

export interface LoginDeps {
  readonly stores: readonly TokenStore[];
  readonly post: Post;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** A line for the user (on standard error: standard output may be a pipe). */
  readonly say: (line: string) => void;
  /** Opens the URL in a browser when there is one; absent: the user opens it. */
  readonly openBrowser?: ((url: string) => void) | undefined;
  readonly timeoutMs?: number;
}

export type LoginFlow = 'browser' | 'device';

/** `--device`, else the device grant for Microsoft without a browser, else the browser. */
export function chooseFlow(client: OAuth2Client, device: boolean, hasBrowser: boolean): LoginFlow {
  if (device) return 'device';
  if (client.provider === 'microsoft' && !hasBrowser && client.deviceEndpoint !== undefined) return 'device';
  return 'browser';
}

/** Runs the flow, stores the tokens; returns the store used. */
export async function login(client: OAuth2Client, flow: LoginFlow, deps: LoginDeps): Promise<StoreName> {
  if (flow === 'device' && !client.deviceGrantForMail) {
    throw new OutboxError('E_USAGE', `account ${client.account}: ${client.provider}'s device grant does not give tokens for mail; use the browser login (without --device)`);
  }
  const record = flow === 'device' ? await deviceLogin(client, deps) : await browserLogin(client, deps);
  if (record.refreshToken === undefined) deps.say('note: the server gave no refresh token; you will have to log in again when this token expires');
  return saveToken(deps.stores, client.key, record);
}

async function browserLogin(client: OAuth2Client, deps: LoginDeps) {
  const pkce = makePkce();
  const state = makeState();
  const listener = await listenForRedirect(state, deps.timeoutMs ?? LOGIN_TIMEOUT_MS);
  try {
    const url = authorizationUrl(client, listener.redirectUri, pkce, state, client.key.user);
    deps.say(`Open this address in a browser and allow access for ${client.key.user}:`);
    deps.say(url);
    deps.openBrowser?.(url);
    const code = await listener.code;
    return await exchangeCode(client, code, listener.redirectUri, pkce, deps.post, deps.now());
  } finally {
    listener.close();
  }
}

async function deviceLogin(client: OAuth2Client, deps: LoginDeps) {
  const device = await requestDeviceCode(client, deps.post);
  deps.say(`On any device, open ${device.verificationUri} and enter the code ${device.userCode}`);
  if (device.verificationUriComplete !== undefined) deps.say(`(or open ${device.verificationUriComplete})`);
  return pollForToken(client, device, deps);
}

export interface TokenStatus {
  readonly account: string;
  readonly provider: string;
  readonly user: string;
  readonly host: string;
  /** Where the token is, or `none`. */
  readonly store: StoreName | 'none';
  readonly accessToken: boolean;
  /** ISO 8601, or null when unknown. */
  readonly expiresAt: string | null;
  readonly expired: boolean;
  readonly refreshToken: boolean;
  /** False when the stored token was made for another client id or token endpoint. */
  readonly matchesClient: boolean;
}

/** What is known about a client's token, never the token. */
export async function tokenStatus(client: Omit<OAuth2Client, 'clientSecret'>, stores: readonly TokenStore[], now: number): Promise<TokenStatus> {
  const found = await loadToken(stores, client.key);
  const record = found?.record;
  return {
    account: client.account,
    provider: client.provider,
    user: client.key.user,
    host: client.key.host,
    store: found?.store ?? 'none',
    accessToken: record !== undefined,
    expiresAt: record?.expiresAt != null ? new Date(record.expiresAt).toISOString() : null,
    expired: record?.expiresAt != null && record.expiresAt <= now,
    refreshToken: record?.refreshToken !== undefined,
    matchesClient: record === undefined || recordMatches(client, record),
  };
}

export function logout(key: TokenKey, stores: readonly TokenStore[]): Promise<StoreName[]> {
  return removeToken(stores, key);
}
