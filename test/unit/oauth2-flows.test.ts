/**
 * The login flows' pure parts and their loops: PKCE against RFC 7636
 * Appendix B, the authorization request, the loopback listener (other
 * paths, a wrong state, the time limit with fake timers), and the device
 * grant's polling (interval, slow_down, expiry, refusal, the bound) with a
 * fake clock and sleep: nothing here waits for real time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { authorizationUrl, listenForRedirect, makePkce, pkceChallenge } from '../../src/oauth2/authorization-code.js';
import type { OAuth2Client } from '../../src/oauth2/client.js';
import { DEVICE_GRANT_TYPE, pollForToken, requestDeviceCode, type DeviceAuthorization } from '../../src/oauth2/device.js';
import { chooseFlow } from '../../src/oauth2/login.js';
import { PROVIDERS } from '../../src/oauth2/providers.js';
import type { Post } from '../../src/oauth2/token-endpoint.js';

const CLIENT: OAuth2Client = {
  account: 'work',
  provider: 'custom',
  clientId: 'cid',
  clientSecret: undefined,
  authorizationEndpoint: 'https://auth.example/authorize?tenant=x',
  tokenEndpoint: 'https://auth.example/token',
  deviceEndpoint: 'https://auth.example/device',
  scope: 'mail offline_access',
  authorizationParameters: { access_type: 'offline' },
  deviceGrantForMail: true,
  key: { host: 'smtp.example', user: 'a@example' },
};

afterEach(() => {
  vi.useRealTimers();
});

describe('PKCE (RFC 7636)', () => {
  it('S256 of Appendix B\'s verifier is Appendix B\'s challenge', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('the verifier is Appendix B\'s for its octets: 32 random octets, base64url, 43 characters', () => {
    const octets = Buffer.from([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]);
    expect(makePkce(() => octets)).toEqual({ verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' });
    expect(makePkce().verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('the authorization request', () => {
  it('carries the client, redirect, scope, state, S256 challenge and the provider\'s parameters, keeping the endpoint\'s own query', () => {
    const url = new URL(authorizationUrl(CLIENT, 'http://127.0.0.1:4711/', { verifier: 'v', challenge: 'c' }, 'st', 'a@example'));
    expect(url.origin + url.pathname).toBe('https://auth.example/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: 'x', response_type: 'code', client_id: 'cid', redirect_uri: 'http://127.0.0.1:4711/', scope: 'mail offline_access',
      state: 'st', code_challenge: 'c', code_challenge_method: 'S256', access_type: 'offline', login_hint: 'a@example',
    });
    expect(url.searchParams.has('code_verifier')).toBe(false);
  });
});

describe('the loopback redirect listener', () => {
  it('listens on 127.0.0.1 with a port the system chose; other paths get 404; the right state gives the code', async () => {
    const listener = await listenForRedirect('st-1');
    try {
      expect(listener.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(`${listener.redirectUri}favicon.ico`)).status).toBe(404);
      expect((await fetch(`${listener.redirectUri}?code=the-code&state=st-1`)).status).toBe(200);
      await expect(listener.code).resolves.toBe('the-code');
    } finally {
      listener.close();
    }
  });

  it('a wrong state fails the login (RFC 6749 §10.12)', async () => {
    const listener = await listenForRedirect('st-1');
    try {
      expect((await fetch(`${listener.redirectUri}?code=the-code&state=forged`)).status).toBe(400);
      await expect(listener.code).rejects.toThrow('state does not match');
    } finally {
      listener.close();
    }
  });

  it('gives up after its time limit', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const listener = await listenForRedirect('st-1', 60_000);
    vi.advanceTimersByTime(60_000);
    await expect(listener.code).rejects.toThrow('no redirect from the browser within 60 s');
  });
});

describe('the device grant (RFC 8628)', () => {
  function scripted(...answers: unknown[]): Post & { forms: Record<string, string>[] } {
    const forms: Record<string, string>[] = [];
    const post = (async (_url: string, form: Readonly<Record<string, string>>) => {
      forms.push({ ...form });
      const body = answers.shift();
      if (body === undefined) throw new Error('unexpected poll');
      const status = typeof body === 'object' && body !== null && 'error' in body ? 400 : 200;
      return { status, body: JSON.stringify(body) };
    }) as Post & { forms: Record<string, string>[] };
    post.forms = forms;
    return post;
  }

  function clock() {
    let now = 0;
    const sleeps: number[] = [];
    return { sleeps, now: () => now, sleep: async (ms: number) => { sleeps.push(ms); now += ms; } };
  }

  const device: DeviceAuthorization = { deviceCode: 'dc', userCode: 'ABCD', verificationUri: 'https://x/d', verificationUriComplete: undefined, expiresInS: 600, intervalS: 5 };
  const token = { access_token: 'at', token_type: 'Bearer', expires_in: 3600, refresh_token: 'rt' };

  it('reads the device answer; Google\'s verification_url too; 5 s when no interval is given', async () => {
    const post = scripted({ device_code: 'dc', user_code: 'AB-CD', verification_url: 'https://www.google.com/device', expires_in: 1800 });
    const answer = await requestDeviceCode(CLIENT, post);
    expect(answer).toMatchObject({ deviceCode: 'dc', userCode: 'AB-CD', verificationUri: 'https://www.google.com/device', intervalS: 5, expiresInS: 1800 });
    expect(post.forms).toEqual([{ client_id: 'cid', scope: 'mail offline_access' }]);
  });

  it('waits the interval before each poll, 5 s more after slow_down, until the token comes', async () => {
    const post = scripted({ error: 'authorization_pending' }, { error: 'slow_down' }, { error: 'authorization_pending' }, token);
    const time = clock();
    const record = await pollForToken(CLIENT, device, { post, ...time });
    expect(record).toMatchObject({ accessToken: 'at', refreshToken: 'rt' });
    expect(time.sleeps).toEqual([5000, 5000, 10_000, 10_000]);
    expect(post.forms[0]).toEqual({ grant_type: DEVICE_GRANT_TYPE, device_code: 'dc', client_id: 'cid' });
  });

  it('stops when the code expires, without polling after the deadline', async () => {
    const post = scripted(...Array.from({ length: 200 }, () => ({ error: 'authorization_pending' })));
    const time = clock();
    await expect(pollForToken(CLIENT, { ...device, expiresInS: 60 }, { post, ...time })).rejects.toThrow('the device code expired');
    expect(post.forms).toHaveLength(12);
  });

  it('is bounded in polls even when the clock does not move', async () => {
    const post = scripted(...Array.from({ length: 1000 }, () => ({ error: 'authorization_pending' })));
    await expect(pollForToken(CLIENT, device, { post, now: () => 0, sleep: async () => {} })).rejects.toThrow(OutboxError);
    expect(post.forms.length).toBeLessThanOrEqual(400);
  });

  it.each([
    ['access_denied', 'access_denied', 77],
    ['expired_token', 'the device code expired', 77],
    ['invalid_grant', 'run outbox oauth2 login work', 77],
  ])('%s ends the polling', async (error, text) => {
    const post = scripted({ error });
    const time = clock();
    await expect(pollForToken(CLIENT, device, { post, ...time })).rejects.toThrow(text);
    expect(post.forms).toHaveLength(1);
  });
});

describe('which flow', () => {
  const microsoft = { ...CLIENT, provider: 'microsoft' as const };
  it.each([
    [CLIENT, false, false, 'browser'],
    [CLIENT, true, false, 'device'],
    [microsoft, false, false, 'device'],
    [microsoft, false, true, 'browser'],
  ])('%#', (client, device, hasBrowser, flow) => {
    expect(chooseFlow(client, device, hasBrowser)).toBe(flow);
  });

  it('the built-in providers\' endpoints are https', () => {
    for (const provider of Object.values(PROVIDERS)) {
      for (const url of [provider.authorization, provider.token, provider.device]) expect(url).toMatch(/^https:\/\//);
    }
  });
});
