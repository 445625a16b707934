/**
 * `--configure ADDRESS`: SRV records from a DNS server on loopback
 * (OUTBOX_DNS_SERVER), an account printed in msmtp's format, and that
 * account then used to send a mail to the server the records name.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';

let dns: DnsServer | undefined;
let server: FakeServer | undefined;
afterEach(async () => {
  await dns?.close();
  await server?.close();
  dns = undefined;
  server = undefined;
});

describe('--configure', () => {
  it('prefers _submissions (implicit TLS) to _submission (STARTTLS)', async () => {
    dns = await startDnsServer({
      '_submissions._tcp.example.test': { srv: [{ priority: 10, weight: 0, port: 465, target: 'smtps.example.test' }] },
      '_submission._tcp.example.test': { srv: [{ priority: 10, weight: 0, port: 587, target: 'smtp.example.test' }] },
    });
    const result = await runOutbox(['--configure=alice@example.test'], { env: { OUTBOX_DNS_SERVER: dns.address } });
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['account alice@example.test', 'host smtps.example.test', 'port 465', 'tls on', 'tls_starttls off', 'auth on', 'user alice@example.test', 'from alice@example.test']));
  });

  it('an internationalised domain is looked up in its ASCII form; the account works', async () => {
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    dns = await startDnsServer({
      '_submission._tcp.xn--bcher-kva.test': { srv: [{ priority: 5, weight: 0, port: server.port, target: 'mx.xn--bcher-kva.test' }, { priority: 20, weight: 0, port: 1, target: 'backup.test' }] },
      'mx.xn--bcher-kva.test': { a: '127.0.0.1' },
    });
    const env = { OUTBOX_DNS_SERVER: dns.address };
    const configured = await runOutbox(['--configure', 'bob@bücher.test'], { env });
    expect(configured.status, configured.stderr).toBe(0);
    expect(configured.stdout).toContain('host mx.xn--bcher-kva.test');
    expect(configured.stdout).toContain('tls_starttls on');
    // The printed account, with TLS and AUTH off for this plain test server, sends a mail.
    const home = mkdtempSync(join(tmpdir(), 'outbox-configure-'));
    try {
      const rc = join(home, 'rc');
      writeFileSync(rc, `${configured.stdout}tls off\nauth off\n`);
      chmodSync(rc, 0o600);
      const sent = await runOutbox(['-C', rc, '-a', 'bob@bücher.test', 'r@example.net'], { input: 'Subject: t\n\nx\n', env });
      expect(sent.status, sent.stderr).toBe(0);
      // The server offers no SMTPUTF8: the internationalised domain goes as its A-label.
      expect(server.commands).toContain('MAIL FROM:<bob@xn--bcher-kva.test>');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('no record: 69, naming what was looked up', async () => {
    dns = await startDnsServer({});
    const result = await runOutbox(['--configure=carol@nowhere.test'], { env: { OUTBOX_DNS_SERVER: dns.address } });
    expect(result.status).toBe(69);
    expect(result.stderr).toContain('_submissions._tcp.nowhere.test or _submission._tcp.nowhere.test');
  });
});
