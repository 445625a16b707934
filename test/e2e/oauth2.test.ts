/**
 * OAuth2 built in (issue 16), end to end through the built CLI: the
 * in-process authorisation server (test/helpers/oauth2-server.ts) on
 * loopback, the strict SASL server (test/helpers/sasl-server.ts) over
 * implicit TLS taking only the bearer tokens the authorisation server
 * considers valid now, and the test playing the browser (it GETs the
 * printed address and follows the redirect to outbox's loopback listener).
 *
 * Login, a send with the stored token, a refresh before expiry, a rotated
 * refresh token saved, the expired-token SASL retry in the same session,
 * invalid_grant → 77, a wrong state, the device grant, status and logout;
 * no token, code, verifier or client secret in any output.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { startOAuth2Server, type OAuth2Server } from '../helpers/oauth2-server.js';
import { OUTBOX, runOutbox, type CliResult } from '../helpers/run-cli.js';
import { startSaslServer, type SaslServer, type ServerMechanism } from '../helpers/sasl-server.js';
import { expectNoSecret } from '../helpers/secrets.js';

const USER = 'alice@example.com';
const CLIENT_ID = 'outbox-test-client';
const CLIENT_SECRET = 'client-Secret-0123456789';
const SCOPE = 'https://mail.example.com/';
const MAIL = 'Subject: oauth2\n\nSent with a token from the store.\n';

let certs: TestCertificates;
let tmp: string;
let auth: OAuth2Server;
let smtp: SaslServer | undefined;
let home: string;
let config: string;
let outputs: Record<string, string>;

beforeAll(() => {
  certs = makeTestCertificates();
  tmp = mkdtempSync(join(tmpdir(), 'outbox-oauth2-e2e-'));
});
afterAll(() => {
  certs?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
beforeEach(async () => {
  auth = await startOAuth2Server({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, scope: SCOPE });
  home = mkdtempSync(join(tmp, 'home-'));
  outputs = {};
});
afterEach(async () => {
  // Whatever a test did, nothing it printed or logged holds a token or the client secret.
  if (existsSync(join(home, 'mail.log'))) outputs['log file'] = readFileSync(join(home, 'mail.log'), 'utf8');
  expectNoSecret(outputs, [...auth.issuedAccessTokens, ...auth.issuedRefreshTokens, CLIENT_SECRET]);
  await smtp?.close();
  smtp = undefined;
  await auth.close();
});

async function startSmtp(mechanisms: ServerMechanism[] = ['XOAUTH2']): Promise<SaslServer> {
  smtp = await startSaslServer({
    cert: certs.server.cert, key: certs.server.key, ca: certs.ca, mechanisms,
    user: USER, password: 'unused-password', token: 'unused-token', acceptToken: (token) => auth.accepts(token),
  });
  return smtp;
}

function writeConfig(port: number, extra: string[] = []): void {
  config = join(home, 'msmtprc');
  writeFileSync(config, [
    'account work',
    'host localhost', `port ${port}`, 'tls on', 'tls_starttls off', `tls_trust_file ${certs.caFile}`,
    `user ${USER}`, `from ${USER}`, 'auth on',
    'oauth2_provider custom', `oauth2_client_id ${CLIENT_ID}`, `oauth2_client_secret ${CLIENT_SECRET}`,
    `oauth2_auth_endpoint ${auth.url}/authorize`, `oauth2_token_endpoint ${auth.url}/token`,
    `oauth2_device_endpoint ${auth.url}/device`, `oauth2_scope ${SCOPE}`,
    `logfile ${join(home, 'mail.log')}`,
    ...extra,
    '',
  ].join('\n'), { mode: 0o600 });
}

function env(): NodeJS.ProcessEnv {
  return { HOME: home, XDG_STATE_HOME: join(home, 'state'), XDG_CACHE_HOME: join(home, 'cache'), OUTBOX_OAUTH2_STORE: 'file' };
}

function tokenFile(): { access_token: string; refresh_token?: string; expires_at: number } {
  const folder = join(home, 'state', 'outbox', 'oauth2');
  const files = readdirSync(folder).filter((f) => f.endsWith('.json'));
  expect(files).toHaveLength(1);
  expect(statSync(join(folder, files[0]!)).mode & 0o777).toBe(0o600);
  return JSON.parse(readFileSync(join(folder, files[0]!), 'utf8'));
}

function record(name: string, result: CliResult): CliResult {
  outputs[`${name} stdout`] = result.stdout;
  outputs[`${name} stderr`] = result.stderr;
  return result;
}

/** `outbox oauth2 login`, with the test as the browser: GET the printed address, follow the redirect to the listener. */
function login(args: string[] = [], browser = true): Promise<CliResult & { page?: number }> {
  return loginWith(env(), args, browser);
}

