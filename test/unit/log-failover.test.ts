/**
 * The log after a fall-over (issue 16): msmtp's line and the JSON object gain
 * `account` and `failover` only then; a line without them is msmtp's, byte
 * for byte, as before.
 */
import { describe, expect, it } from 'vitest';
import { formatJsonRecord } from '../../src/log/json-line.js';
import type { LogRecord } from '../../src/log/log-record.js';
import { formatLogInfo } from '../../src/log/msmtp-line.js';

const base: LogRecord = {
  host: 'b.example',
  tls: true,
  auth: false,
  from: 'a@example.com',
  recipients: ['r@example.net'],
  mailsize: 10,
  reply: { code: 250, lines: ['2.0.0 ok'] },
  exitStatus: 0,
  startedAt: new Date('2026-12-05T10:00:00Z'),
};

const fellOver: LogRecord = {
  ...base,
  account: 'b',
  failover: [
    { account: 'a', errormsg: "cannot connect to a.example port 25: it's refused" },
    { account: 'x', errormsg: 'the SMTP server at x.example refused the session', reply: { code: 421, lines: ['4.3.2 busy', 'later'] } },
  ],
};

describe('msmtp line', () => {
  it('is unchanged without a fall-over', () => {
    expect(formatLogInfo(base)).toBe("host=b.example tls=on auth=off from=a@example.com recipients=r@example.net mailsize=10 smtpstatus=250 smtpmsg='250 2.0.0 ok' exitcode=EX_OK");
  });

  it('names the account and those fallen over, quoted as msmtp quotes, before the queue fields and the exit code', () => {
    expect(formatLogInfo({ ...fellOver, queue: { id: 'Q1', event: 'delivered' } })).toBe(
      "host=b.example tls=on auth=off from=a@example.com recipients=r@example.net mailsize=10 smtpstatus=250 smtpmsg='250 2.0.0 ok' "
      + "account=b failover='a: cannot connect to a.example port 25: it?s refused; x: the SMTP server at x.example refused the session (421-4.3.2 busy / 421 later)' "
      + 'queue=delivered queueid=Q1 exitcode=EX_OK',
    );
  });
});

describe('JSON', () => {
  it('has no account or failover member without a fall-over', () => {
    const json = JSON.parse(formatJsonRecord(base, { now: new Date('2026-12-05T10:00:01Z') })) as Record<string, unknown>;
    expect(json).not.toHaveProperty('account');
    expect(json).not.toHaveProperty('failover');
  });

  it('lists the accounts fallen over, each with its error and reply', () => {
    const json = JSON.parse(formatJsonRecord(fellOver, { now: new Date('2026-12-05T10:00:01Z') })) as Record<string, unknown>;
    expect(json['account']).toBe('b');
    expect(json['failover']).toEqual([
      { account: 'a', errormsg: "cannot connect to a.example port 25: it's refused" },
      { account: 'x', errormsg: 'the SMTP server at x.example refused the session', smtpstatus: 421, smtpmsg: ['421-4.3.2 busy', '421 later'] },
    ]);
  });
});
