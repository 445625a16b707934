/**
 * AUTH end to end for the mechanisms smtp-server does not speak: EXTERNAL,
 * OAUTHBEARER and SCRAM with and without channel binding (-PLUS), against
 * the strict in-process server of test/helpers/sasl-server.ts (written from
 * the RFCs, independent of src/sasl) over implicit TLS with certificates made
 * at test time. Each case runs the built CLI with `-d` and checks the exit
 * status, what the server saw (mechanism, GS2 header, channel binding type,
 * identity, mail, protocol violations), and that no secret appears in the
 * output, plain or base64.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { runOutbox, type CliResult } from '../helpers/run-cli.js';
import { startSaslServer, type SaslServer, type SaslServerOptions, type SessionRecord } from '../helpers/sasl-server.js';
import { secretTraces } from '../helpers/secrets.js';

const USER = 'alice@example.com';
const PASSWORD = 'S3cret-Pa55phrase!';
const WRONG_PASSWORD = 'Not-the-Pa55phrase';
const TOKEN = 'ya29.OAuthBearerTokenForTests-0123456789';
const WRONG_TOKEN = 'ya29.ExpiredBearerToken-9876543210';
const SECRETS = [PASSWORD, WRONG_PASSWORD, TOKEN, WRONG_TOKEN];
const FROM = 'a@example.com';
const TO = 'r@example.net';
const MAIL = 'Subject: sasl mechanisms\n\nHello over an authenticated session.\n';
const ALL_SCRAM = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS'] as const;

let certs: TestCertificates;
let tmp: string;
const servers: SaslServer[] = [];

beforeAll(() => {
  certs = makeTestCertificates();
  tmp = mkdtempSync(join(tmpdir(), 'outbox-sasl-e2e-'));
});
afterAll(() => {
  certs?.cleanup();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: Partial<SaslServerOptions> & Pick<SaslServerOptions, 'mechanisms'>): Promise<SaslServer> {
  const server = await startSaslServer({
    cert: certs.server.cert,
    key: certs.server.key,
    ca: certs.ca,
    user: USER,
    password: PASSWORD,
    token: TOKEN,
    ...options,
  });
  servers.push(server);
  return server;
}

/** A fresh TLS session cache: no run resumes another's session unless a test says so. */
const freshCache = (): string => mkdtempSync(join(tmp, 'cache-'));

function send(server: SaslServer, args: readonly string[], cache: string = freshCache()): Promise<CliResult> {
  return runOutbox([
    '-d', '--host=localhost', `--port=${server.port}`, '--tls=on', '--tls-starttls=off', `--tls-trust-file=${certs.caFile}`,
    `--user=${USER}`, ...args, '-f', FROM, TO,
  ], { input: MAIL, env: { XDG_CACHE_HOME: cache } });
}

const passwordeval = (secret: string): string => `--passwordeval=printf '%s' '${secret}'`;
const clientCertificate = (files = certs.client): string[] => [`--tls-cert-file=${files.certFile}`, `--tls-key-file=${files.keyFile}`];

/** Neither a secret nor any client SASL message (which may carry one) is in the output, as sent or decoded. */
function expectNoSecret(result: CliResult, server: SaslServer): void {
  const seen = `${result.stdout}\n${result.stderr}`;
  for (const secret of SECRETS) {
    expect(seen).not.toContain(secret);
    for (const trace of secretTraces(secret)) expect(seen).not.toContain(trace);
  }
  for (const attempt of server.sessions.flatMap((s) => s.auth)) {
    // A pipelined command the server took for a response (not base64) is no SASL message.
    for (const sent of [attempt.initialResponse ?? '', ...attempt.responses].filter((s) => /^[A-Za-z0-9+/]{8,}={0,2}$/.test(s))) {
      expect(seen).not.toContain(sent);
    }
    for (const message of attempt.messages.map((m) => m.toString('latin1')).filter((m) => m.length >= 8)) {
      expect(seen).not.toContain(message);
    }
  }
}

function only(server: SaslServer): SessionRecord {
  expect(server.sessions).toHaveLength(1);
  const session = server.sessions[0]!;
  expect(session.violations).toEqual([]);
  return session;
}

function expectDelivered(server: SaslServer, identity: string): void {
  expect(server.mails).toEqual([{ from: FROM, recipients: [TO], data: expect.stringContaining('Subject: sasl mechanisms\r\n'), identity }]);
}