function loginWith(environment: NodeJS.ProcessEnv, args: string[] = [], browser = true): Promise<CliResult & { page?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OUTBOX, 'oauth2', 'login', '-C', config, ...args, 'work'], {
      env: { PATH: process.env['PATH'], OUTBOX_SYSTEM_CONFIG: join(home, 'none'), ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let page: number | undefined;
    let browsed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`login did not finish within 15 s: ${stderr}`));
    }, 15_000);
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m.exec(stderr)?.[1];
      if (!browser || browsed || url === undefined) return;
      browsed = true;
      void (async () => {
        const authorised = await fetch(url, { redirect: 'manual' });
        const location = authorised.headers.get('location');
        if (location === null) throw new Error(`no redirect from /authorize (${authorised.status})`);
        page = (await fetch(location)).status;
      })().catch(reject);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve(record(`login ${args.join(' ')}`, { status, stdout, stderr, ...(page !== undefined ? { page } : {}) }));
    });
  });
}

async function send(name: string): Promise<CliResult> {
  return record(name, await runOutbox(['-C', config, '-a', 'work', '-d', USER], { input: MAIL, env: env() }));
}

async function status(): Promise<CliResult> {
  return record('status', await runOutbox(['oauth2', 'status', '-C', config], { env: env() }));
}

describe('outbox oauth2 login (authorization code, PKCE, loopback redirect)', () => {
  it('logs in, stores the tokens in a 0600 file, and a send uses the access token', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    const result = await login();
    expect(result.status, result.stderr).toBe(0);
    expect(result.page).toBe(200);
    expect(auth.tokenRequests.map((r) => r.grantType)).toEqual(['authorization_code']);
    expect(auth.tokenRequests[0]!.form['code_verifier']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = tokenFile();
    expect(stored.access_token).toBe(auth.issuedAccessTokens[0]);
    expect(stored.refresh_token).toBe(auth.issuedRefreshTokens[0]);

    const sent = await send('send');
    expect(sent.status, sent.stderr).toBe(0);
    expect(server.mails).toHaveLength(1);
    const attempt = server.sessions[0]!.auth[0]!;
    expect(attempt).toMatchObject({ mechanism: 'XOAUTH2', outcome: 'success', pipelined: false });
    expect(attempt.oauth?.fields['auth']).toBe(`Bearer ${auth.issuedAccessTokens[0]}`);
    expect(auth.tokenRequests).toHaveLength(1); // far from expiry: no refresh
    expect(sent.stdout).toMatch(/^--> AUTH XOAUTH2 <redacted>$/m);
  });

  it('auth on prefers OAUTHBEARER when the server offers both', async () => {
    const server = await startSmtp(['XOAUTH2', 'OAUTHBEARER']);
    writeConfig(server.port);
    expect((await login()).status).toBe(0);
    expect((await send('send')).status).toBe(0);
    expect(server.sessions[0]!.auth[0]).toMatchObject({ mechanism: 'OAUTHBEARER', outcome: 'success' });
  });

  it('refuses a redirect whose state is not this login\'s (exit 77), and stores nothing', async () => {
    writeConfig(1);
    auth.settings.wrongState = true;
    const result = await login();
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('state does not match');
    expect(result.page).toBe(400);
    expect(auth.tokenRequests).toHaveLength(0);
    expect(existsSync(join(home, 'state', 'outbox', 'oauth2'))).toBe(false);
  });

  it('reports a refused authorisation (access_denied) with exit 77', async () => {
    writeConfig(1);
    auth.settings.deny = true;
    const result = await login();
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('access_denied');
  });
});

