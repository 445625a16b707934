/**
 * `fallback_account` end to end (issue 16): the built CLI with a chain of
 * accounts, each a server on loopback port 0. The first account is down,
 * says 421 or 454 to AUTH → the next delivers, exactly once; a 5xx, a
 * refused certificate or a 4xx to RCPT never fall over; the log names the
 * account that delivered and why the earlier ones failed, without secrets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, startPlainServer, startTlsServer, type LoopbackServer, type TestCertificates } from '../helpers/certs.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { normalReply, startFakeServer, type FakeReply, type FakeServer } from '../helpers/fake-server.js';
import { closedPort, makeSandbox, startCounting, type CountingServer, type Sandbox } from '../helpers/queue.js';

const MAIL = 'Subject: fail-over\n\nbody\n';
const SECRET = 's3cret-of-account-a';

let sandbox: Sandbox;
let delivering: CountingServer;
let stop: Array<{ close(): Promise<void> }> = [];
let certs: TestCertificates;

beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.cleanup());

afterEach(async () => {
  for (const server of stop) await server.close();
  stop = [];
  sandbox.cleanup();
});

async function setUp(): Promise<void> {
  sandbox = makeSandbox();
  delivering = await startCounting({ folder: join(sandbox.root, 'captured') });
  stop.push(delivering);
}

/** A server for the first account that answers as `reply` says (the greeting too). */
async function fake(reply: (line: string) => FakeReply | undefined, greeting?: FakeReply): Promise<FakeServer> {
  const server = await startFakeServer({ ...(greeting ? { greeting } : {}), reply: (line) => reply(line) ?? normalReply(line, ['PIPELINING', 'AUTH PLAIN']) });
  stop.push(server);
  return server;
}

/** Accounts a → b (→ c), each `account NAME` block given its lines; the log in LOGFILE. */
function config(accounts: Record<string, string>, logFormat = 'msmtp'): string {
  const blocks = Object.entries(accounts).map(([name, lines]) => `account ${name}\n${lines}\n`);
  return sandbox.config(`defaults\nfrom sender@example.com\nlogfile ${logFile()}\nlogfile_format ${logFormat}\nlogfile_time_format none\n\n${blocks.join('\n')}`);
}

