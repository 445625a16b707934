/**
 * The throwaway servers offer what the cases (this issue's and later ones:
 * TLS, AUTH, extensions) rely on. These checks talk to the servers directly,
 * without outbox, so a broken setup shows up here and not as a puzzling
 * failure in an outbox case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { interopSetup, SmtpProbe, type ProbeReply } from './helpers.js';

const setup = interopSetup();
let probe: SmtpProbe | undefined;
afterEach(() => {
  probe?.close();
  probe = undefined;
});

/** The EHLO keywords, upper-cased, e.g. "SIZE 1048576", "AUTH PLAIN LOGIN". */
function keywords(ehlo: ProbeReply): string[] {
  return ehlo.lines.slice(1).map((l) => l.toUpperCase());
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

describe('Postfix plain listener', () => {
  it('offers PIPELINING, SIZE, ETRN, DSN, 8BITMIME, SMTPUTF8 and CHUNKING, and neither STARTTLS nor AUTH', async () => {
    probe = await SmtpProbe.connect(setup.postfix.ports.smtp);
    expect((await probe.reply()).code).toBe(220);
    const ehlo = await probe.command('EHLO probe.test');
    expect(ehlo.code).toBe(250);
    expect(keywords(ehlo)).toEqual(expect.arrayContaining([
      'PIPELINING', `SIZE ${setup.postfix.sizeLimit}`, 'ETRN', 'DSN', '8BITMIME', 'SMTPUTF8', 'CHUNKING', 'ENHANCEDSTATUSCODES',
    ]));
    expect(keywords(ehlo).some((k) => k.startsWith('STARTTLS') || k.startsWith('AUTH'))).toBe(false);
  });

  it('accepts ETRN for the flush domain from loopback and refuses it for others', async () => {
    probe = await SmtpProbe.connect(setup.postfix.ports.smtp);
    await probe.reply();
    await probe.command('EHLO probe.test');
    expect((await probe.command(`ETRN ${setup.postfix.flushDomain}`)).code).toBe(250);
    expect((await probe.command('ETRN elsewhere.test')).code).toBe(459);
  });
});

describe('Postfix submission listener (STARTTLS)', () => {
  it('offers STARTTLS, presents a certificate for localhost from the throwaway CA, and only then AUTH through Dovecot', async () => {
    probe = await SmtpProbe.connect(setup.postfix.ports.submission);
    expect((await probe.reply()).code).toBe(220);
    const before = await probe.command('EHLO probe.test');
    expect(keywords(before)).toContain('STARTTLS');
    expect(keywords(before).some((k) => k.startsWith('AUTH'))).toBe(false);
    // Mail before TLS is refused (smtpd_tls_security_level=encrypt).
    expect((await probe.command(`MAIL FROM:<sender@sender.test>`)).code).toBe(530);
    expect((await probe.command('STARTTLS')).code).toBe(220);
    await probe.upgrade('localhost');
    const after = await probe.command('EHLO probe.test');
    const auth = keywords(after).find((k) => k.startsWith('AUTH '));
    expect(auth?.split(' ').slice(1)).toEqual(expect.arrayContaining(['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256']));
    expect(keywords(after)).not.toContain('STARTTLS');
    const wrong = await probe.command(`AUTH PLAIN ${base64(`\0${setup.users.alice}\0wrong password`)}`);
    expect(wrong.code).toBe(535);
    const right = await probe.command(`AUTH PLAIN ${base64(`\0${setup.users.alice}\0${setup.password}`)}`);
    expect(right.code).toBe(235);
  });

  it('fails the handshake for a name the certificate does not carry', async () => {
    probe = await SmtpProbe.connect(setup.postfix.ports.submission);
    await probe.reply();
    await probe.command('EHLO probe.test');
    expect((await probe.command('STARTTLS')).code).toBe(220);
    await expect(probe.upgrade('wrong.example.test')).rejects.toThrow(/altnames|does not match|Hostname/i);
  });
});

describe('Postfix smtps listener (implicit TLS)', () => {
  it('speaks TLS from the first byte with a certificate valid for 127.0.0.1, and offers AUTH', async () => {
    probe = await SmtpProbe.connect(setup.postfix.ports.smtps, { tls: true, servername: '127.0.0.1' });
    expect(probe.encrypted).toBe(true);
    expect((await probe.reply()).code).toBe(220);
    const ehlo = await probe.command('EHLO probe.test');
    expect(keywords(ehlo).some((k) => k.startsWith('AUTH ') && k.includes('PLAIN'))).toBe(true);
    const login = await probe.command(`AUTH PLAIN ${base64(`\0${setup.users.bob}\0${setup.password}`)}`);
    expect(login.code).toBe(235);
  });
});

describe('Dovecot LMTP', () => {
  it('answers LHLO on its loopback port', async () => {
    probe = await SmtpProbe.connect(setup.dovecot.ports.lmtp);
    expect((await probe.reply()).code).toBe(220);
    const lhlo = await probe.command('LHLO probe.test');
    expect(lhlo.code).toBe(250);
    expect(keywords(lhlo)).toEqual(expect.arrayContaining(['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES']));
  });
});
