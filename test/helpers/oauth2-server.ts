/**
 * An in-process OAuth2 authorisation server on loopback (http, 127.0.0.1,
 * port 0) for the OAuth2 tests, written from the RFCs and independent of
 * src/oauth2:
 *
 * - `GET /authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3): checks the client,
 *   a loopback `redirect_uri`, S256; redirects (302) with `code` and `state`
 *   (or a wrong state, or `error=access_denied`, when told to);
 * - `POST /token` (RFC 6749 §4.1.3, §6; RFC 7636 §4.6; RFC 8628 §3.4):
 *   the code once, with its redirect URI and the PKCE verifier; refresh
 *   tokens, rotated when told to (the old one then refused); the device
 *   code after N `authorization_pending` (and `slow_down`) answers;
 *   `invalid_grant` for anything revoked, reused or unknown;
 * - `POST /device` (RFC 8628 §3.1–3.2).
 *
 * Access tokens expire after `expiresIn` seconds (issued) and can be revoked;
 * `accepts(token)` is what the SASL test server asks. Every request is
 * recorded (grant types, the parameters it got) for the tests to check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface OAuth2ServerOptions {
  readonly clientId: string;
  /** When set, the token endpoint requires it (client_secret in the body). */
  readonly clientSecret?: string;
  readonly scope: string;
}

export interface OAuth2Server {
  readonly url: string;
  /** Changed freely by the tests between steps. */
  settings: {
    /** `expires_in` of issued access tokens, seconds. */
    expiresIn: number;
    /** A refresh issues a new refresh token and refuses the old one. */
    rotate: boolean;
    /** The authorisation endpoint redirects with a state that is not the client's. */
    wrongState: boolean;
    /** The authorisation endpoint redirects with error=access_denied. */
    deny: boolean;
    /** Device grant: this many `authorization_pending` answers, then a token. */
    devicePending: number;
    /** Device grant: answer `slow_down` to the first poll. */
    deviceSlowDown: boolean;
    /** `interval` in the device answer, seconds. */
    deviceInterval: number;
  };
  /** Every request to /token, by grant type, with its form. */
  readonly tokenRequests: { grantType: string; form: Record<string, string> }[];
  /** Every access token issued, and every refresh token, in order. */
  readonly issuedAccessTokens: string[];
  readonly issuedRefreshTokens: string[];
  /** Whether the SMTP server should take this bearer token now. */
  accepts(token: string): boolean;
  /** The access tokens issued so far stop working (as a password change or an admin does). */
  revokeAccessTokens(): void;
  /** Every refresh token stops working: the next refresh is invalid_grant. */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}

interface PendingCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  used: boolean;
}

