/**
 * The send path's token (src/oauth2/tokens.ts) and the token endpoint's
 * answers (token-endpoint.ts), with a fake clock, an in-memory store and a
 * scripted endpoint: refresh shortly before expiry and not before, a rotated
 * refresh token saved (and the old one kept when none came), invalid_grant
 * and a missing token → exit 77 with the login hint, a changed client, an
 * endpoint that does not answer → 75, invalid_client → 78.
 */
import { describe, expect, it } from 'vitest';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { OutboxError } from '../../src/errors.js';
import type { OAuth2Client } from '../../src/oauth2/client.js';
import type { Post } from '../../src/oauth2/token-endpoint.js';
import type { TokenKey, TokenRecord, TokenStore } from '../../src/oauth2/token-record.js';
import { REFRESH_MARGIN_MS, accessTokenFor, needsRefresh } from '../../src/oauth2/tokens.js';

const NOW = Date.UTC(2026, 11, 5, 9, 0, 0);

const CLIENT: OAuth2Client = {
  account: 'work',
  provider: 'custom',
  clientId: 'cid',
  clientSecret: 'csecret',
  authorizationEndpoint: 'https://auth.example/authorize',
  tokenEndpoint: 'https://auth.example/token',
  deviceEndpoint: undefined,
  scope: 'mail',
  authorizationParameters: {},
  deviceGrantForMail: true,
  key: { host: 'smtp.example', user: 'a@example' },
};

function record(overrides: Partial<TokenRecord> = {}): TokenRecord {
  return { accessToken: 'at-old', expiresAt: NOW + 3600_000, refreshToken: 'rt-old', scope: 'mail', clientId: 'cid', tokenEndpoint: 'https://auth.example/token', ...overrides };
}

function memoryStore(initial?: TokenRecord): TokenStore & { saved: TokenRecord[] } {
  let current = initial;
  const saved: TokenRecord[] = [];
  return {
    name: 'file',
    saved,
    load: async (_key: TokenKey) => current,
    save: async (_key, value) => {
      current = value;
      saved.push(value);
    },
    remove: async () => current !== undefined,
  };
}

function endpoint(...answers: { status: number; body: unknown }[]): Post & { forms: Record<string, string>[] } {
  const forms: Record<string, string>[] = [];
  const post = (async (_url: string, form: Readonly<Record<string, string>>) => {
    forms.push({ ...form });
    const answer = answers.shift();
    if (!answer) throw new Error('unexpected request');
    return { status: answer.status, body: JSON.stringify(answer.body) };
  }) as Post & { forms: Record<string, string>[] };
  post.forms = forms;
  return post;
}

const fresh = (extra: Record<string, unknown> = {}) => ({ status: 200, body: { access_token: 'at-new', token_type: 'Bearer', expires_in: 3600, ...extra } });

async function failure(promise: Promise<unknown>): Promise<OutboxError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboxError);
  return error as OutboxError;
}

