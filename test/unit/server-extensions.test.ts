/**
 * What the product server's EHLO offers, when, and what MAIL and RCPT accept
 * with it: DSN's parameters with RFC 3461's syntax, AUTH= of RFC 4954 §5.
 */
import { describe, expect, it } from 'vitest';
import { isXtext } from '../../src/smtp/xtext.js';
import { startSession } from '../helpers/memory-backend.js';

const BASE = '250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-SIZE\r\n250-CHUNKING\r\n';
const verify = async (): Promise<boolean> => true;

describe('EHLO', () => {
  it('offers CHUNKING and DSN, and STARTTLS only before TLS and only when configured', async () => {
    expect(await startSession().say('EHLO c.test\r\n')).toBe(`${BASE}250 DSN\r\n`);
    expect(await startSession({ tls: 'starttls' }).say('EHLO c.test\r\n')).toBe(`${BASE}250-DSN\r\n250 STARTTLS\r\n`);
    expect(await startSession({ tls: 'implicit' }).say('EHLO c.test\r\n')).toBe(`${BASE}250 DSN\r\n`);
  });

  it('offers AUTH PLAIN LOGIN over TLS or on loopback, never in the clear elsewhere', async () => {
    expect(await startSession({ tls: 'implicit', auth: { verify } }).say('EHLO c.test\r\n')).toBe(`${BASE}250-DSN\r\n250 AUTH PLAIN LOGIN\r\n`);
    expect(await startSession({ loopback: true, auth: { verify } }).say('EHLO c.test\r\n')).toBe(`${BASE}250-DSN\r\n250 AUTH PLAIN LOGIN\r\n`);
    expect(await startSession({ tls: 'starttls', auth: { verify } }).say('EHLO c.test\r\n')).toBe(`${BASE}250-DSN\r\n250 STARTTLS\r\n`);
  });

  it('does not offer BINARYMIME, and HELP names the extra commands', async () => {
    const { say } = startSession({ tls: 'starttls', auth: { verify } });
    expect(await say('EHLO c.test\r\nMAIL FROM:<a@b.test> BODY=BINARYMIME\r\nHELP\r\n')).toBe(
      `${BASE}250-DSN\r\n250 STARTTLS\r\n530 5.7.0 Authentication required\r\n` +
        '214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT STARTTLS AUTH RSET NOOP QUIT VRFY HELP\r\n',
    );
    expect(await startSession().say('EHLO c.test\r\nMAIL FROM:<a@b.test> BODY=BINARYMIME\r\n')).toMatch(
      /501 5\.5\.4 Bad BODY value, use 7BIT or 8BITMIME\r\n$/,
    );
  });
});

describe('DSN parameters (RFC 3461)', () => {
  it('passes RET, ENVID, NOTIFY and ORCPT on to the backend as given', async () => {
    const { backend, say } = startSession();
    expect(
      await say(
        'EHLO c.test\r\nMAIL FROM:<a@b.test> RET=HDRS ENVID=QQ314159+2B\r\n' +
          'RCPT TO:<c@d.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40d.test\r\nRCPT TO:<e@d.test> NOTIFY=never\r\nDATA\r\n.\r\n',
      ),
    ).toMatch(/250 2\.1\.0 Ok\r\n250 2\.1\.5 Ok\r\n250 2\.1\.5 Ok\r\n354 .*\r\n250 2\.0\.0 Ok: queued as M1\r\n$/);
    expect(backend.committed[0]?.envelope).toMatchObject({
      mailParams: { RET: 'HDRS', ENVID: 'QQ314159+2B' },
      rcptParams: [{ NOTIFY: 'SUCCESS,FAILURE', ORCPT: 'rfc822;c+40d.test' }, { NOTIFY: 'never' }],
    });
  });

  it.each([
    ['MAIL FROM:<a@b.test> RET=ALL', '501 5.5.4 Bad RET value, use FULL or HDRS'],
    ['MAIL FROM:<a@b.test> RET', '501 5.5.4 Bad RET value, use FULL or HDRS'],
    ['MAIL FROM:<a@b.test> ENVID=a+2', '501 5.5.4 Bad ENVID value'],
    ['MAIL FROM:<a@b.test> ENVID=a+2b', '501 5.5.4 Bad ENVID value'],
    [`MAIL FROM:<a@b.test> ENVID=${'x'.repeat(101)}`, '501 5.5.4 Bad ENVID value'],
    ['MAIL FROM:<a@b.test> AUTH=<>', '555 5.5.4 Unsupported parameter AUTH'],
  ])('refuses %j', async (command, reply) => {
    const { say } = startSession();
    expect(await say(`EHLO c.test\r\n${command}\r\n`)).toBe(`${BASE}250 DSN\r\n${reply}\r\n`);
  });

  it.each([
    ['NOTIFY=NEVER,SUCCESS', '501 5.5.4 Bad NOTIFY value, use NEVER or SUCCESS, FAILURE, DELAY'],
    ['NOTIFY=SUCCESS,SUCCESS', '501 5.5.4 Bad NOTIFY value, use NEVER or SUCCESS, FAILURE, DELAY'],
    ['NOTIFY=', '501 5.5.4 bad parameter "NOTIFY="'],
    ['NOTIFY=SOMETIMES', '501 5.5.4 Bad NOTIFY value, use NEVER or SUCCESS, FAILURE, DELAY'],
    ['ORCPT=c@d.test', '501 5.5.4 Bad ORCPT value, use addr-type;xtext'],
    ['ORCPT=rfc822;c+4', '501 5.5.4 Bad ORCPT value, use addr-type;xtext'],
    ['ORCPT=rfc822;', '501 5.5.4 Bad ORCPT value, use addr-type;xtext'],
    ['XNOTIFY=1', '555 5.5.4 Unsupported parameter XNOTIFY'],
  ])('refuses RCPT with %s', async (param, reply) => {
    const { say } = startSession();
    await say('EHLO c.test\r\nMAIL FROM:<a@b.test>\r\n');
    expect(await say(`RCPT TO:<c@d.test> ${param}\r\n`)).toBe(`${reply}\r\n`);
  });

  it('takes ORCPT=utf-8; with UTF-8 in it (RFC 6533)', async () => {
    const { say } = startSession();
    await say('EHLO c.test\r\nMAIL FROM:<a@b.test> SMTPUTF8\r\n');
    expect(await say('RCPT TO:<zoë@d.test> ORCPT=utf-8;zoë@d.test\r\n')).toBe('250 2.1.5 Ok\r\n');
  });

  it('accepts MAIL AUTH=<> when AUTH is offered (RFC 4954 §5)', async () => {
    const plain = Buffer.from('\0ann\0pw').toString('base64');
    const { say } = startSession({ loopback: true, auth: { verify } });
    expect(await say(`EHLO c.test\r\nAUTH PLAIN ${plain}\r\nMAIL FROM:<a@b.test> AUTH=<>\r\n`)).toMatch(
      /235 2\.7\.0 Authentication successful\r\n250 2\.1\.0 Ok\r\n$/,
    );
  });

  it('knows xtext', () => {
    expect(['', 'abc', 'a+2Bb', '+3D', '!~'].map(isXtext)).toEqual([true, true, true, true, true]);
    expect(['a b', 'a=b', 'a+', 'a+2', 'a+2b', 'é'].map(isXtext)).toEqual([false, false, false, false, false, false]);
  });
});
