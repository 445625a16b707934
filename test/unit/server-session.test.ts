/**
 * The session without sockets: bytes in, exact reply text out. What one
 * `receive()` returns is what the connection writes in one go, so these
 * tests also pin down how replies to a pipelined group are batched.
 */
import { describe, expect, it } from 'vitest';
import type { Backend, BackendSession, Envelope, MessageSink } from '../../src/server/backend.js';
import { Session, SESSION_DEFAULTS, type SessionOptions } from '../../src/server/session.js';

class MemoryBackend implements Backend {
  readonly committed: Array<{ id: string; envelope: Envelope; data: string }> = [];
  opened = 0;
  aborted = 0;
  failOpen = false;
  failCommit = false;

  newSession(): BackendSession {
    return { open: () => this.open() };
  }

  async open(): Promise<MessageSink> {
    if (this.failOpen) throw new Error('disk full');
    this.opened++;
    const chunks: Buffer[] = [];
    return {
      write: async (bytes) => {
        chunks.push(Buffer.from(bytes));
      },
      commit: async (envelope) => {
        if (this.failCommit) throw new Error('disk full');
        const id = `M${this.committed.length + 1}`;
        this.committed.push({ id, envelope, data: Buffer.concat(chunks).toString('latin1') });
        return { kind: 'delivered' as const, id };
      },
      abort: async () => {
        this.aborted++;
      },
    };
  }
}