export async function startOAuth2Server(options: OAuth2ServerOptions): Promise<OAuth2Server> {
  const codes = new Map<string, PendingCode>();
  const accessTokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  const refreshTokens = new Map<string, { valid: boolean }>();
  const devices = new Map<string, { polls: number }>();
  const sockets = new Set<Socket>();
  const token = (prefix: string): string => `${prefix}.${randomBytes(18).toString('base64url')}`;

  const state: OAuth2Server = {
    url: '',
    settings: { expiresIn: 3600, rotate: false, wrongState: false, deny: false, devicePending: 1, deviceSlowDown: false, deviceInterval: 1 },
    tokenRequests: [],
    issuedAccessTokens: [],
    issuedRefreshTokens: [],
    accepts(candidate) {
      const entry = accessTokens.get(candidate);
      return entry !== undefined && !entry.revoked && entry.expiresAt > Date.now();
    },
    revokeAccessTokens() {
      for (const entry of accessTokens.values()) entry.revoked = true;
    },
    revokeRefreshTokens() {
      for (const entry of refreshTokens.values()) entry.valid = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const issue = (withRefresh: boolean): Record<string, unknown> => {
    const access = token('at');
    accessTokens.set(access, { expiresAt: Date.now() + state.settings.expiresIn * 1000, revoked: false });
    state.issuedAccessTokens.push(access);
    const answer: Record<string, unknown> = { access_token: access, token_type: 'Bearer', expires_in: state.settings.expiresIn, scope: options.scope };
    if (withRefresh) {
      const refresh = token('rt');
      refreshTokens.set(refresh, { valid: true });
      state.issuedRefreshTokens.push(refresh);
      answer['refresh_token'] = refresh;
    }
    return answer;
  };

  const authorize = (url: URL, response: ServerResponse): void => {
    const q = url.searchParams;
    const redirect = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== options.clientId || !/^http:\/\/127\.0\.0\.1:\d+\/$/.test(redirect)) return json(response, 400, { error: 'invalid_request' });
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? '')) {
      return json(response, 400, { error: 'invalid_request' });
    }
    if (q.get('scope') !== options.scope || !q.get('state')) return json(response, 400, { error: 'invalid_request' });
    const target = new URL(redirect);
    const clientState = state.settings.wrongState ? `${q.get('state')}x` : q.get('state')!;
    if (state.settings.deny) {
      target.searchParams.set('error', 'access_denied');
    } else {
      const code = token('code');
      codes.set(code, { clientId: options.clientId, redirectUri: redirect, challenge: q.get('code_challenge')!, used: false });
      target.searchParams.set('code', code);
    }
    target.searchParams.set('state', clientState);
    response.writeHead(302, { location: target.href });
    response.end();
  };

  const tokenEndpoint = (form: Record<string, string>, response: ServerResponse): void => {
    state.tokenRequests.push({ grantType: form['grant_type'] ?? '', form });
    if (form['client_id'] !== options.clientId || (options.clientSecret !== undefined && form['client_secret'] !== options.clientSecret)) {
      return json(response, 401, { error: 'invalid_client' });
    }
    const invalidGrant = (): void => json(response, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    switch (form['grant_type']) {
      case 'authorization_code': {
        const pending = codes.get(form['code'] ?? '');
        if (!pending || pending.used || pending.redirectUri !== form['redirect_uri']) return invalidGrant();
        pending.used = true;
        const challenge = createHash('sha256').update(form['code_verifier'] ?? '', 'ascii').digest('base64url');
        if (challenge !== pending.challenge) return invalidGrant();
        return json(response, 200, issue(true));
      }
      case 'refresh_token': {
        const entry = refreshTokens.get(form['refresh_token'] ?? '');
        if (!entry?.valid) return invalidGrant();
        if (state.settings.rotate) entry.valid = false;
        return json(response, 200, issue(state.settings.rotate));
      }
      case 'urn:ietf:params:oauth:grant-type:device_code': {
        const device = devices.get(form['device_code'] ?? '');
        if (!device) return invalidGrant();
        device.polls++;
        if (state.settings.deviceSlowDown && device.polls === 1) return json(response, 400, { error: 'slow_down' });
        if (device.polls <= state.settings.devicePending) return json(response, 400, { error: 'authorization_pending' });
        devices.delete(form['device_code']!);
        return json(response, 200, issue(true));
      }
      default:
        return json(response, 400, { error: 'unsupported_grant_type' });
    }
  };

  const deviceEndpoint = (form: Record<string, string>, response: ServerResponse): void => {
    if (form['client_id'] !== options.clientId) return json(response, 401, { error: 'invalid_client' });
    const deviceCode = token('dc');
    devices.set(deviceCode, { polls: 0 });
    json(response, 200, {
      device_code: deviceCode,
      user_code: 'WDJB-MJHT',
      verification_uri: `${state.url}/device-login`,
      expires_in: 600,
      interval: state.settings.deviceInterval,
    });
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method === 'GET' && url.pathname === '/authorize') return authorize(url, response);
    if (request.method !== 'POST') return json(response, 404, { error: 'not_found' });
    void readForm(request).then((form) => {
      if (form === undefined) return json(response, 400, { error: 'invalid_request' });
      if (url.pathname === '/token') return tokenEndpoint(form, response);
      if (url.pathname === '/device') return deviceEndpoint(form, response);
      return json(response, 404, { error: 'not_found' });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

async function readForm(request: IncomingMessage): Promise<Record<string, string> | undefined> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