describe('EXTERNAL (RFC 4422 Appendix A) with a TLS client certificate', () => {
  it('delivers with the client certificate; AUTH EXTERNAL = leads the pipelined envelope', async () => {
    const server = await start({ mechanisms: ['EXTERNAL'] });
    const result = await send(server, ['--auth=external', ...clientCertificate()]);
    expect(result.status, result.stderr).toBe(0);
    const session = only(server);
    expect(session.clientCertificate).toMatchObject({ presented: true, authorized: true, verified: true, commonName: 'outbox client' });
    expect(session.auth).toEqual([expect.objectContaining({
      mechanism: 'EXTERNAL', initialResponse: '=', responses: [], outcome: 'success', identity: 'outbox client', pipelined: true,
    })]);
    expectDelivered(server, 'outbox client');
    expect(result.stdout).toMatch(/^--> AUTH EXTERNAL <redacted>$/m);
    expectNoSecret(result, server);
  });

  it('without PIPELINING, AUTH EXTERNAL waits for its 235', async () => {
    const server = await start({ mechanisms: ['EXTERNAL'], pipelining: false });
    const result = await send(server, ['--auth=external', ...clientCertificate()]);
    expect(result.status, result.stderr).toBe(0);
    expect(only(server).auth).toEqual([expect.objectContaining({ mechanism: 'EXTERNAL', outcome: 'success', pipelined: false })]);
    expectDelivered(server, 'outbox client');
  });

  it('without a client certificate outbox refuses before AUTH (69) and says why', async () => {
    const server = await start({ mechanisms: ['EXTERNAL'] });
    const result = await send(server, ['--auth=external']);
    expect(result.status).toBe(69);
    expect(result.stderr).toMatch(/EXTERNAL.*client certificate.*tls_cert_file/);
    const session = only(server);
    expect(session.clientCertificate.presented).toBe(false);
    expect(session.auth).toEqual([]);
    expect(session.commands.some((c) => /^AUTH/i.test(c))).toBe(false);
    expect(server.mails).toEqual([]);
  });

  it('a certificate that does not chain to the server CA is refused by the server (77)', async () => {
    const server = await start({ mechanisms: ['EXTERNAL'] });
    const result = await send(server, ['--auth=external', ...clientCertificate(certs.otherCaServer)]);
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('535');
    const session = only(server);
    expect(session.clientCertificate).toMatchObject({ presented: true, authorized: false, verified: false });
    expect(session.auth).toEqual([expect.objectContaining({ mechanism: 'EXTERNAL', outcome: 'failure' })]);
    expect(session.identity).toBeNull();
    expect(server.mails).toEqual([]);
  });
});

describe('OAUTHBEARER (RFC 7628)', () => {
  it('the right token: n,a=USER, host and port, Bearer token; delivered (0)', async () => {
    const server = await start({ mechanisms: ['OAUTHBEARER'] });
    const result = await send(server, ['--auth=oauthbearer', passwordeval(TOKEN)]);
    expect(result.status, result.stderr).toBe(0);
    const [attempt] = only(server).auth;
    expect(attempt).toMatchObject({ mechanism: 'OAUTHBEARER', outcome: 'success', identity: USER, responses: [] });
    expect(attempt?.oauth).toEqual({ authzid: USER, fields: { host: 'localhost', port: String(server.port), auth: `Bearer ${TOKEN}` } });
    expectDelivered(server, USER);
    expect(result.stdout).toMatch(/^--> AUTH OAUTHBEARER <redacted>$/m);
    expectNoSecret(result, server);
  });

  it('a refused token: the JSON error challenge is answered with %x01, then 535 (77, JSON status in stderr)', async () => {
    const server = await start({ mechanisms: ['OAUTHBEARER'], pipelining: false });
    const result = await send(server, ['--auth=oauthbearer', passwordeval(WRONG_TOKEN)]);
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('"status":"invalid_token"');
    expect(result.stderr).toContain('535');
    const [attempt] = only(server).auth;
    expect(attempt).toMatchObject({ mechanism: 'OAUTHBEARER', outcome: 'failure', reason: 'OAUTHBEARER: token refused', responses: ['AQ=='] });
    expect(attempt?.errorAnswer).toEqual(Buffer.of(0x01));
    expect(server.mails).toEqual([]);
    expect(result.stdout).toMatch(/^--> <redacted>$/m);
    expectNoSecret(result, server);
  });

  it('a refused token when AUTH led a pipelined group: still 77 with the JSON status, nothing delivered', async () => {
    const server = await start({ mechanisms: ['OAUTHBEARER'] });
    const result = await send(server, ['--auth=oauthbearer', passwordeval(WRONG_TOKEN)]);
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('"status":"invalid_token"');
    const [attempt] = only(server).auth;
    // The client could not answer the challenge in time: its pipelined MAIL line took the
    // place of the response, which the server refused as not base64 (RFC 4954 §4: 501).
    expect(attempt).toMatchObject({ mechanism: 'OAUTHBEARER', pipelined: true, outcome: 'malformed' });
    expect(attempt?.responses[0]).toMatch(/^MAIL FROM:</);
    expect(server.mails).toEqual([]);
    expectNoSecret(result, server);
  });
});

