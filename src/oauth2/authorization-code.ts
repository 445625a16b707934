/**
 * The authorization code grant for a native app (RFC 6749 §4.1, RFC 8252):
 * PKCE with S256 (RFC 7636 §4.1–4.2), a `state` that ties the redirect to
 * this login (RFC 6749 §10.12), and a one-shot redirect listener on the
 * loopback address 127.0.0.1 with a port the system picks (RFC 8252 §7.3,
 * §8.3: a literal address, not `localhost`). The listener takes the one
 * request that carries `state` (or an `error`), answers the browser with a
 * short page, and closes; requests for anything else (a favicon) get 404.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OutboxError } from '../errors.js';
import type { OAuth2Client } from './client.js';
import { clientParameters, grantError, postForJson, tokenRecordFrom, type Post } from './token-endpoint.js';
import type { TokenRecord } from './token-record.js';

/** How long the user has to finish in the browser. */
export const LOGIN_TIMEOUT_MS = 5 * 60_000;

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

function base64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** RFC 7636 §4.1: 32 random octets as base64url, 43 characters; §4.2: the challenge is BASE64URL(SHA256(verifier)). */
export function makePkce(random: (n: number) => Buffer = randomBytes): Pkce {
  const verifier = base64url(random(32));
  return { verifier, challenge: pkceChallenge(verifier) };
}

/** RFC 7636 §4.2, S256. */
export function pkceChallenge(verifier: string): string {
  return base64url(createHash('sha256').update(verifier, 'ascii').digest());
}

export function makeState(random: (n: number) => Buffer = randomBytes): string {
  return base64url(random(16));
}

/** RFC 6749 §4.1.1 with RFC 7636 §4.3. */
export function authorizationUrl(client: OAuth2Client, redirectUri: string, pkce: Pkce, state: string, loginHint?: string): string {
  if (client.authorizationEndpoint === undefined) throw new OutboxError('E_CONFIG', `account ${client.account}: no oauth2_auth_endpoint`);
  const url = new URL(client.authorizationEndpoint);
  const parameters: Record<string, string> = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope: client.scope,
    state,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    ...client.authorizationParameters,
    ...(loginHint ? { login_hint: loginHint } : {}),
  };
  for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
  return url.href;
}

export interface RedirectListener {
  readonly redirectUri: string;
  /** The code from the redirect whose state matched; rejects on an error redirect, a wrong state or the time limit. */
  readonly code: Promise<string>;
  close(): void;
}

/** Listens on 127.0.0.1, port 0, for the one redirect of this login. */
export async function listenForRedirect(state: string, timeoutMs = LOGIN_TIMEOUT_MS): Promise<RedirectListener> {
  let settle: { resolve: (code: string) => void; reject: (error: unknown) => void } | undefined;
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  code.catch(() => {}); // the caller awaits it; an early failure must not be "unhandled"
  const server = createServer((request, response) => {
    const outcome = readRedirect(request, state);
    if (outcome === undefined) return void page(response, 404, 'Not found.');
    if ('code' in outcome) {
      page(response, 200, 'outbox has the authorisation. You can close this window.');
      settle!.resolve(outcome.code);
    } else {
      page(response, 400, 'outbox could not complete the login; see the terminal.');
      settle!.reject(outcome.error);
    }
    close();
  });
  const timer = setTimeout(() => {
    settle!.reject(new OutboxError('E_TIMEOUT', `no redirect from the browser within ${timeoutMs / 1000} s; nothing was stored`));
    close();
  }, timeoutMs);
  const close = (): void => {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections();
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { redirectUri: `http://127.0.0.1:${port}/`, code, close };
}

/** What a request to the listener says: nothing (another path), the code, or why the login failed. */
function readRedirect(request: IncomingMessage, state: string): { code: string } | { error: OutboxError } | undefined {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (request.method !== 'GET' || url.pathname !== '/') return undefined;
  const query = url.searchParams;
  if (!query.has('state') && !query.has('error') && !query.has('code')) return undefined;
  // RFC 6749 §10.12: a redirect without our state is not our login (a forged or stale request).
  if (query.get('state') !== state) {
    return { error: new OutboxError('E_AUTH_FAILED', 'the redirect\'s state does not match this login (a forged or stale request); nothing was stored') };
  }
  const error = query.get('error');
  if (error !== null) {
    const description = query.get('error_description');
    const detail = `${error}${description ? `: ${description}` : ''}`.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, 300);
    return { error: new OutboxError('E_AUTH_FAILED', `the authorisation was refused (${detail})`) };
  }
  const code = query.get('code');
  if (!code) return { error: new OutboxError('E_PROTOCOL', 'the redirect carries neither a code nor an error') };
  return { code };
}

function page(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  response.end(`${text}\n`);
}

/** RFC 6749 §4.1.3 with RFC 7636 §4.5: the code and the verifier for the tokens. */
export async function exchangeCode(client: OAuth2Client, code: string, redirectUri: string, pkce: Pkce, post: Post, now: number): Promise<TokenRecord> {
  const form = { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: pkce.verifier, ...clientParameters(client) };
  try {
    return tokenRecordFrom(client, await postForJson(post, client.tokenEndpoint, form), now);
  } catch (error) {
    throw grantError(client, error);
  }
}