const logFile = () => join(sandbox.root, 'log');
const log = () => readFileSync(logFile(), 'utf8');
const at = (port: number, extra = '') => `host 127.0.0.1\nport ${port}${extra ? `\n${extra}` : ''}`;
const send = (file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
  sandbox.run(['-C', file, '-a', 'a', ...args, 'rcpt@example.net'], { input: MAIL, env: { OUTBOX_TLS_SESSION_CACHE: 'off', ...env } });

describe('falls over to the next account', () => {
  it('when the first cannot be reached: the second delivers, once, silently; the log names it', async () => {
    await setUp();
    const file = config({ a: `${at(await closedPort())}\nfallback_account b`, b: at(delivering.port) });
    const result = await send(file);
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(await delivering.messages()).toHaveLength(1);
    expect(delivering.connections()).toBe(1);
    expect(log()).toMatch(/^host=127\.0\.0\.1 tls=off auth=off from=sender@example\.com recipients=rcpt@example\.net mailsize=\d+ smtpstatus=250 smtpmsg='250 [^']*' account=b failover='a: cannot connect to 127\.0\.0\.1 port \d+: [^']*' exitcode=EX_OK\n$/);
  });

  it('when the first greets with 421', async () => {
    await setUp();
    const down = await fake(() => undefined, '421 4.3.2 try again later');
    const result = await send(config({ a: `${at(down.port)}\nfallback_account b`, b: at(delivering.port) }));
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(await delivering.messages()).toHaveLength(1);
    expect(log()).toContain("account=b failover='a: the SMTP server at 127.0.0.1 refused the session (421 4.3.2 try again later)'");
  });

  it('when the first answers 454 to AUTH; no secret in the output or the log', async () => {
    await setUp();
    const busy = await fake((line) => (line.startsWith('AUTH') ? '454 4.7.0 too many logins' : undefined));
    const result = await send(config({ a: `${at(busy.port, `auth plain\nuser alice\npassword ${SECRET}`)}\nfallback_account b`, b: at(delivering.port) }, 'json'), ['-d']);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    // The AUTH led the pipelined envelope; the server's answers after the 454 are never acted upon.
    expect(busy.commands.filter((c) => c.startsWith('MAIL'))).toEqual(['MAIL FROM:<sender@example.com>']);
    expect(busy.messages).toEqual([]);
    expect(await delivering.messages()).toHaveLength(1);
    expect(delivering.connections()).toBe(1);
    expect(result.stdout).toMatch(/^outbox: account a failed before the mail was accepted \(authentication with PLAIN failed: 454 4\.7\.0 too many logins\); falling back to account b$/m);
    const entry = JSON.parse(log()) as Record<string, unknown>;
    expect(entry).toMatchObject({ host: '127.0.0.1', auth: false, exitcode: 'EX_OK', account: 'b', failover: [{ account: 'a', errormsg: 'authentication with PLAIN failed', smtpstatus: 454 }] });
    for (const text of [result.stdout, result.stderr, log()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(Buffer.from(`\0alice\0${SECRET}`).toString('base64'));
    }
  });

  it('when the connection is lost during the TLS handshake (a network failure, not a refused certificate)', async () => {
    await setUp();
    const dropping: LoopbackServer = await startPlainServer((socket) => socket.once('data', () => socket.destroy()));
    stop.push(dropping);
    const a = `host localhost\nport ${dropping.port}\ntls on\ntls_starttls off\ntls_trust_file ${certs.caFile}\nfallback_account b`;
    const result = await send(config({ a, b: at(delivering.port) }));
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(await delivering.messages()).toHaveLength(1);
    expect(log()).toMatch(/ account=b failover='a: TLS handshake with [^']*(reset or closed|closed the connection)[^']*' exitcode=EX_OK\n$/);
  });

  it('when the host name does not resolve, or DNS cannot answer; a chain that ends in an unknown name after a temporary failure exits 75', async () => {
    await setUp();
    const dns = await startDnsServer({ 'gone.test': { rcode: 'NXDOMAIN' }, 'flaky.test': { rcode: 'SERVFAIL' }, 'up.test': { a: '127.0.0.1' } });
    stop.push(dns);
    const env = { OUTBOX_DNS_SERVER: dns.address };
    const file = config({ a: `host gone.test\nport ${delivering.port}\nfallback_account b`, b: `host up.test\nport ${delivering.port}` });
    expect(await send(file, [], env)).toMatchObject({ status: 0, stderr: '' });
    expect(await delivering.messages()).toHaveLength(1);
    const ends = config({ a: `host flaky.test\nport ${delivering.port}\nfallback_account b`, b: `host gone.test\nport ${delivering.port}` });
    const failed = await send(ends, [], env);
    expect(failed.status).toBe(75);
    expect(failed.stderr).toMatch(/^outbox: account a: cannot locate host flaky\.test: temporary DNS failure .*; account b: cannot locate host gone\.test: name or service not known\n$/);
    expect(delivering.connections()).toBe(1);
  });

  it('down the chain of three; the mail keeps the first account\'s envelope and header', async () => {
    await setUp();
    const down = await fake(() => undefined, '421 4.3.2 busy');
    const file = config({
      a: `${at(await closedPort())}\nfallback_account b\nset_from_header on\nfrom_full_name First Account`,
      b: `${at(down.port)}\nfallback_account c\nfrom b-sender@example.org`,
      c: `${at(delivering.port)}\nfrom c-sender@example.org\nfrom_full_name Third`,
    });
    const pretend = await sandbox.run(['-C', file, '-a', 'a', '-P', 'rcpt@example.net']);
    expect(pretend.stdout).toContain('\naliases = (not set)\nfallback_account = b (→ c)\nreading recipients from the command line\n');
    const result = await send(file);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const [captured] = await delivering.messages();
    expect(captured).toMatchObject({ mailFrom: 'sender@example.com', recipients: ['rcpt@example.net'] });
    expect(captured!.raw.toString()).toMatch(/^From: First Account <sender@example\.com>\r\n/m);
    expect(log()).toMatch(/ account=c failover='a: cannot connect to [^;]*; b: the SMTP server at 127\.0\.0\.1 refused the session \(421 4\.3\.2 busy\)' exitcode=EX_OK\n$/);
  });

  it('and when the whole chain fails temporarily: exit 75, every account named; the log is about the last one', async () => {
    await setUp();
    const busy = await fake(() => undefined, '421 4.3.2 busy');
    const first = await closedPort();
    const result = await send(config({ a: `${at(first)}\nfallback_account b`, b: at(busy.port) }));
    expect(result.status).toBe(75);
    expect(result.stderr).toMatch(new RegExp(`^outbox: account a: cannot connect to 127\\.0\\.0\\.1 port ${first}: .*; account b: the SMTP server at 127\\.0\\.0\\.1 refused the session: 421 4\\.3\\.2 busy\\n$`));
    expect(log()).toMatch(/^host=127\.0\.0\.1 tls=off auth=off from=sender@example\.com recipients=rcpt@example\.net smtpstatus=421 smtpmsg='421 4\.3\.2 busy' errormsg='the SMTP server at 127\.0\.0\.1 refused the session' account=b failover='a: cannot connect to [^']*' exitcode=EX_TEMPFAIL\n$/);
  });
});

describe('never falls over', () => {
  const cases: Array<[string, (line: string) => FakeReply | undefined, FakeReply | undefined, string, number]> = [
    ['on a 554 greeting', () => undefined, '554 5.3.2 no service here', '', 76],
    ['on 535 to AUTH', (line) => (line.startsWith('AUTH') ? '535 5.7.8 bad credentials' : undefined), undefined, `auth plain\nuser alice\npassword ${SECRET}`, 77],
    ['on 550 to RCPT', (line) => (line.startsWith('RCPT') ? '550 5.1.1 no such user' : undefined), undefined, '', 65],
    ['on 451 to RCPT: the mail\'s temporary failure, exit 75', (line) => (line.startsWith('RCPT') ? '451 4.3.0 try later' : undefined), undefined, '', 75],
    ['on 421 to MAIL', (line) => (line.startsWith('MAIL') ? '421 4.3.2 closing' : undefined), undefined, '', 75],
    ['on 451 after the data', (line) => (line === '.' ? '451 4.3.0 queue full' : undefined), undefined, '', 75],
    ['when the connection drops after the data', (line) => (line === '.' ? { close: true } : undefined), undefined, '', 75],
  ];
  it.each(cases)('%s', async (_, reply, greeting, extra, status) => {
    await setUp();
    const first = await fake(reply, greeting);
    const result = await send(config({ a: `${at(first.port, extra)}\nfallback_account b`, b: at(delivering.port) }));
    expect(result.status, result.stderr).toBe(status);
    expect(result.stderr).not.toContain('account a:');
    expect(delivering.connections()).toBe(0);
    expect(log()).not.toContain('failover=');
  });

  it('on a certificate the trust file does not vouch for (no downgrade to the next account)', async () => {
    await setUp();
    const tls: LoopbackServer = await startTlsServer({ key: certs.otherCaServer.key, cert: certs.otherCaServer.cert });
    stop.push(tls);
    const a = `host localhost\nport ${tls.port}\ntls on\ntls_starttls off\ntls_trust_file ${certs.caFile}\nfallback_account b`;
    const result = await send(config({ a, b: at(delivering.port) }));
    expect(result.status).toBe(69);
    expect(result.stderr).toMatch(/certificate/);
    expect(delivering.connections()).toBe(0);
  });
});

describe('configuration', () => {
  it('refuses a loop at its line, before anything is read or sent (78)', async () => {
    await setUp();
    const file = config({ a: `${at(delivering.port)}\nfallback_account b`, b: `${at(delivering.port)}\nfallback_account a` });
    const result = await send(file);
    expect(result).toMatchObject({ status: 78, stderr: `outbox: ${file}:10: fallback_account: the chain a → b → a comes back to account a\n` });
    expect(delivering.connections()).toBe(0);
  });

  it('checks each fallback before sending; --serverinfo talks to the chosen account alone', async () => {
    await setUp();
    const file = config({ a: `${at(delivering.port)}\nfallback_account b`, b: 'protocol lmtp\nhost 127.0.0.1' });
    const result = await send(file);
    expect(result).toMatchObject({ status: 78, stderr: `outbox: ${file}:12: account b: port not set\n` });
    expect(delivering.connections()).toBe(0);
    const info = await sandbox.run(['-C', file, '-a', 'a', '--serverinfo']);
    expect(info).toMatchObject({ status: 0, stderr: '' });
    expect(delivering.connections()).toBe(1);
  });
});