describe('SCRAM with channel binding (RFC 5802, 7677, 5929, 9266)', () => {
  it('SCRAM-SHA-256-PLUS over TLS 1.3 binds with tls-exporter (0)', async () => {
    const server = await start({ mechanisms: ['SCRAM-SHA-256-PLUS'] });
    const result = await send(server, ['--auth=scram-sha-256-plus', passwordeval(PASSWORD)]);
    expect(result.status, result.stderr).toBe(0);
    const session = only(server);
    expect(session.protocol).toBe('TLSv1.3');
    expect(session.auth).toEqual([expect.objectContaining({
      mechanism: 'SCRAM-SHA-256-PLUS', outcome: 'success', identity: USER,
      scram: { gs2Header: 'p=tls-exporter,,', channelBindingType: 'tls-exporter' },
    })]);
    // client-final, then the empty answer to the server signature
    expect(session.auth[0]?.responses).toHaveLength(2);
    expect(session.auth[0]?.responses[1]).toBe('');
    expectDelivered(server, USER);
    expectNoSecret(result, server);
  });

  it('SCRAM-SHA-1-PLUS over TLS 1.2 binds with tls-unique (0)', async () => {
    const server = await start({ mechanisms: ['SCRAM-SHA-1-PLUS'], maxVersion: 'TLSv1.2' });
    const result = await send(server, ['--auth=scram-sha-1-plus', passwordeval(PASSWORD)]);
    expect(result.status, result.stderr).toBe(0);
    const session = only(server);
    expect(session).toMatchObject({ protocol: 'TLSv1.2', resumed: false, identity: USER });
    expect(session.auth[0]).toMatchObject({ mechanism: 'SCRAM-SHA-1-PLUS', outcome: 'success', scram: { gs2Header: 'p=tls-unique,,', channelBindingType: 'tls-unique' } });
    expectDelivered(server, USER);
    expectNoSecret(result, server);
  });

  for (const [version, type] of [['TLSv1.3', 'tls-exporter'], ['TLSv1.2', 'tls-unique']] as const) {
    it(`auth on, offered PLAIN and every SCRAM, picks SCRAM-SHA-256-PLUS (${version}, ${type})`, async () => {
      const server = await start({ mechanisms: ALL_SCRAM, maxVersion: version });
      const result = await send(server, ['--auth=on', passwordeval(PASSWORD)]);
      expect(result.status, result.stderr).toBe(0);
      const session = only(server);
      expect(session.protocol).toBe(version);
      expect(session.auth).toEqual([expect.objectContaining({
        mechanism: 'SCRAM-SHA-256-PLUS', outcome: 'success', scram: { gs2Header: `p=${type},,`, channelBindingType: type },
      })]);
      expect(result.stdout).toMatch(/^--> AUTH SCRAM-SHA-256-PLUS <redacted>$/m);
      expectDelivered(server, USER);
      expectNoSecret(result, server);
    });
  }

  it('a wrong password: e=invalid-proof, answered empty, then 535 (77), nothing delivered', async () => {
    const server = await start({ mechanisms: ALL_SCRAM });
    const result = await send(server, ['--auth=on', passwordeval(WRONG_PASSWORD)]);
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('535');
    expect(result.stderr).toContain('invalid-proof');
    const [attempt] = only(server).auth;
    expect(attempt).toMatchObject({ mechanism: 'SCRAM-SHA-256-PLUS', outcome: 'failure', reason: 'SCRAM: wrong password (e=invalid-proof)' });
    expect(attempt?.responses).toHaveLength(2);
    expect(attempt?.responses[1]).toBe('');
    expect(server.mails).toEqual([]);
    expectNoSecret(result, server);
  });

  it('channel binding data that differ at the server (someone in the middle): channel-bindings-dont-match (77)', async () => {
    const server = await start({ mechanisms: ['SCRAM-SHA-256-PLUS'], tamperChannelBinding: true });
    const result = await send(server, ['--auth=scram-sha-256-plus', passwordeval(PASSWORD)]);
    expect(result.status).toBe(77);
    expect(result.stderr).toContain('channel-bindings-dont-match');
    expect(only(server).auth[0]).toMatchObject({ outcome: 'failure' });
    expect(server.mails).toEqual([]);
    expectNoSecret(result, server);
  });

  it('a resumed TLS 1.2 session has no tls-unique: auth on falls back to SCRAM-SHA-256 with n,, ; -PLUS asked for is 69', async () => {
    const server = await start({ mechanisms: ALL_SCRAM, maxVersion: 'TLSv1.2' });
    const cache = freshCache();
    const first = await send(server, ['--auth=on', passwordeval(PASSWORD)], cache);
    expect(first.status, first.stderr).toBe(0);
    const second = await send(server, ['--auth=on', passwordeval(PASSWORD)], cache);
    expect(second.status, second.stderr).toBe(0);
    const third = await send(server, ['--auth=scram-sha-1-plus', passwordeval(PASSWORD)], cache);
    expect(third.status).toBe(69);
    expect(third.stderr).toMatch(/channel binding/);
    expect(server.sessions.map((s) => [s.protocol, s.resumed])).toEqual([['TLSv1.2', false], ['TLSv1.2', true], ['TLSv1.2', true]]);
    expect(server.sessions.map((s) => s.auth.map((a) => [a.mechanism, a.scram?.gs2Header, a.outcome]))).toEqual([
      [['SCRAM-SHA-256-PLUS', 'p=tls-unique,,', 'success']],
      [['SCRAM-SHA-256', 'n,,', 'success']],
      [],
    ]);
    expect(server.sessions.flatMap((s) => s.violations)).toEqual([]);
    expect(server.mails).toHaveLength(2);
    for (const result of [first, second, third]) expectNoSecret(result, server);
  });
});

