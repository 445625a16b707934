/**
 * AUTH end to end against smtp-server (an independent implementation) over
 * STARTTLS with certificates made at test time: PLAIN, LOGIN, CRAM-MD5 and
 * XOAUTH2 with right and wrong secrets, `auth on` refusing to send a
 * readable password without TLS, and no secret in any output.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerAuthentication } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { runOutbox, type CliResult } from '../helpers/run-cli.js';
import { expectNoSecret as expectNoSecretIn } from '../helpers/secrets.js';

const USER = 'alice@example.com';
const SECRET = 'S3cret-Pa55phrase!';
const TOKEN = 'ya29.OAuthAccessTokenForTests';
let certs: TestCertificates;
let server: SMTPServer | undefined;
let cache: string;
let delivered = 0;

beforeAll(() => {
  certs = makeTestCertificates();
  cache = mkdtempSync(join(tmpdir(), 'outbox-auth-cache-'));
});
afterAll(() => {
  certs.cleanup();
  rmSync(cache, { recursive: true, force: true });
});
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  delivered = 0;
});

async function start(tls: boolean): Promise<number> {
  server = new SMTPServer({
    key: tls ? certs.server.key : undefined,
    cert: tls ? certs.server.cert : undefined,
    disabledCommands: tls ? [] : ['STARTTLS'],
    allowInsecureAuth: !tls,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
    logger: false,
    onAuth(auth: SMTPServerAuthentication, _session, callback) {
      const ok = auth.method === 'XOAUTH2'
        ? auth.username === USER && auth.accessToken === TOKEN
        : auth.method === 'CRAM-MD5'
          ? auth.username === USER && auth.validatePassword!(SECRET)
          : auth.username === USER && auth.password === SECRET;
      if (ok) return callback(null, { user: USER });
      if (auth.method === 'XOAUTH2') return callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => { delivered++; callback(); });
    },
  });
  const s = server;
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return (s.server.address() as { port: number }).port;
}

function send(port: number, args: string[], tls = true): Promise<CliResult> {
  const tlsArgs = tls ? ['--tls=on', `--tls-trust-file=${certs.caFile}`] : [];
  return runOutbox(['-d', '--host=localhost', `--port=${port}`, ...tlsArgs, `--user=${USER}`, ...args, '-f', USER, 'r@example.net'], {
    input: 'Subject: auth\n\nx\n',
    env: { XDG_CACHE_HOME: cache },
  });
}

function expectNoSecret(result: CliResult): void {
  const payloads = [`\0${USER}\0${SECRET}`, `user=${USER}\x01auth=Bearer ${TOKEN}\x01\x01`].map((p) => Buffer.from(p).toString('base64'));
  expectNoSecretIn({ stdout: result.stdout, stderr: result.stderr }, [SECRET, TOKEN], payloads);
}

const passwordeval = (secret: string) => `--passwordeval=printf '%s' '${secret}'`;

describe('AUTH end to end', () => {
  for (const method of ['plain', 'login', 'cram-md5']) {
    it(`${method}: right password 0, wrong password 77, nothing secret in the output`, async () => {
      const port = await start(true);
      const right = await send(port, [`--auth=${method}`, passwordeval(SECRET)]);
      expect(right.status, right.stderr).toBe(0);
      expect(delivered).toBe(1);
      expect(right.stdout).toMatch(new RegExp(`^--> AUTH ${method.toUpperCase()}`, 'm'));
      expectNoSecret(right);
      const wrong = await send(port, [`--auth=${method}`, passwordeval('wrong')]);
      expect(wrong.status).toBe(77);
      expect(wrong.stderr).toContain('535');
      expect(delivered).toBe(1);
    });
  }

  it('xoauth2: the token from passwordeval; a refused token reports the server JSON and exits 77', async () => {
    const port = await start(true);
    const right = await send(port, ['--auth=xoauth2', passwordeval(TOKEN)]);
    expect(right.status, right.stderr).toBe(0);
    expectNoSecret(right);
    const wrong = await send(port, ['--auth=xoauth2', passwordeval('expired-token')]);
    expect(wrong.status).toBe(77);
    expect(wrong.stderr).toContain('401');
  });

  it('auth on over TLS picks PLAIN among PLAIN, LOGIN, CRAM-MD5 (msmtp order)', async () => {
    const port = await start(true);
    const result = await send(port, ['--auth=on', passwordeval(SECRET)]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^--> AUTH PLAIN <redacted>$/m);
  });

  it('auth on without TLS refuses to send a readable password (69), and says why', async () => {
    const port = await start(false);
    const result = await send(port, ['--auth=on', passwordeval(SECRET)], false);
    expect(result.status).toBe(69);
    expect(delivered).toBe(0);
    expect(result.stdout).not.toMatch(/^--> AUTH/m);
  });

  it('a missing password is 69 with a clear message, and the server never sees AUTH', async () => {
    const port = await start(true);
    const result = await send(port, ['--auth=plain']);
    expect(result.status).toBe(69);
    expect(result.stderr).toMatch(/needs a password/);
  });
});
