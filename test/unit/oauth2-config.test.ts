/**
 * OAuth2's configuration and its plumbing: the commands (endpoints https or
 * loopback http, errors at file:line), --pretend, the permission rule for a
 * client secret in the file, the client from an account (provider data,
 * overrides, the secret's command never in a message), `auth on`'s bearer
 * choice, the SASL retry's test of the server's error, and the two token
 * stores (a 0600 file written in a 0700 folder; the keyring with the
 * record on secret-tool's standard input, never in its arguments).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/config/commands.js';
import { loadConfiguration } from '../../src/config/files.js';
import { resolveAccount } from '../../src/config/layer.js';
import { parseConfigFile } from '../../src/config/parser.js';
import { pretendLines, renderPretend } from '../../src/config/pretend.js';
import { finalizeAccount } from '../../src/config/validate.js';
import { tokenRejected } from '../../src/delivery/auth.js';
import { OutboxError } from '../../src/errors.js';
import { clientOf, resolveClient } from '../../src/oauth2/client.js';
import { fileNameFor, fileStore, tokenFolder } from '../../src/oauth2/file-store.js';
import { keyringStore, type SecretTool } from '../../src/oauth2/keyring-store.js';
import { openTokenStores } from '../../src/oauth2/store.js';
import type { TokenRecord } from '../../src/oauth2/token-record.js';
import { chooseMechanism } from '../../src/sasl/choose.js';
import type { SaslSession } from '../../src/sasl/mechanism.js';

const HOME = '/home/u';
const FILE = '/home/u/.msmtprc';
const tmp = mkdtempSync(join(tmpdir(), 'outbox-oauth2-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function accountFrom(text: string) {
  const parsed = parseConfigFile(text, FILE, { home: HOME, runCommand: () => ({ stdout: '', status: 1 }) });
  const definition = parsed.accounts[0]!;
  return resolveAccount(definition, definition.defaults, definition.explicit);
}

const GMAIL = 'account g\nhost smtp.gmail.com\nport 587\nuser a@gmail.com\noauth2_provider google\noauth2_client_id 123.apps\n';

describe('the oauth2_ commands', () => {
  it.each([
    ['https://auth.example/token', 'https://auth.example/token'],
    ['http://127.0.0.1:8080/token', 'http://127.0.0.1:8080/token'],
    ['http://[::1]:9/t', 'http://[::1]:9/t'],
  ])('an endpoint %s is taken', (argument, value) => {
    expect(parseCommand('oauth2_token_endpoint', argument, HOME)).toEqual({ oauth2_token_endpoint: value });
  });

  it.each([
    ['http://auth.example/token', 'must be https'],
    ['http://localhost:8080/token', 'must be https'],
    ['http://127.0.0.2/token', 'must be https'],
    ['ftp://auth.example/', 'must be https'],
    ['not a url', 'not a URL'],
    ['https://user:pw@auth.example/', 'no user, password or fragment'],
  ])('an endpoint %s is an error at its line', (argument, why) => {
    const run = () => accountFrom(`account a\n\noauth2_auth_endpoint ${argument}\n`);
    expect(run).toThrow(OutboxError);
    expect(run).toThrow(`${FILE}:3: `);
    expect(run).toThrow(why);
  });

  it('oauth2_provider takes google, microsoft, custom; empty unsets', () => {
    expect(parseCommand('oauth2_provider', 'microsoft', HOME)).toEqual({ oauth2_provider: 'microsoft' });
    expect(parseCommand('oauth2_provider', '', HOME)).toEqual({ oauth2_provider: null });
    expect(() => parseCommand('oauth2_provider', 'yahoo', HOME)).toThrow('invalid argument yahoo for command oauth2_provider');
  });

  it('refuses a provider with a password mechanism (the token would go as a password): exit 78 at the account', () => {
    for (const method of ['plain', 'login', 'scram-sha-256']) {
      expect(() => finalizeAccount(accountFrom(`${GMAIL}auth ${method}\n`))).toThrow(`oauth2_provider requires auth on, oauthbearer or xoauth2 (not ${method})`);
    }
    for (const method of ['on', 'xoauth2', 'oauthbearer']) expect(finalizeAccount(accountFrom(`${GMAIL}auth ${method}\n`)).auth).toBe(method);
  });

  it('--pretend shows the settings only with a provider, the secret as * and its command as <redacted>', () => {
    const account = finalizeAccount(accountFrom(`${GMAIL}oauth2_client_secret shh-secret\noauth2_client_secret_eval pass show gmail\n`));
    const text = renderPretend(pretendLines({ chosen: { account, how: { kind: 'named' } } }));
    expect(text).toContain('oauth2_provider = google\noauth2_client_id = 123.apps\noauth2_client_secret = *\noauth2_client_secret_eval = <redacted>\n');
    expect(text).not.toContain('shh-secret');
    expect(text).not.toContain('pass show');
    const plain = finalizeAccount(accountFrom('account p\nhost h\n'));
    expect(renderPretend(pretendLines({ chosen: { account: plain, how: { kind: 'named' } } }))).not.toContain('oauth2');
  });

  it('a client secret in the file makes the permission rule apply', () => {
    const path = '/home/u/.msmtprc';
    const content = Buffer.from(`${GMAIL}oauth2_client_secret shh\n`);
    const fs = { readFile: () => content, stat: () => ({ uid: 1000, mode: 0o100644 }), exists: () => true };
    const load = () => loadConfiguration({ userFile: path, env: { OUTBOX_SYSTEM_CONFIG: '/nonexistent' }, home: HOME, euid: 1000, fs: { ...fs, readFile: (p: string) => { if (p !== path) throw Object.assign(new Error('x'), { code: 'ENOENT' }); return content; } }, runCommand: () => ({ stdout: '', status: 1 }) });
    expect(load).toThrow(`${path}:7: contains secrets and therefore must have no more than user read/write permissions`);
  });
});

describe('the client', () => {
  it('takes the provider\'s endpoints and scope, the account\'s overrides, and keys tokens by host and user', () => {
    const client = clientOf(accountFrom(`${GMAIL}oauth2_scope https://mail.google.com/ openid\n`));
    expect(client).toMatchObject({
      provider: 'google',
      authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenEndpoint: 'https://oauth2.googleapis.com/token',
      scope: 'https://mail.google.com/ openid',
      authorizationParameters: { access_type: 'offline', prompt: 'consent' },
      deviceGrantForMail: false,
      key: { host: 'smtp.gmail.com', user: 'a@gmail.com' },
    });
  });

  it.each([
    ['account c\nuser u\noauth2_provider custom\noauth2_client_id x\n', 'oauth2_provider custom needs oauth2_token_endpoint'],
    ['account c\nuser u\noauth2_provider microsoft\n', 'oauth2_client_id not set'],
    ['account c\noauth2_provider microsoft\noauth2_client_id x\n', 'needs user'],
  ])('refuses an incomplete account at the provider\'s line: %#', (text, message) => {
    expect(() => clientOf(accountFrom(text))).toThrow(message);
    expect(() => clientOf(accountFrom(text))).toThrow(`${FILE}:`);
  });

  it('runs oauth2_client_secret_eval; its failure names its line, never the command', async () => {
    const account = accountFrom(`${GMAIL}oauth2_client_secret_eval printf top-secret-cmd\n`);
    const ok = await resolveClient(account, async () => ({ stdout: 'the-secret\n', status: 0 }));
    expect(ok.clientSecret).toBe('the-secret');
    const error = await resolveClient(account, async () => ({ stdout: '', status: 3 })).catch((e: unknown) => e as Error);
    expect((error as Error).message).toBe(`${FILE}:7: oauth2_client_secret_eval: the command failed with exit status 3`);
  });
});

describe('auth on with an OAuth2 account (bearer)', () => {
  const tls = { tls: true, channelBinding: true, requested: 'on', bearer: true } as const;
  it.each([
    [['PLAIN', 'XOAUTH2', 'OAUTHBEARER'], 'OAUTHBEARER'],
    [['PLAIN', 'LOGIN', 'XOAUTH2'], 'XOAUTH2'],
  ])('among %j chooses %s', (offered, mechanism) => {
    expect(chooseMechanism(offered, tls)).toEqual({ mechanism });
  });

  it('refuses a server that offers neither, and sends no token without TLS unless the method is named', () => {
    expect(chooseMechanism(['PLAIN', 'SCRAM-SHA-256'], tls)).toMatchObject({ code: 'E_CAPABILITY', error: expect.stringContaining('neither OAUTHBEARER nor XOAUTH2') });
    expect(chooseMechanism(['XOAUTH2'], { ...tls, tls: false })).toMatchObject({ code: 'E_CAPABILITY', error: expect.stringContaining('auth xoauth2') });
    expect(chooseMechanism(['XOAUTH2'], { ...tls, tls: false, requested: 'xoauth2' })).toEqual({ mechanism: 'XOAUTH2' });
  });

  it('without bearer, auth on still never chooses a token mechanism', () => {
    expect(chooseMechanism(['XOAUTH2'], { ...tls, bearer: false })).toMatchObject({ code: 'E_CAPABILITY' });
  });
});

describe('the SASL retry\'s test (tokenRejected)', () => {
  const session = (mechanism: string, serverError: string | undefined) => ({ mechanism, serverError }) as unknown as SaslSession;
  const refused = new OutboxError('E_AUTH_FAILED', 'authentication with XOAUTH2 failed: 535');
  it.each([
    ['XOAUTH2', '{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}', refused, true],
    ['OAUTHBEARER', '{"status":"invalid_token","scope":"x"}', refused, true],
    ['XOAUTH2', '{"status":"400","schemes":"bearer"}', refused, false],
    ['XOAUTH2', undefined, refused, false],
    ['XOAUTH2', 'not json', refused, false],
    ['PLAIN', '{"status":"401"}', refused, false],
    ['XOAUTH2', '{"status":"401"}', new OutboxError('E_AUTH_FAILED', '454', { transient: true }), false],
    ['XOAUTH2', '{"status":"401"}', new OutboxError('E_PROTOCOL', 'x'), false],
  ])('%s %s → %s', (mechanism, serverError, error, retry) => {
    expect(tokenRejected(session(mechanism, serverError), error)).toBe(retry);
  });
});

describe('the token stores', () => {
  const record: TokenRecord = { accessToken: 'at', expiresAt: 1000, refreshToken: 'rt', scope: 's', clientId: 'c', tokenEndpoint: 'https://t/' };
  const key = { host: 'smtp.example', user: '../a/b@example' };

  it('OUTBOX_OAUTH2_STORE chooses the store; a keyring without secret-tool or an unknown value is a configuration error', () => {
    expect(openTokenStores({ OUTBOX_OAUTH2_STORE: 'file', PATH: '/nonexistent' }, HOME).map((s) => s.name)).toEqual(['file']);
    expect(openTokenStores({ PATH: '/nonexistent' }, HOME).map((s) => s.name)).toEqual(['file']);
    expect(() => openTokenStores({ OUTBOX_OAUTH2_STORE: 'keyring', PATH: '/nonexistent' }, HOME)).toThrow('secret-tool is not on the PATH');
    expect(() => openTokenStores({ OUTBOX_OAUTH2_STORE: 'vault' }, HOME)).toThrow('must be file or keyring');
  });

  it('the folder follows XDG_STATE_HOME when it is absolute', () => {
    expect(tokenFolder({ XDG_STATE_HOME: '/s' }, HOME)).toBe('/s/outbox/oauth2');
    expect(tokenFolder({ XDG_STATE_HOME: 'rel' }, HOME)).toBe('/home/u/.local/state/outbox/oauth2');
    expect(tokenFolder({}, HOME)).toBe('/home/u/.local/state/outbox/oauth2');
  });

  it('file names cannot leave the folder', () => {
    expect(fileNameFor(key)).toBe('..%2Fa%2Fb%40example@smtp.example.json'.replace(/^\./, '%2E'));
    expect(fileNameFor(key)).not.toContain('/');
  });

  it('the file store writes 0600 files in a 0700 folder, reads them back, and removes them', async () => {
    const folder = join(tmp, 'state', 'oauth2');
    const store = fileStore(folder);
    expect(await store.load(key)).toBeUndefined();
    await store.save(key, record);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(store.pathOf(key)).mode & 0o777).toBe(0o600);
    expect(readdirSync(folder)).toEqual([fileNameFor(key)]); // no temporary file left
    expect(await store.load(key)).toEqual(record);
    expect(await store.remove(key)).toBe(true);
    expect(await store.remove(key)).toBe(false);
  });

  it('a malformed file is as if absent', async () => {
    const folder = join(tmp, 'bad');
    const store = fileStore(folder);
    await store.save(key, record);
    writeFileSync(store.pathOf(key), '{"version":1,"access_token":7}');
    expect(await store.load(key)).toBeUndefined();
  });

  it('the keyring store puts the record on secret-tool\'s standard input, with msmtp-style attributes', async () => {
    const calls: { args: readonly string[]; input: string | undefined }[] = [];
    let stored: string | undefined;
    const run: SecretTool = async (args, input) => {
      calls.push({ args, input });
      if (args[0] === 'store') stored = input;
      if (args[0] === 'lookup') return stored === undefined ? { status: 1, stdout: '' } : { status: 0, stdout: stored };
      if (args[0] === 'clear') stored = undefined;
      return { status: 0, stdout: '' };
    };
    const store = keyringStore(run);
    await store.save(key, record);
    expect(calls[0]!.args).toEqual(['store', '--label=outbox OAuth2 token for ../a/b@example at smtp.example', 'host', 'smtp.example', 'service', 'oauth2', 'user', '../a/b@example']);
    expect(calls[0]!.args.join(' ')).not.toContain('rt');
    expect(await store.load(key)).toEqual(record);
    expect(await store.remove(key)).toBe(true);
    expect(await store.load(key)).toBeUndefined();
  });

  it('a keyring that refuses to store is an error (the caller then tries the file)', async () => {
    const store = keyringStore(async () => ({ status: 1, stdout: '' }));
    await expect(store.save(key, record)).rejects.toThrow('secret-tool could not store the token in the keyring (exit status 1)');
  });
});