function start(options: Partial<SessionOptions> = {}) {
  const backend = new MemoryBackend();
  const session = new Session({ ...SESSION_DEFAULTS, hostname: 'mx.test', ...options }, backend);
  const say = (text: string | Buffer): Promise<string> =>
    session.receive(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  return { session, backend, say };
}

async function afterEhlo(options: Partial<SessionOptions> = {}) {
  const started = start(options);
  await started.say(options.protocol === 'lmtp' ? 'LHLO client.test\r\n' : 'EHLO client.test\r\n');
  return started;
}

const EHLO_REPLY =
  '250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 SIZE\r\n';

describe('greeting and hello', () => {
  it('greets as ESMTP or LMTP', () => {
    expect(start().session.greeting()).toBe('220 mx.test ESMTP outbox\r\n');
    expect(start({ protocol: 'lmtp' }).session.greeting()).toBe('220 mx.test LMTP outbox\r\n');
  });

  it('answers EHLO with its extensions, SIZE bare without a limit and with it otherwise', async () => {
    expect(await start().say('EHLO client.test\r\n')).toBe(EHLO_REPLY);
    expect(await start({ sizeLimit: 1000 }).say('ehlo [127.0.0.1]\r\n')).toBe(
      EHLO_REPLY.replace('250 SIZE\r\n', '250 SIZE 1000\r\n'),
    );
  });

  it('answers HELO with its name alone and then refuses ESMTP parameters', async () => {
    const { say } = start();
    expect(await say('HELO client.test\r\n')).toBe('250 mx.test\r\n');
    expect(await say('MAIL FROM:<a@b.test> BODY=8BITMIME\r\n')).toBe(
      '555 5.5.4 Error: no MAIL parameters after HELO, use EHLO\r\n',
    );
    expect(await say('MAIL FROM:<a@b.test>\r\n')).toBe('250 2.1.0 Ok\r\n');
  });

  it('wants a valid domain or address literal', async () => {
    const { say } = start();
    expect(await say('EHLO\r\nEHLO under_score\r\nHELO a b\r\n')).toBe(
      '501 5.5.4 Syntax: EHLO hostname\r\n501 5.5.4 Syntax: EHLO hostname\r\n501 5.5.4 Syntax: HELO hostname\r\n',
    );
  });

  it('wants a hello before mail', async () => {
    const { say } = start();
    expect(await say('MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n')).toBe(
      '503 5.5.1 Error: send EHLO/HELO first\r\n'.repeat(3),
    );
  });

  it('in LMTP mode wants LHLO and refuses EHLO and HELO; in SMTP mode does not know LHLO', async () => {
    const lmtp = start({ protocol: 'lmtp' });
    expect(await lmtp.say('EHLO a.test\r\nHELO a.test\r\nMAIL FROM:<>\r\n')).toBe(
      '500 5.5.1 Error: this is an LMTP server, use LHLO\r\n'.repeat(2) + '503 5.5.1 Error: send LHLO first\r\n',
    );
    expect(await lmtp.say('LHLO a.test\r\n')).toBe(EHLO_REPLY);
    expect(await start().say('LHLO a.test\r\n')).toBe('500 5.5.2 Error: command not recognized\r\n');
  });
});

describe('a mail transaction', () => {
  it('answers a pipelined group in one batch, in order, and queues the message', async () => {
    const { session, backend, say } = start();
    const group = 'EHLO client.test\r\nMAIL FROM:<a@b.test> BODY=8BITMIME\r\nRCPT TO:<c@d.test>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n';
    expect(await say(group)).toBe(
      `${EHLO_REPLY}250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n`,
    );
    expect(await say('Subject: hi\r\n\r\n..dotted\r\n.\r\nQUIT\r\n')).toBe(
      '250 2.0.0 Ok: queued as M1\r\n221 2.0.0 mx.test closing connection\r\n',
    );
    expect(session.closed).toBe(true);
    expect(backend.committed).toEqual([
      {
        id: 'M1',
        data: 'Subject: hi\r\n\r\n.dotted\r\n',
        envelope: {
          protocol: 'smtp',
          helo: 'client.test',
          mailFrom: 'a@b.test',
          mailParams: { BODY: '8BITMIME' },
          recipients: ['c@d.test', 'Postmaster'],
          rcptParams: [{}, {}],
        },
      },
    ]);
  });

  it('reads commands sent in the same chunk as the message, and takes two messages in a row', async () => {
    const { backend, say } = await afterEhlo();
    const output = await say(
      'MAIL FROM:<>\r\nRCPT TO:<c@d.test>\r\nDATA\r\none\r\n.\r\nMAIL FROM:<x@y.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n.\r\nNOOP\r\n',
    );
    expect(output).toBe(
      '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as M1\r\n' +
        '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as M2\r\n' +
        '250 2.0.0 Ok\r\n',
    );
    expect(backend.committed.map((m) => [m.envelope.mailFrom, m.data])).toEqual([
      ['', 'one\r\n'],
      ['x@y.test', ''],
    ]);
  });

  it('answers commands out of sequence with 503, and DATA without recipients with 554', async () => {
    const { say } = await afterEhlo();
    expect(await say('RCPT TO:<c@d.test>\r\nDATA\r\nMAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\nDATA\r\n')).toBe(
      '503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n250 2.1.0 Ok\r\n' +
        '503 5.5.1 Error: nested MAIL command\r\n554 5.5.1 Error: no valid recipients\r\n',
    );
  });

  it('forgets the transaction on RSET and on a new EHLO', async () => {
    const { say } = await afterEhlo();
    expect(await say('MAIL FROM:<a@b.test>\r\nRSET\r\nRCPT TO:<c@d.test>\r\n')).toBe(
      '250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n503 5.5.1 Error: need MAIL command\r\n',
    );
    await say('MAIL FROM:<a@b.test>\r\nEHLO again.test\r\n');
    expect(await say('RCPT TO:<c@d.test>\r\n')).toBe('503 5.5.1 Error: need MAIL command\r\n');
  });

  it.each([
    ['MAIL FROM: <a@b.test>', '501 5.1.7 Bad sender address: no space allowed after the colon'],
    ['MAIL FROM:a@b.test', '501 5.1.7 Bad sender address: the address must be enclosed in <>'],
    ['MAIL FROM:<a@b.test> X\u00e9=1', '501 5.5.4 bad parameter "X?=1"'],
    ['MAIL TO:<a@b.test>', '501 5.5.4 Syntax: MAIL FROM:<address>'],
    ['MAIL', '501 5.5.4 Syntax: MAIL FROM:<address>'],
    ['MAIL FROM:<a@b.test> SIZE=x', '501 5.5.4 Bad SIZE value'],
    ['MAIL FROM:<a@b.test> BODY=BINARYMIME', '501 5.5.4 Bad BODY value, use 7BIT or 8BITMIME'],
    ['MAIL FROM:<a@b.test> SMTPUTF8=yes', '501 5.5.4 SMTPUTF8 takes no value'],
    ['MAIL FROM:<a@b.test> RET=HDRS', '555 5.5.4 Unsupported parameter RET'],
    ['MAIL FROM:<a@b.test>  SIZE=1', '501 5.5.4 extra space between parameters'],
    ['MAIL FROM:<jörg@b.test>', '553 5.6.7 Error: non-ASCII address needs MAIL FROM parameter SMTPUTF8'],
  ])('refuses %j', async (command, reply) => {
    const { say } = await afterEhlo();
    expect(await say(`${command}\r\n`)).toBe(`${reply}\r\n`);
  });

  it.each([
    ['RCPT TO:<>', '501 5.1.3 Bad recipient address: the null path <> is not allowed here'],
    ['RCPT TO:c@d.test', '501 5.1.3 Bad recipient address: the address must be enclosed in <>'],
    ['RCPT FROM:<c@d.test>', '501 5.5.4 Syntax: RCPT TO:<address>'],
    ['RCPT TO:<c@d.test> NOTIFY=NEVER', '555 5.5.4 Unsupported parameter NOTIFY'],
    ['RCPT TO:<jörg@d.test>', '553 5.6.7 Error: non-ASCII address needs MAIL FROM parameter SMTPUTF8'],
  ])('refuses %j after MAIL', async (command, reply) => {
    const { say } = await afterEhlo();
    await say('MAIL FROM:<a@b.test>\r\n');
    expect(await say(`${command}\r\n`)).toBe(`${reply}\r\n`);
  });

  it('takes UTF-8 addresses in an SMTPUTF8 transaction', async () => {
    const { backend, say } = await afterEhlo();
    expect(await say('MAIL FROM:<jörg@bücher.test> SMTPUTF8\r\nRCPT TO:<zoë@d.test>\r\nDATA\r\n.\r\n')).toBe(
      '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as M1\r\n',
    );
    expect(backend.committed[0]?.envelope.recipients).toEqual(['zoë@d.test']);
  });

  it('limits the recipients of one transaction with 452', async () => {
    const { backend, say } = await afterEhlo({ maxRecipients: 2 });
    expect(await say('MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nRCPT TO:<c@x.test>\r\n')).toBe(
      '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n452 4.5.3 Error: too many recipients\r\n',
    );
    await say('DATA\r\n.\r\n');
    expect(backend.committed[0]?.envelope.recipients).toEqual(['a@x.test', 'b@x.test']);
  });

  it('refuses the recipients a hook names, with the hook reply made honest', async () => {
    const refuseRecipient = (address: string) =>
      address.startsWith('nobody')
        ? { code: 550, text: '5.1.1 No such user' }
        : address.startsWith('later')
          ? { code: 450, text: 'Mailbox busy' }
          : undefined;
    const { backend, say } = await afterEhlo({ refuseRecipient });
    expect(await say('MAIL FROM:<>\r\nRCPT TO:<nobody@x.test>\r\nRCPT TO:<later@x.test>\r\nRCPT TO:<ok@x.test>\r\nDATA\r\n.\r\n')).toBe(
      '250 2.1.0 Ok\r\n550 5.1.1 No such user\r\n450 4.0.0 Mailbox busy\r\n250 2.1.5 Ok\r\n' +
        '354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as M1\r\n',
    );
    expect(backend.committed[0]?.envelope.recipients).toEqual(['ok@x.test']);
  });
});

describe('message data', () => {
  it('refuses a message over the size limit after its data, writing none past the limit', async () => {
    const { backend, say } = await afterEhlo({ sizeLimit: 10 });
    expect(await say('MAIL FROM:<> SIZE=11\r\n')).toBe('552 5.3.4 Message size exceeds fixed maximum message size\r\n');
    await say('MAIL FROM:<> SIZE=10\r\nRCPT TO:<a@x.test>\r\nDATA\r\n');
    expect(await say('0123456789\r\n.\r\nNOOP\r\n')).toBe(
      '552 5.3.4 Message size exceeds fixed maximum message size\r\n250 2.0.0 Ok\r\n',
    );
    expect(backend.committed).toEqual([]);
    expect(backend.aborted).toBe(1);
    await say('MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n');
    expect(await say('12345678\r\n.\r\n')).toBe('250 2.0.0 Ok: queued as M1\r\n');
  });

  it('refuses data with a bare LF or CR (RFC 5321 §2.3.8)', async () => {
    const { backend, say } = await afterEhlo();
    await say('MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n');
    expect(await say('line one\nline two\r\n.\r\n')).toBe(
      '554 5.6.0 Error: bare CR or LF in message data (RFC 5321 section 2.3.8)\r\n',
    );
    expect(backend.committed).toEqual([]);
  });

  it('answers 451 when the backend cannot open or commit', async () => {
    const { backend, say } = await afterEhlo();
    backend.failOpen = true;
    expect(await say('MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n')).toBe(
      '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n451 4.3.0 Error: local error in processing\r\n',
    );
    backend.failOpen = false;
    backend.failCommit = true;
    await say('DATA\r\n');
    expect(await say('x\r\n.\r\n')).toBe('451 4.3.0 Error: local error in processing\r\n');
    expect(backend.aborted).toBe(1);
  });

  it('aborts a half-received message when the connection ends', async () => {
    const { session, backend, say } = await afterEhlo();
    await say('MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nhalf a mess');
    await session.end();
    expect(backend.aborted).toBe(1);
    expect(backend.committed).toEqual([]);
  });
});

describe('LMTP', () => {
  const lmtpDeliveryReply = (address: string) =>
    address.startsWith('full') ? { code: 452, text: '4.2.2 Mailbox full' } : undefined;

  it('answers the data once per accepted recipient and delivers to those that succeeded', async () => {
    const refuseRecipient = (address: string) =>
      address.startsWith('nobody') ? { code: 550, text: '5.1.1 No such user' } : undefined;
    const { backend, say } = await afterEhlo({ protocol: 'lmtp', lmtpDeliveryReply, refuseRecipient });
    await say('MAIL FROM:<a@b.test>\r\nRCPT TO:<one@x.test>\r\nRCPT TO:<nobody@x.test>\r\nRCPT TO:<full@x.test>\r\n');
    await say('RCPT TO:<two@x.test>\r\nDATA\r\n');
    expect(await say('hello\r\n.\r\n')).toBe(
      '250 2.0.0 <one@x.test> Ok: queued as M1\r\n452 4.2.2 Mailbox full\r\n250 2.0.0 <two@x.test> Ok: queued as M1\r\n',
    );
    expect(backend.committed.map((m) => m.envelope)).toEqual([
      expect.objectContaining({ protocol: 'lmtp', recipients: ['one@x.test', 'two@x.test'], rcptParams: [{}, {}] }),
    ]);
  });

  it('stores nothing when every recipient fails, and refuses a too-big message per recipient', async () => {
    const { backend, say } = await afterEhlo({ protocol: 'lmtp', lmtpDeliveryReply, sizeLimit: 4 });
    await say('MAIL FROM:<>\r\nRCPT TO:<full@x.test>\r\nDATA\r\n');
    expect(await say('hi\r\n.\r\n')).toBe('452 4.2.2 Mailbox full\r\n');
    await say('MAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nDATA\r\n');
    expect(await say('too big\r\n.\r\n')).toBe(
      '552 5.3.4 Message size exceeds fixed maximum message size\r\n'.repeat(2),
    );
    expect(backend.committed).toEqual([]);
    expect(backend.aborted).toBe(2);
  });
});

describe('other commands', () => {
  it('answers NOOP, VRFY, HELP, and QUIT, ignoring what follows QUIT', async () => {
    const { session, say } = start();
    expect(await say('NOOP\r\nnoop anything\r\nVRFY someone\r\nVRFY\r\nHELP\r\nQUIT\r\nNOOP\r\n')).toBe(
      '250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n' +
        '252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n' +
        '501 5.5.4 Syntax: VRFY <address>\r\n' +
        '214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n' +
        '221 2.0.0 mx.test closing connection\r\n',
    );
    expect(session.closed).toBe(true);
  });

  it('refuses arguments where the grammar has none', async () => {
    const { session, say } = await afterEhlo();
    expect(await say('RSET now\r\nDATA please\r\nQUIT \r\n')).toBe(
      '501 5.5.4 Syntax: RSET\r\n501 5.5.4 Syntax: DATA\r\n501 5.5.4 Syntax: QUIT\r\n',
    );
    expect(session.closed).toBe(false);
  });

  it('tells unknown commands (500) from known ones it does not implement (502)', async () => {
    const { say } = await afterEhlo();
    expect(await say('FROB\r\n\r\nSTARTTLS\r\nAUTH PLAIN\r\nEXPN list\r\n')).toBe(
      '500 5.5.2 Error: command not recognized\r\n'.repeat(2) + '502 5.5.1 Error: command not implemented\r\n'.repeat(3),
    );
  });

  it('refuses over-long lines, invalid UTF-8 and control characters, and carries on', async () => {
    const { say } = await afterEhlo({ maxLineLength: 20 });
    const input = Buffer.concat([
      Buffer.from(`NOOP ${'x'.repeat(40)}\r\nNOOP\r\n`),
      Buffer.from([0x4e, 0x4f, 0x4f, 0x50, 0x20, 0xff, 0x0d, 0x0a]),
      Buffer.from('NOOP a\0b\r\nNOOP\rx\r\nNOOP\r\n'),
    ]);
    expect(await say(input)).toBe(
      '500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n500 5.5.2 Error: invalid UTF-8 in command\r\n' +
        '500 5.5.2 Error: control character in command\r\n'.repeat(2) +
        '250 2.0.0 Ok\r\n',
    );
  });

  it('says goodbye with 421 on timeout', () => {
    const { session } = start();
    expect(session.timeout()).toBe('421 4.4.2 mx.test Error: timeout exceeded\r\n');
    expect(session.closed).toBe(true);
  });

  it('reports both directions to the transcript hook, message data as a count', async () => {
    const lines: string[] = [];
    const { session, say } = start({ onTranscript: (direction, line) => lines.push(`${direction}: ${line}`) });
    session.greeting();
    await say('HELO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@x.test>\r\nDATA\r\nabc\r\n.\r\n');
    expect(lines).toEqual([
      'S: 220 mx.test ESMTP outbox',
      'C: HELO c.test',
      'S: 250 mx.test',
      'C: MAIL FROM:<>',
      'S: 250 2.1.0 Ok',
      'C: RCPT TO:<a@x.test>',
      'S: 250 2.1.5 Ok',
      'C: DATA',
      'S: 354 End data with <CR><LF>.<CR><LF>',
      'C: [5 octets of message data]',
      'S: 250 2.0.0 Ok: queued as M1',
    ]);
  });
});