describe('SCRAM without -PLUS offered', () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    it(`over ${version} the client says it could bind: client-first starts with y,, and authentication succeeds`, async () => {
      const server = await start({ mechanisms: ['SCRAM-SHA-256'], maxVersion: version });
      const result = await send(server, ['--auth=on', passwordeval(PASSWORD)]);
      expect(result.status, result.stderr).toBe(0);
      const session = only(server);
      expect(session.protocol).toBe(version);
      expect(session.auth).toEqual([expect.objectContaining({ mechanism: 'SCRAM-SHA-256', outcome: 'success', scram: { gs2Header: 'y,,' } })]);
      expect(session.auth[0]?.messages[0]?.toString('utf8')).toMatch(/^y,,n=alice@example\.com,r=[\x21-\x2b\x2d-\x7e]+$/);
      expectDelivered(server, USER);
      expectNoSecret(result, server);
    });
  }

  // A non-PLUS SCRAM named explicitly next to an offered -PLUS must say "n,,": "y,,"
  // there is what RFC 5802 §6 tells the server to refuse (this test found the bug).
  it('auth scram-sha-256 named explicitly while -PLUS is offered: the client must not say y,, (RFC 5802 §6)', async () => {
    const server = await start({ mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'] });
    const result = await send(server, ['--auth=scram-sha-256', passwordeval(PASSWORD)]);
    expectNoSecret(result, server);
    expect(only(server).auth[0]?.scram?.gs2Header).not.toBe('y,,');
    expect(result.status, result.stderr).toBe(0);
    expectDelivered(server, USER);
  });
});

describe('a server that cannot prove it knows the password', () => {
  it('a forged server signature (v=): outbox cancels with *, exits 76 and sends no mail', async () => {
    const server = await start({ mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], forgeServerSignature: true });
    const result = await send(server, ['--auth=on', passwordeval(PASSWORD)]);
    expect(result.status).toBe(76);
    expect(result.stderr).toMatch(/signature/);
    const session = only(server);
    expect(session.auth).toEqual([expect.objectContaining({ mechanism: 'SCRAM-SHA-256-PLUS', outcome: 'cancelled' })]);
    expect(session.auth[0]?.responses).toHaveLength(2);
    expect(session.auth[0]?.responses[1]).toBe('*');
    expect(session.identity).toBeNull();
    expect(session.commands.some((c) => /^(MAIL|RCPT|DATA)/i.test(c))).toBe(false);
    expect(server.mails).toEqual([]);
    expectNoSecret(result, server);
  });
});
