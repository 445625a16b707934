/**
 * Every exit status of the sendmail mode, from the built CLI against loopback
 * servers that misbehave on purpose. Temporary failures exit 75 (a deliberate
 * difference from msmtp, see docs/differences.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsServer } from '../helpers/dns-server.js';
import { normalReply, startFakeServer, type FakeReply, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';

const MAIL = 'Subject: test\n\nHello.\n';
let server: FakeServer | undefined;
let dns: DnsServer | undefined;

afterEach(async () => {
  await server?.close();
  await dns?.close();
  server = dns = undefined;
});

async function sendVia(reply: (line: string) => FakeReply | undefined, options: { greeting?: FakeReply; extra?: string[]; recipients?: string[] } = {}) {
  server = await startFakeServer({
    ...(options.greeting ? { greeting: options.greeting } : {}),
    reply: (line) => reply(line) ?? normalReply(line),
  });
  return runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', ...(options.extra ?? []), ...(options.recipients ?? ['b@example.net'])], { input: MAIL });
}

describe('exit statuses', () => {
  it('0: delivered', async () => {
    const result = await sendVia(() => undefined);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server!.commands).toEqual(['EHLO localhost', 'MAIL FROM:<a@example.com>', 'RCPT TO:<b@example.net>', 'DATA', 'QUIT']);
    // msmtp's header changes: From, Date and Message-ID prepended when missing.
    expect(server!.messages).toHaveLength(1);
    expect(server!.messages[0]).toMatch(/^From: a@example\.com\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\r\nMessage-ID: <[^>]+@example\.com>\r\nSubject: test\r\n\r\nHello\.\r\n$/);
  });

  it('0: a host name resolved through DNS', async () => {
    dns = await startDnsServer({ 'mx.test': { a: '127.0.0.1' } });
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    const result = await runOutbox(['--host=mx.test', `--port=${server.port}`, '-f', 'a@b', 'c@d'], { input: MAIL, env: { OUTBOX_DNS_SERVER: dns.address } });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server.messages).toHaveLength(1);
  });

  it('0: an internationalised host name is looked up in its ASCII form, and so is the EHLO domain', async () => {
    dns = await startDnsServer({ 'xn--bcher-kva.test': { a: '127.0.0.1' } });
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    const result = await runOutbox(['--host=Bücher.test', `--port=${server.port}`, '--domain=clïent.test', '-f', 'a@b', 'c@d'], { input: MAIL, env: { OUTBOX_DNS_SERVER: dns.address } });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server.commands[0]).toBe('EHLO xn--clent-dta.test');
  });

  it('0: the sendmail options msmtp accepts and ignores are accepted', async () => {
    const ignored = ['-A', 'c', '-i', '-oi', '-o', 'em', '-O', 'DeliveryMode=b', '-B', '8BITMIME', '-bm', '-G', '-h', '17', '-L', 'tag', '-m', '-n', '-F', 'Jane Doe', '-v'];
    const result = await sendVia(() => undefined, { extra: ignored });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--> MAIL FROM:<a@example.com>'); // -v prints the dialogue, as in msmtp
    expect(server!.commands).toContain('RCPT TO:<b@example.net>');
  });

  it('0: -d0.1 prints the version and neither reads a mail nor connects (sendmail -d0.1 -bt < /dev/null)', async () => {
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    const result = await runOutbox(['-d0.1', '-bt', '--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@b', 'c@d'], { input: MAIL });
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^outbox version /);
    expect(server.commands).toEqual([]);
  });

  it('64: unknown option, unsupported mode, no recipients, unreadable recipient', async () => {
    for (const args of [['--host=127.0.0.1', '-f', 'a@b\r\nRCPT TO:<evil@x>', 'c@d'], ['--host=127.0.0.1', '-f', 'a@b, c@d', 'e@f'], ['--bogus'], ['-bs'], ['-bt'], ['-q', 'someone@example.net'], ['--host=127.0.0.1', '-f', 'a@b'], ['--host=127.0.0.1', '-f', 'a@b', 'x@y, <broken']]) {
      const result = await runOutbox(args, { input: MAIL });
      expect(result.status, args.join(' ')).toBe(64);
      expect(result.stderr).toMatch(/^outbox: /);
    }
  });

  it('64: a bad option value', async () => {
    expect((await runOutbox(['--port=99999', 'x@y'])).status).toBe(64);
    expect((await runOutbox(['--timeout=soon', 'x@y'])).status).toBe(64);
    expect((await runOutbox(['--protocol=http', 'x@y'])).status).toBe(64);
  });

  it('65: a 5xx reply to RCPT names the recipient and quotes the server', async () => {
    const result = await sendVia((line) => (line.includes('bad@') ? '550 5.1.1 no such user' : undefined), { recipients: ['good@example.net', 'bad@example.net'] });
    expect(result.status).toBe(65);
    expect(result.stderr).toContain('recipient address bad@example.net not accepted by the server: 550 5.1.1 no such user');
    expect(server!.messages).toEqual([]); // nobody got the mail
  });

  it('65: a 5xx reply to MAIL', async () => {
    const result = await sendVia((line) => (line.startsWith('MAIL') ? '553 5.7.1 sender rejected' : undefined));
    expect(result.status).toBe(65);
    expect(result.stderr).toContain('553 5.7.1 sender rejected');
  });

  it('65: a 5xx reply to DATA', async () => {
    expect((await sendVia((line) => (line === 'DATA' ? '554 5.5.1 no valid recipients' : undefined))).status).toBe(65);
  });

  it('68: the host does not exist (NXDOMAIN from a loopback DNS server)', async () => {
    dns = await startDnsServer({ 'nowhere.test': { rcode: 'NXDOMAIN' } });
    const result = await runOutbox(['--host=nowhere.test', '-f', 'a@b', 'c@d'], { input: MAIL, env: { OUTBOX_DNS_SERVER: dns.address } });
    expect(result.status).toBe(68);
    expect(result.stderr).toContain('cannot locate host nowhere.test');
  });

  it('69: a 5xx reply after the final dot', async () => {
    const result = await sendVia((line) => (line === '.' ? '554 5.7.1 message content rejected' : undefined));
    expect(result.status).toBe(69);
    expect(result.stderr).toContain('554 5.7.1 message content rejected');
    expect(server!.commands.at(-1)).toBe('QUIT');
  });

  it('75: any 4xx — greeting 421, RCPT 450, after the dot 451', async () => {
    expect((await sendVia(() => undefined, { greeting: '421 4.3.2 busy' })).status).toBe(75);
    await server!.close();
    expect((await sendVia((line) => (line.startsWith('RCPT') ? '450 4.2.1 try later' : undefined))).status).toBe(75);
    await server!.close();
    expect((await sendVia((line) => (line === '.' ? '451 4.3.0 local error' : undefined))).status).toBe(75);
  });

  it('75: connection refused', async () => {
    server = await startFakeServer({ reply: (line) => normalReply(line) });
    const port = server.port;
    await server.close();
    server = undefined;
    const result = await runOutbox(['--host=127.0.0.1', `--port=${port}`, '-f', 'a@b', 'c@d'], { input: MAIL });
    expect(result.status).toBe(75);
    expect(result.stderr).toContain('connection refused');
  });

  it('75: a server that stops answering, with --timeout', async () => {
    const result = await sendVia((line) => (line.startsWith('RCPT') ? { hang: true } : undefined), { extra: ['--timeout=1'] });
    expect(result.status).toBe(75);
    expect(result.stderr).toMatch(/timed out after 1 s waiting for the reply to RCPT TO:<b@example.net>/);
  });

  it('75: the connection dropped mid-session', async () => {
    const result = await sendVia((line) => (line === 'DATA' ? { close: true } : undefined));
    expect(result.status).toBe(75);
    expect(result.stderr).toContain('closed the connection');
  });

  it('75: a temporary DNS failure (SERVFAIL)', async () => {
    dns = await startDnsServer({ 'flaky.test': { rcode: 'SERVFAIL' } });
    const result = await runOutbox(['--host=flaky.test', '-f', 'a@b', 'c@d'], { input: MAIL, env: { OUTBOX_DNS_SERVER: dns.address } });
    expect(result.status).toBe(75);
    expect(result.stderr).toContain('temporary DNS failure');
  });

  it('76: a 554 greeting, a reply that is not SMTP, EHLO and HELO both refused', async () => {
    expect((await sendVia(() => undefined, { greeting: '554 5.3.2 no service' })).status).toBe(76);
    await server!.close();
    const garbage = await sendVia(() => undefined, { greeting: { raw: 'SSH-2.0-OpenSSH_9.2\r\n' } });
    expect(garbage.status).toBe(76);
    expect(garbage.stderr).toContain('not an SMTP reply');
    await server!.close();
    expect((await sendVia((line) => (/^(EHLO|HELO)/.test(line) ? '500 5.5.1 what?' : undefined))).status).toBe(76);
  });

  it('78: no server, LMTP without a port, no envelope-from', async () => {
    expect((await runOutbox(['-f', 'a@b', 'c@d'], { input: MAIL })).status).toBe(78);
    expect((await runOutbox(['--host=127.0.0.1', '--protocol=lmtp', '-f', 'a@b', 'c@d'], { input: MAIL })).status).toBe(78);
    const noFrom = await runOutbox(['--host=127.0.0.1', 'c@d'], { input: MAIL });
    expect(noFrom.status).toBe(78);
    expect(noFrom.stderr).toContain('envelope-from address is missing');
  });
});
