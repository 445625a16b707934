/**
 * The built CLI over TLS against smtp-server from npm (an independent TLS
 * server), with certificates made at test time: STARTTLS and implicit TLS
 * with verification on, each certificate failure refused before anything is
 * sent, fingerprint pinning, session resumption across runs, --serverinfo.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type CertificateFiles, type TestCertificates } from '../helpers/certs.js';
import { runOutbox } from '../helpers/run-cli.js';
import { startSocksServer, type SocksServer } from '../helpers/socks-server.js';

let certs: TestCertificates;
let cache: string;
let server: SMTPServer | undefined;
let received: Array<{ secure: boolean; to: string[] }> = [];
let socks: SocksServer | undefined;

beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.cleanup());
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await socks?.close();
  socks = undefined;
  received = [];
  if (cache) rmSync(cache, { recursive: true, force: true });
});

async function start(implicit: boolean, files: CertificateFiles = certs.server): Promise<number> {
  server = new SMTPServer({
    secure: implicit,
    key: files.key,
    cert: files.cert,
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      stream.resume();
      stream.on('end', () => {
        received.push({ secure: session.secure, to: session.envelope.rcptTo.map((r) => r.address) });
        callback();
      });
    },
  });
  const s = server;
  s.on('error', () => {});
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return (s.server.address() as { port: number }).port;
}

function tlsArgs(port: number, ...extra: string[]): string[] {
  return ['--host=localhost', `--port=${port}`, '--tls=on', `--tls-trust-file=${certs.caFile}`, ...extra];
}

function send(args: string[]) {
  cache = mkdtempSync(join(tmpdir(), 'outbox-cache-'));
  return runOutbox([...args, '-f', 'a@example.com', 'r@example.net'], { input: 'Subject: tls\n\nover TLS\n', env: { XDG_CACHE_HOME: cache } });
}

describe('TLS end to end', () => {
  it('STARTTLS with verification against the trust file; --debug shows the TLS session and certificate', async () => {
    const port = await start(false);
    const result = await send(tlsArgs(port, '-d'));
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(received).toEqual([{ secure: true, to: ['r@example.net'] }]);
    expect(result.stdout).toMatch(/^--> STARTTLS\n<-- 220 [^\n]*\nTLS session parameters:\n {4}TLSv1\.[23], \S+\nTLS certificate information:\n/m);
  });

  it('implicit TLS (tls_starttls off)', async () => {
    const port = await start(true);
    const result = await send(tlsArgs(port, '--tls-starttls=off'));
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(received).toEqual([{ secure: true, to: ['r@example.net'] }]);
  });

  const refusals: Array<[string, () => CertificateFiles, string[], RegExp]> = [
    ['a certificate from an untrusted CA', () => certs.otherCaServer, [], /trust|CA|issuer/i],
    ['a certificate for another name', () => certs.otherName, [], /not valid for|name|localhost/i],
    ['an expired certificate', () => certs.expired, [], /expired/i],
    ['the wrong fingerprint', () => certs.server, ['--tls-fingerprint=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF'], /fingerprint/i],
  ];
  for (const [what, files, extra, message] of refusals) {
    it(`refuses ${what} with 69, before anything is sent`, async () => {
      const port = await start(false, files());
      const result = await send(tlsArgs(port, ...extra));
      expect(result.status).toBe(69);
      expect(result.stderr).toMatch(message);
      expect(received).toEqual([]);
    });
  }

  it('a pinned fingerprint replaces CA checking (as msmtp)', async () => {
    const port = await start(false, certs.otherCaServer);
    const sha256 = new X509Certificate(certs.otherCaServer.cert).fingerprint256;
    const result = await send(['--host=localhost', `--port=${port}`, '--tls=on', `--tls-fingerprint=${sha256}`]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
  });

  it('a plaintext server behind implicit TLS is a handshake failure (76)', async () => {
    const port = await start(false);
    const result = await send(tlsArgs(port, '--tls-starttls=off', '--timeout=5'));
    expect(result.status).toBe(76);
  });

  it('--serverinfo shows the TLS session and the certificate; the second run resumes the session', async () => {
    const port = await start(false);
    cache = mkdtempSync(join(tmpdir(), 'outbox-cache-'));
    const run = () => runOutbox(['--serverinfo', ...tlsArgs(port)], { env: { XDG_CACHE_HOME: cache } });
    const first = await run();
    expect(first.status, first.stderr).toBe(0);
    const lines = first.stdout.split('\n');
    expect(lines[0]).toBe(`SMTP server at localhost (localhost [127.0.0.1]), port ${port}:`);
    expect(lines).toContain('TLS session parameters:');
    expect(first.stdout).not.toContain('(resumed session)');
    const der = new X509Certificate(certs.server.cert).raw;
    const sha256 = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
    expect(lines).toContain(`        SHA256: ${sha256}`);
    expect(lines).toContain('    STARTTLS:');
    const second = await run();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('(resumed session)');
    const json = await runOutbox(['--serverinfo', '--json', ...tlsArgs(port)], { env: { XDG_CACHE_HOME: cache } });
    expect(JSON.parse(json.stdout)).toMatchObject({ host: 'localhost', port, tls: { certificate: { sha256 } } });
  });

  for (const [what, implicit] of [['implicit TLS', true], ['STARTTLS', false]] as const) {
    it(`--serverinfo through a SOCKS5 proxy with ${what} names the server, not the proxy`, async () => {
      const port = await start(implicit);
      socks = await startSocksServer({ hosts: { localhost: '127.0.0.1' } });
      cache = mkdtempSync(join(tmpdir(), 'outbox-cache-'));
      const args = ['--serverinfo', ...tlsArgs(port, `--tls-starttls=${implicit ? 'off' : 'on'}`), '--proxy-host=127.0.0.1', `--proxy-port=${socks.port}`];
      const result = await runOutbox(args, { env: { XDG_CACHE_HOME: cache } });
      expect(result.status, result.stderr).toBe(0);
      expect(socks.requests[0]).toMatchObject({ host: 'localhost', port });
      // The socket's peer is the proxy; the server's own address is known only to the proxy.
      expect(result.stdout.split('\n')[0]).toBe(`SMTP server at localhost, port ${port}:`);
      expect(result.stdout).toContain('TLS session parameters:');
    });
  }
});
