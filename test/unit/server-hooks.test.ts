/**
 * The product session and its backend: the hooks (mail, rcpt, reset, logout)
 * are called when RFC 5321 says the transaction starts, grows and ends, their
 * replies are used, and every message starts with the Received field.
 */
import { describe, expect, it } from 'vitest';
import { LOOPBACK_CLIENT, startSession, withoutReceivedId } from '../helpers/memory-backend.js';

const EHLO_FULL =
  '250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-SIZE\r\n250-CHUNKING\r\n250 DSN\r\n';
const RECEIVED_ONE =
  'Received: from client.test (unknown [127.0.0.1])\r\n\tby mx.test (outbox) with ESMTP id ID\r\n' +
  '\tfor <c@d.test>; Sat, 05 Dec 2026 06:50:00 +0000\r\n';

describe('the backend hooks', () => {
  it('asks mail() and rcpt(), opens, commits, and resets after the transaction', async () => {
    const { backend, say, session } = startSession();
    await say('EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nhi\r\n.\r\n');
    await session.end();
    expect(backend.calls).toEqual(['reset', 'mail a@b.test', 'rcpt c@d.test', 'open', 'commit', 'reset', 'logout']);
  });

  it('takes a local user without a domain (<root>), as msmtpd and sendmail do for local programs; the test oracle does not', async () => {
    const { backend, say } = startSession();
    const replies = await say('EHLO client.test\r\nMAIL FROM:<cron>\r\nRCPT TO:<root>\r\nDATA\r\nhi\r\n.\r\n');
    expect(replies).toMatch(/250 2\.1\.0 [^\r]*\r\n250 2\.1\.5 [^\r]*\r\n354 [^\r]*\r\n250 /);
    expect(backend.committed[0]?.envelope).toMatchObject({ mailFrom: 'cron', recipients: ['root'] });
    const oracle = startSession({ full: false, received: false });
    expect(await oracle.say('EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<root>\r\n')).toMatch(/501 5\.1\.3 Bad recipient address: bad address syntax\r\n$/);
  });

  it('refuses MAIL and RCPT when the hook says 400 or more, and uses a lower reply instead of 250', async () => {
    const { backend, say } = startSession();
    backend.mailReply = (from) => (from === 'spam@b.test' ? { code: 550, text: '5.7.1 Sender refused' } : { code: 250, text: '2.1.0 Sender fine' });
    backend.rcptReply = (to) => (to === 'x@d.test' ? { code: 450, text: 'Try later' } : { code: 251, text: '2.1.5 Will forward' });
    expect(await say('EHLO client.test\r\nMAIL FROM:<spam@b.test>\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@d.test>\r\nRCPT TO:<c@d.test>\r\n')).toBe(
      `${EHLO_FULL}550 5.7.1 Sender refused\r\n250 2.1.0 Sender fine\r\n450 4.0.0 Try later\r\n251 2.1.5 Will forward\r\n`,
    );
    await say('DATA\r\n.\r\n');
    expect(backend.committed[0]?.envelope.recipients).toEqual(['c@d.test']);
  });

  it('resets on RSET and on a new EHLO, aborting nothing that was not opened', async () => {
    const { backend, say } = startSession();
    await say('EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRSET\r\nMAIL FROM:<a@b.test>\r\nHELO again.test\r\n');
    expect(backend.calls).toEqual(['reset', 'mail a@b.test', 'reset', 'mail a@b.test', 'reset']);
  });

  it('resets after a refused message too, and tells logout at the end', async () => {
    const { backend, say, session } = startSession();
    await say('EHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nbare\nLF\r\n.\r\n');
    await session.end();
    expect(backend.calls.slice(-4)).toEqual(['open', 'abort', 'reset', 'logout']);
  });

  it('gives the backend the connection and the envelope with tls and the authenticated user', async () => {
    const { backend, say } = startSession({ tls: 'implicit', auth: { verify: async () => true } }, LOOPBACK_CLIENT);
    const plain = Buffer.from('\0ann\0secret').toString('base64');
    await say(`EHLO client.test\r\nAUTH PLAIN ${plain}\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n.\r\n`);
    expect(backend.connections).toEqual([LOOPBACK_CLIENT]);
    expect(backend.committed[0]?.envelope).toEqual({
      protocol: 'smtp',
      helo: 'client.test',
      mailFrom: 'a@b.test',
      mailParams: {},
      recipients: ['c@d.test'],
      rcptParams: [{}],
      tls: true,
      authenticatedUser: 'ann',
    });
    expect(backend.committed[0]?.data).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby mx\.test \(outbox\) with ESMTPSA id /);
  });
});

describe('the Received field', () => {
  it('comes first in the message, with "for" when there is one recipient', async () => {
    const { backend, say } = startSession({}, LOOPBACK_CLIENT);
    await say('EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n');
    expect(withoutReceivedId(backend.committed[0]!.data)).toBe(`${RECEIVED_ONE}Subject: x\r\n\r\nbody\r\n`);
  });

  it('names no recipient when there are several, and says SMTP after HELO, LMTP after LHLO', async () => {
    const { backend, say } = startSession({}, LOOPBACK_CLIENT);
    await say('HELO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nRCPT TO:<e@d.test>\r\nDATA\r\n.\r\n');
    expect(withoutReceivedId(backend.committed[0]!.data)).toBe(
      'Received: from client.test (unknown [127.0.0.1])\r\n\tby mx.test (outbox) with SMTP id ID;\r\n' +
        '\tSat, 05 Dec 2026 06:50:00 +0000\r\n',
    );
    const lmtp = startSession({ protocol: 'lmtp' }, { ...LOOPBACK_CLIENT, protocol: 'lmtp', remoteAddress: '::1' });
    await lmtp.say('LHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n.\r\n');
    expect(lmtp.backend.committed[0]!.data).toMatch(/^Received: from client\.test \(unknown \[IPv6:::1\]\)\r\n\tby mx\.test \(outbox\) with LMTP id /);
  });

  it('has no TCP-info on a pipe, and says UTF8SMTP for an SMTPUTF8 transaction', async () => {
    const { backend, say } = startSession();
    await say('EHLO client.test\r\nMAIL FROM:<jörg@b.test> SMTPUTF8\r\nRCPT TO:<c@d.test>\r\nDATA\r\n.\r\n');
    expect(withoutReceivedId(backend.committed[0]!.data)).toBe(
      'Received: from client.test\r\n\tby mx.test (outbox) with UTF8SMTP id ID\r\n\tfor <c@d.test>; Sat, 05 Dec 2026 06:50:00 +0000\r\n',
    );
  });

  it('is not counted against the size limit', async () => {
    const { backend, say } = startSession({ sizeLimit: 6 });
    expect(await say('EHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nfour\r\n.\r\n')).toMatch(/250 2\.0\.0 Ok: queued as M1\r\n$/);
    expect(backend.committed).toHaveLength(1);
  });
});

describe('a backend hook that throws', () => {
  it('is a local error (451) for that command, and the session goes on', async () => {
    const { backend, say, session } = startSession();
    backend.mailReply = () => {
      throw new Error('database down');
    };
    expect(await say('EHLO client.test\r\nMAIL FROM:<a@b.test>\r\n')).toMatch(/\r\n451 4\.3\.0 Error: local error in processing\r\n$/);
    backend.mailReply = undefined;
    backend.rcptReply = () => {
      throw new Error('database down');
    };
    expect(await say('MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n')).toBe(
      '250 2.1.0 Ok\r\n451 4.3.0 Error: local error in processing\r\n',
    );
    expect(session.closed).toBe(false);
  });
});