describe('refresh', () => {
  it('refreshes a token about to expire before connecting, and saves the rotated refresh token', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    auth.settings.expiresIn = 60; // under the 5-minute margin: every run refreshes first
    auth.settings.rotate = true;
    expect((await login()).status).toBe(0);
    const sent = await send('send');
    expect(sent.status, sent.stderr).toBe(0);
    expect(auth.tokenRequests.map((r) => r.grantType)).toEqual(['authorization_code', 'refresh_token']);
    expect(auth.tokenRequests[1]!.form['refresh_token']).toBe(auth.issuedRefreshTokens[0]);
    const stored = tokenFile();
    expect(stored.access_token).toBe(auth.issuedAccessTokens[1]);
    expect(stored.refresh_token).toBe(auth.issuedRefreshTokens[1]); // rotated, and saved
    expect(server.sessions[0]!.auth[0]!.oauth?.fields['auth']).toBe(`Bearer ${auth.issuedAccessTokens[1]}`);

    // The next run refreshes with the rotated token; the first one is refused by now.
    expect((await send('send again')).status).toBe(0);
    expect(auth.tokenRequests[2]!.form['refresh_token']).toBe(auth.issuedRefreshTokens[1]);
    expect(server.mails).toHaveLength(2);
  });

  it.each(['XOAUTH2', 'OAUTHBEARER'] as const)('%s: a token the server refuses inside the exchange is refreshed once and AUTH retried in the same session', async (mechanism) => {
    const server = await startSmtp([mechanism]);
    writeConfig(server.port);
    expect((await login()).status).toBe(0);
    auth.revokeAccessTokens(); // still valid by its expiry, refused by the server
    const sent = await send('send');
    expect(sent.status, sent.stderr).toBe(0);
    expect(server.sessions).toHaveLength(1);
    const attempts = server.sessions[0]!.auth;
    expect(attempts.map((a) => a.outcome)).toEqual(['failure', 'success']);
    expect(attempts[1]!.oauth?.fields['auth']).toBe(`Bearer ${auth.issuedAccessTokens[1]}`);
    // Both AUTHs before any MAIL: the refused one was not pipelined with the envelope.
    expect(server.sessions[0]!.commands.map((c) => c.split(/[ :]/)[0])).toEqual(['EHLO', 'AUTH', 'AUTH', 'MAIL', 'RCPT', 'DATA', 'QUIT']);
    expect(auth.tokenRequests.map((r) => r.grantType)).toEqual(['authorization_code', 'refresh_token']);
    expect(server.mails).toHaveLength(1);
    expect(server.sessions[0]!.violations).toEqual([]);
  });

  it('does not retry twice: a refreshed token that is refused too fails with 77', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    expect((await login()).status).toBe(0);
    auth.revokeAccessTokens();
    const accepts = auth.accepts;
    auth.accepts = () => false;
    const sent = await send('send');
    auth.accepts = accepts;
    expect(sent.status).toBe(77);
    expect(server.sessions[0]!.auth.map((a) => a.outcome)).toEqual(['failure', 'failure']);
    expect(auth.tokenRequests.filter((r) => r.grantType === 'refresh_token')).toHaveLength(1);
  });

  it('invalid_grant on refresh exits 77 and says to log in again; nothing is sent', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    auth.settings.expiresIn = 60;
    expect((await login()).status).toBe(0);
    auth.revokeRefreshTokens();
    const sent = await send('send');
    expect(sent.status).toBe(77);
    expect(sent.stderr).toContain('invalid_grant');
    expect(sent.stderr).toContain('run outbox oauth2 login work');
    expect(server.sessions).toHaveLength(0);
  });

  it('without a stored token, a send exits 77 and says to log in', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    const sent = await send('send');
    expect(sent.status).toBe(77);
    expect(sent.stderr).toContain('no OAuth2 token is stored; run outbox oauth2 login work');
  });
});

describe('the device grant (RFC 8628)', () => {
  it('logs in with --device after authorization_pending', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    auth.settings.devicePending = 1;
    const result = await login(['--device'], false);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain(`open ${auth.url}/device-login and enter the code WDJB-MJHT`);
    const grants = auth.tokenRequests.map((r) => r.grantType);
    expect(grants).toEqual(['urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:device_code']);
    expect(tokenFile().refresh_token).toBe(auth.issuedRefreshTokens[0]);
    expect((await send('send')).status).toBe(0);
  });
});