describe('accessTokenFor', () => {
  it('uses the stored token while more than the margin is left, without asking the endpoint', async () => {
    const post = endpoint();
    const store = memoryStore(record({ expiresAt: NOW + REFRESH_MARGIN_MS + 1000 }));
    const access = await accessTokenFor(CLIENT, { stores: [store], post, now: () => NOW });
    expect(access.token).toBe('at-old');
    expect(post.forms).toHaveLength(0);
  });

  it('refreshes when less than the margin is left, saves before returning, and keeps a rotated refresh token', async () => {
    const post = endpoint(fresh({ refresh_token: 'rt-new' }));
    const store = memoryStore(record({ expiresAt: NOW + REFRESH_MARGIN_MS - 1000 }));
    const access = await accessTokenFor(CLIENT, { stores: [store], post, now: () => NOW });
    expect(access.token).toBe('at-new');
    expect(post.forms).toEqual([{ grant_type: 'refresh_token', refresh_token: 'rt-old', client_id: 'cid', client_secret: 'csecret' }]);
    expect(store.saved).toEqual([expect.objectContaining({ accessToken: 'at-new', refreshToken: 'rt-new', expiresAt: NOW + 3600_000 })]);
  });

  it('asks for the client secret (its command) only when a refresh needs it, and once', async () => {
    let asked = 0;
    const withSecret = async () => (asked++, CLIENT);
    const valid = memoryStore(record({ expiresAt: NOW + REFRESH_MARGIN_MS + 1000 }));
    const access = await accessTokenFor({ ...CLIENT, clientSecret: undefined }, { stores: [valid], post: endpoint(), now: () => NOW, withSecret });
    expect({ token: access.token, asked }).toEqual({ token: 'at-old', asked: 0 });
    const post = endpoint(fresh(), fresh({ access_token: 'at-3' }));
    const expired = memoryStore(record({ expiresAt: NOW - 1 }));
    const renewed = await accessTokenFor({ ...CLIENT, clientSecret: undefined }, { stores: [expired], post, now: () => NOW, withSecret });
    expect(await renewed.refresh()).toBe('at-3');
    expect(asked).toBe(1);
    expect(post.forms.map((form) => form['client_secret'])).toEqual(['csecret', 'csecret']);
  });

  it('keeps the old refresh token when the answer has none', async () => {
    const post = endpoint(fresh());
    const store = memoryStore(record({ expiresAt: NOW - 1 }));
    await accessTokenFor(CLIENT, { stores: [store], post, now: () => NOW });
    expect(store.saved[0]!.refreshToken).toBe('rt-old');
  });

  it('refresh() refreshes whatever the expiry says, with the latest refresh token', async () => {
    const post = endpoint(fresh({ refresh_token: 'rt-2' }), fresh({ access_token: 'at-3', refresh_token: 'rt-3' }));
    const store = memoryStore(record());
    const access = await accessTokenFor(CLIENT, { stores: [store], post, now: () => NOW });
    expect(await access.refresh()).toBe('at-new');
    expect(await access.refresh()).toBe('at-3');
    expect(post.forms.map((f) => f['refresh_token'])).toEqual(['rt-old', 'rt-2']);
  });

  it('a token without an expiry is used as it is', async () => {
    expect(needsRefresh(record({ expiresAt: null }), NOW)).toBe(false);
  });

  it.each([
    ['no token stored', undefined, 'no OAuth2 token is stored'],
    ['a token of another client', record({ clientId: 'other' }), 'for another client'],
    ['an expired token without a refresh token', record({ expiresAt: NOW - 1, refreshToken: undefined }), 'no refresh token'],
  ])('%s: exit 77 with the login hint', async (_name, stored, text) => {
    const error = await failure(accessTokenFor(CLIENT, { stores: [memoryStore(stored)], post: endpoint(), now: () => NOW }));
    expect(error.code).toBe('E_OAUTH2_LOGIN');
    expect(error.message).toContain(text);
    expect(error.message).toContain('run outbox oauth2 login work');
    expect(exitStatusFor(error)).toBe(77);
  });

  it('invalid_grant: exit 77 with the server\'s words and the login hint, nothing saved', async () => {
    const post = endpoint({ status: 400, body: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } });
    const store = memoryStore(record({ expiresAt: NOW }));
    const error = await failure(accessTokenFor(CLIENT, { stores: [store], post, now: () => NOW }));
    expect(error.message).toBe('account work: the authorisation server auth.example refused the grant (invalid_grant: Token has been expired or revoked.); run outbox oauth2 login work');
    expect(exitStatusFor(error)).toBe(77);
    expect(store.saved).toEqual([]);
  });

  it('a refresh refused because another process rotated the token meanwhile uses what that process stored', async () => {
    const post = endpoint({ status: 400, body: { error: 'invalid_grant' } });
    const store = memoryStore(record({ expiresAt: NOW }));
    const racing: TokenStore = { ...store, load: async () => (post.forms.length === 0 ? record({ expiresAt: NOW }) : record({ accessToken: 'at-other', refreshToken: 'rt-other' })) };
    const access = await accessTokenFor(CLIENT, { stores: [racing], post, now: () => NOW });
    expect(access.token).toBe('at-other');
    expect(post.forms).toHaveLength(1);
  });

  it('invalid_client is a configuration error (78) that names no secret', async () => {
    const post = endpoint({ status: 401, body: { error: 'invalid_client' } });
    const error = await failure(accessTokenFor(CLIENT, { stores: [memoryStore(record({ expiresAt: NOW }))], post, now: () => NOW }));
    expect(exitStatusFor(error)).toBe(78);
    expect(error.message).not.toContain('csecret');
    expect(error.message).not.toContain('rt-old');
  });

  it('an endpoint that does not answer is temporary (75); a 503 too', async () => {
    const down: Post = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    };
    const refused = await failure(accessTokenFor(CLIENT, { stores: [memoryStore(record({ expiresAt: NOW }))], post: down, now: () => NOW }));
    expect(refused.message).toBe('OAuth2 endpoint auth.example: no answer (ECONNREFUSED)');
    expect(exitStatusFor(refused)).toBe(75);
    const busy: Post = async () => ({ status: 503, body: 'busy' });
    expect(exitStatusFor(await failure(accessTokenFor(CLIENT, { stores: [memoryStore(record({ expiresAt: NOW }))], post: busy, now: () => NOW })))).toBe(75);
  });

  it('refuses an answer that is not a bearer token', async () => {
    const post = endpoint({ status: 200, body: { access_token: 'x', token_type: 'mac' } });
    const error = await failure(accessTokenFor(CLIENT, { stores: [memoryStore(record({ expiresAt: NOW }))], post, now: () => NOW }));
    expect(error.message).toContain('the token_type is not Bearer');
  });
});
