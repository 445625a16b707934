/**
 * Talking to the token and device endpoints (RFC 6749 §3.2, §4.1.3, §5, §6;
 * RFC 8628 §3.1, §3.4): a form POST, a JSON answer, and the OAuth2 error
 * codes turned into outbox's errors. Codes, tokens, verifiers and the client
 * secret are sent, never put into a message: an error names the endpoint's
 * host and the server's `error` code (and its description, cleaned).
 */
import { OutboxError } from '../errors.js';
import type { OAuth2Client } from './client.js';
import { loginNeeded } from './client.js';
import type { TokenRecord } from './token-record.js';

/** How long one request may take (connect, TLS, answer). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** A token answer is small; a larger body is not read. */
const MAX_BODY = 64 * 1024;

export type Post = (url: string, form: Readonly<Record<string, string>>) => Promise<{ status: number; body: string }>;

/** The real POST: Node's fetch, no redirects followed (a form with secrets goes nowhere else), bounded in time. */
export const fetchPost: Post = async (url, form) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    redirect: 'error',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const body = await response.text();
  return { status: response.status, body: body.slice(0, MAX_BODY) };
};

/** An OAuth2 error answer (RFC 6749 §5.2, RFC 8628 §3.5). */
export class OAuth2ErrorResponse extends Error {
  constructor(readonly error: string, readonly description: string | undefined, readonly status: number) {
    super(error);
  }
}

/** POSTs and returns the JSON object; throws OAuth2ErrorResponse for an `error` answer, OutboxError otherwise. */
export async function postForJson(post: Post, url: string, form: Readonly<Record<string, string>>): Promise<Record<string, unknown>> {
  const host = hostOf(url);
  let answer: { status: number; body: string };
  try {
    answer = await post(url, form);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new OutboxError('E_CONNECTION', `OAuth2 endpoint ${host}: no answer (${cause})`, { transient: true, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    json = undefined;
  }
  const object = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : undefined;
  if (object && typeof object['error'] === 'string') {
    const description = typeof object['error_description'] === 'string' ? clean(object['error_description']) : undefined;
    throw new OAuth2ErrorResponse(clean(object['error']), description, answer.status);
  }
  if (answer.status < 200 || answer.status > 299 || !object) {
    throw new OutboxError('E_PROTOCOL', `OAuth2 endpoint ${host}: unexpected answer (HTTP ${answer.status})`, { transient: answer.status >= 500 });
  }
  return object;
}

/** A successful token answer (RFC 6749 §5.1) as a record; a refresh keeps the old refresh token unless a new one came. */
export function tokenRecordFrom(client: OAuth2Client, json: Record<string, unknown>, now: number, previous?: TokenRecord): TokenRecord {
  const accessToken = json['access_token'];
  const tokenType = json['token_type'];
  if (typeof accessToken !== 'string' || accessToken === '') throw badAnswer(client, 'no access_token');
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') throw badAnswer(client, 'the token_type is not Bearer');
  const expiresIn = Number(json['expires_in']);
  const refreshToken = typeof json['refresh_token'] === 'string' && json['refresh_token'] !== '' ? json['refresh_token'] : previous?.refreshToken;
  return {
    accessToken,
    expiresAt: Number.isFinite(expiresIn) && expiresIn >= 0 ? now + expiresIn * 1000 : null,
    refreshToken,
    scope: typeof json['scope'] === 'string' ? json['scope'] : (previous?.scope ?? client.scope),
    clientId: client.clientId,
    tokenEndpoint: client.tokenEndpoint,
  };
}

/** The client's authentication (RFC 6749 §2.3.1, in the body) or, for a public client, its id alone. */
export function clientParameters(client: OAuth2Client): Record<string, string> {
  return { client_id: client.clientId, ...(client.clientSecret !== undefined ? { client_secret: client.clientSecret } : {}) };
}

/** RFC 6749 §6: a new access token (and maybe a new refresh token) for the stored refresh token. */
export async function refreshAccessToken(client: OAuth2Client, record: TokenRecord, post: Post, now: () => number): Promise<TokenRecord> {
  if (record.refreshToken === undefined) throw loginNeeded(client.account, 'the access token expired and there is no refresh token');
  const form = { grant_type: 'refresh_token', refresh_token: record.refreshToken, ...clientParameters(client) };
  try {
    return tokenRecordFrom(client, await postForJson(post, client.tokenEndpoint, form), now(), record);
  } catch (error) {
    throw grantError(client, error);
  }
}

/**
 * OAuth2 errors as outbox errors: `invalid_grant` (a refresh token revoked,
 * expired or rotated away; a code used twice) needs a new login (77);
 * a client the server does not know is a configuration error (78);
 * the rest is a refusal (77), temporary when the server says so.
 */
export function grantError(client: Pick<OAuth2Client, 'account' | 'tokenEndpoint'>, error: unknown): unknown {
  if (!(error instanceof OAuth2ErrorResponse)) return error;
  const detail = `${error.error}${error.description ? `: ${error.description}` : ''}`;
  const host = hostOf(client.tokenEndpoint);
  if (error.error === 'invalid_grant') return loginNeeded(client.account, `the authorisation server ${host} refused the grant (${detail})`);
  if (error.error === 'invalid_client' || error.error === 'unauthorized_client') {
    return new OutboxError('E_CONFIG', `account ${client.account}: the authorisation server ${host} refused the client (${detail}): check oauth2_client_id and oauth2_client_secret`);
  }
  const transient = error.error === 'temporarily_unavailable' || error.error === 'server_error' || error.status >= 500;
  return new OutboxError('E_AUTH_FAILED', `account ${client.account}: the authorisation server ${host} refused (${detail})`, { transient });
}

function badAnswer(client: OAuth2Client, why: string): OutboxError {
  return new OutboxError('E_PROTOCOL', `OAuth2 endpoint ${hostOf(client.tokenEndpoint)}: unusable token answer: ${why}`);
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Server text for a message: printable, one line, bounded. */
function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 300);
}