describe('status and logout', () => {
  it('shows the token state without the token, then logout removes it', async () => {
    const server = await startSmtp();
    writeConfig(server.port);
    const before = await status();
    expect(before.status).toBe(0);
    expect(before.stdout).toContain('work (custom, alice@example.com at localhost): no token; run outbox oauth2 login work');
    expect((await login()).status).toBe(0);
    const after = await status();
    expect(after.stdout).toMatch(/^work \(custom, alice@example.com at localhost\): access token present, expires \d{4}-\d\d-\d\dT[\d:.]+Z, refresh token present, store file$/m);
    const json = record('status json', await runOutbox(['oauth2', 'status', '--json', '-C', config], { env: env() }));
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ account: 'work', store: 'file', accessToken: true, refreshToken: true, expired: false })]);
    const out = record('logout', await runOutbox(['oauth2', 'logout', '-C', config, 'work'], { env: env() }));
    expect(out.status).toBe(0);
    expect(out.stderr).toContain('token removed (file)');
    expect((await status()).stdout).toContain('no token');
  });

  it('--pretend shows the OAuth2 settings with the client secret as *', async () => {
    writeConfig(1);
    const result = record('pretend', await runOutbox(['-C', config, '-a', 'work', '-P', USER], { env: env() }));
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('oauth2_provider = custom');
    expect(result.stdout).toContain('oauth2_client_secret = *');
    expect(result.stdout).toContain(`oauth2_token_endpoint = ${auth.url}/token`);
  });

  it('an http endpoint that is not loopback is a configuration error at its line (78)', async () => {
    writeConfig(1, ['oauth2_token_endpoint http://auth.example.com/token']);
    const result = record('bad endpoint', await runOutbox(['oauth2', 'status', '-C', config], { env: env() }));
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`${config}:18: invalid argument http://auth.example.com/token for command oauth2_token_endpoint`);
  });
});

describe('the keyring store (secret-tool)', () => {
  /** A stand-in secret-tool: items are files named by their attributes; `fail` makes `store` refuse (no Secret Service). */
  function fakeSecretTool(fail = false): string {
    const bin = mkdtempSync(join(tmp, 'bin-'));
    const items = join(bin, 'items');
    writeFileSync(join(bin, 'secret-tool'), [
      '#!/bin/sh',
      `items='${items}'`,
      'cmd=$1; shift',
      '[ "$cmd" = store ] && shift',
      'name=$(printf "%s_" "$@" | tr -c "A-Za-z0-9_.@-" "_")',
      'mkdir -p "$items"',
      'case $cmd in',
      `  store) ${fail ? 'exit 1' : 'cat > "$items/$name"; echo "$@" > "$items/$name.args"'} ;;`,
      '  lookup) [ -f "$items/$name" ] && cat "$items/$name" || exit 1 ;;',
      '  clear) rm -f "$items/$name" ;;',
      'esac',
      '',
    ].join('\n'), { mode: 0o755 });
    return bin;
  }

  const keyringEnv = (bin: string): NodeJS.ProcessEnv => ({ ...env(), OUTBOX_OAUTH2_STORE: undefined, PATH: `${bin}:${process.env['PATH']}` });

  it('keeps the token in the keyring with msmtp-style attributes; send, status and logout find it there', async () => {
    const bin = fakeSecretTool();
    const server = await startSmtp();
    writeConfig(server.port);
    const result = await loginWith(keyringEnv(bin));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('the token is in the keyring');
    expect(existsSync(join(home, 'state', 'outbox', 'oauth2'))).toBe(false);
    const items = readdirSync(join(bin, 'items'));
    expect(items.filter((f) => f.endsWith('.args')).map((f) => readFileSync(join(bin, 'items', f), 'utf8').trim()))
      .toEqual([`host localhost service oauth2 user ${USER}`]);
    const sent = record('send', await runOutbox(['-C', config, '-a', 'work', USER], { input: MAIL, env: keyringEnv(bin) }));
    expect(sent.status, sent.stderr).toBe(0);
    const shown = record('status', await runOutbox(['oauth2', 'status', '-C', config], { env: keyringEnv(bin) }));
    expect(shown.stdout).toContain('store keyring');
    const out = record('logout', await runOutbox(['oauth2', 'logout', '-C', config, 'work'], { env: keyringEnv(bin) }));
    expect(out.stderr).toContain('token removed (keyring)');
  });

  it('falls back to the file when the keyring refuses to store', async () => {
    const bin = fakeSecretTool(true);
    writeConfig(1);
    const result = await loginWith(keyringEnv(bin));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('the token is in the token file');
    expect(tokenFile().refresh_token).toBe(auth.issuedRefreshTokens[0]);
  });
});
