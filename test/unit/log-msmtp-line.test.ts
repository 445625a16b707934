import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exitCodeName, rawReplyLines, type LogRecord } from '../../src/log/log-record.js';
import { formatLogInfo, formatLogLine, logTimeStamp, quotable } from '../../src/log/msmtp-line.js';

/**
 * Expected lines are the ones msmtp 1.8.23 wrote for the same cases (the
 * commands and the scripted server are in docs/logging.md, "Checked against
 * msmtp"); the records hold what outbox knows about the same attempt. The
 * container ran in UTC, so the times are formatted in UTC here.
 */
const base: LogRecord = {
  host: '127.0.0.1',
  tls: false,
  auth: false,
  from: 'a@example.org',
  recipients: ['x@example.org'],
  exitStatus: 0,
  startedAt: new Date('2026-11-21T21:41:20Z'),
};
const at = (time: string) => new Date(`2026-11-21T${time}Z`);
const line = (record: LogRecord, now: Date, timeFormat: string | null = null) =>
  formatLogLine(record, { now, timeFormat, timeZone: 'UTC' });

describe('the log line matches msmtp 1.8.23 byte for byte', () => {
  const cases: Array<{ name: string; record: LogRecord; now: Date; timeFormat?: string; msmtp: string }> = [
    {
      name: 'success with two recipients: mailsize and the final 250',
      record: {
        ...base, recipients: ['good@example.org', 'bad@example.org'], mailsize: 151,
        reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] },
      },
      now: at('21:41:21'),
      msmtp: "Nov 21 21:41:21 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=good@example.org,bad@example.org mailsize=151 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK",
    },
    {
      name: 'a refused recipient: every recipient listed, the failing RCPT reply, no mailsize',
      record: {
        ...base, recipients: ['good@example.org', 'bad@example.org'], mailsize: 151, exitStatus: 65,
        reply: { code: 550, enhanced: '5.1.1', lines: ['5.1.1 no such user'] },
        errormsg: 'recipient address bad@example.org not accepted by the server',
      },
      now: at('21:41:21'),
      msmtp: "Nov 21 21:41:21 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=good@example.org,bad@example.org smtpstatus=550 smtpmsg='550 5.1.1 no such user' errormsg='recipient address bad@example.org not accepted by the server' exitcode=EX_DATAERR",
    },
    {
      name: 'a multi-line reply joined with a literal \\n, its quote turned into ?',
      record: { ...base, mailsize: 151, reply: { code: 250, lines: ['first line', `it's "quoted"`, '2.0.0 queued as X'] } },
      now: at('21:41:21'),
      msmtp: `Nov 21 21:41:21 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250-first line\\n250-it?s "quoted"\\n250 2.0.0 queued as X' exitcode=EX_OK`,
    },
    {
      name: 'control characters in the reply become ?, other characters stay',
      record: { ...base, mailsize: 151, reply: { code: 250, lines: ['ok\ttab\x01ctl\x7fdel é end'] } },
      now: at('21:41:21'),
      msmtp: "Nov 21 21:41:21 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250 ok?tab?ctl?del é end' exitcode=EX_OK",
    },
    {
      name: 'the final dot refused',
      record: {
        ...base, exitStatus: 69, reply: { code: 554, enhanced: '5.7.1', lines: ['5.7.1 content rejected'] },
        errormsg: 'the server did not accept the mail',
      },
      now: at('21:41:22'),
      msmtp: "Nov 21 21:41:22 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org smtpstatus=554 smtpmsg='554 5.7.1 content rejected' errormsg='the server did not accept the mail' exitcode=EX_UNAVAILABLE",
    },
    {
      name: 'auth on with a user name: user=',
      record: { ...base, auth: true, user: 'joe', mailsize: 151, reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] } },
      now: at('21:41:22'),
      msmtp: "Nov 21 21:41:22 host=127.0.0.1 tls=off auth=on user=joe from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK",
    },
    {
      name: 'auth on without a user name, and no server reply to log',
      record: { ...base, auth: true, exitStatus: 69, errormsg: 'cannot use a secure authentication method' },
      now: at('21:41:28'),
      msmtp: "Nov 21 21:41:28 host=127.0.0.1 tls=off auth=on from=a@example.org recipients=x@example.org errormsg='cannot use a secure authentication method' exitcode=EX_UNAVAILABLE",
    },
    {
      name: 'a quote in a recipient: kept in recipients=, turned into ? inside the quoted fields',
      record: {
        ...base, recipients: ["o'brien@example.org"], exitStatus: 65,
        reply: { code: 550, enhanced: '5.1.1', lines: ["5.1.1 o'brien unknown"] },
        errormsg: "recipient address o'brien@example.org not accepted by the server",
      },
      now: at('21:41:22'),
      msmtp: "Nov 21 21:41:22 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=o'brien@example.org smtpstatus=550 smtpmsg='550 5.1.1 o?brien unknown' errormsg='recipient address o?brien@example.org not accepted by the server' exitcode=EX_DATAERR",
    },
    {
      name: 'a 421 greeting',
      record: {
        ...base, exitStatus: 76, reply: { code: 421, enhanced: '4.3.2', lines: ['4.3.2 busy'] },
        errormsg: 'cannot get initial OK message from server',
      },
      now: at('21:41:22'),
      msmtp: "Nov 21 21:41:22 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org smtpstatus=421 smtpmsg='421 4.3.2 busy' errormsg='cannot get initial OK message from server' exitcode=EX_PROTOCOL",
    },
    {
      name: 'MAIL FROM refused with 451 (msmtp exits 69; outbox exits 75, which only changes the name)',
      record: {
        ...base, exitStatus: 69, reply: { code: 451, enhanced: '4.3.0', lines: ['4.3.0 try later'] },
        errormsg: 'envelope from address a@example.org not accepted by the server',
      },
      now: at('21:41:22'),
      msmtp: "Nov 21 21:41:22 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org smtpstatus=451 smtpmsg='451 4.3.0 try later' errormsg='envelope from address a@example.org not accepted by the server' exitcode=EX_UNAVAILABLE",
    },
    {
      name: 'connection refused: no reply, so no smtpstatus or smtpmsg',
      record: { ...base, exitStatus: 75, errormsg: 'cannot connect to 127.0.0.1, port 1: Connection refused' },
      now: at('21:41:23'),
      msmtp: "Nov 21 21:41:23 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org errormsg='cannot connect to 127.0.0.1, port 1: Connection refused' exitcode=EX_TEMPFAIL",
    },
    {
      name: 'a unix socket: socket= instead of host=',
      record: { ...base, host: 'localhost', socket: '/tmp/outbox-probe.sock', mailsize: 151, reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] } },
      now: at('21:41:28'),
      msmtp: "Nov 21 21:41:28 socket=/tmp/outbox-probe.sock tls=off auth=off from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK",
    },
    {
      name: 'a unix socket that is not there',
      record: { ...base, socket: '/tmp/outbox-probe.sock', exitStatus: 75, errormsg: 'cannot connect to /tmp/outbox-probe.sock: No such file or directory' },
      now: at('21:41:28'),
      msmtp: "Nov 21 21:41:28 socket=/tmp/outbox-probe.sock tls=off auth=off from=a@example.org recipients=x@example.org errormsg='cannot connect to /tmp/outbox-probe.sock: No such file or directory' exitcode=EX_TEMPFAIL",
    },
    {
      name: 'logfile_time_format %Y-%m-%dT%H:%M:%S%z',
      record: { ...base, mailsize: 151, reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] } },
      now: at('21:41:22'),
      timeFormat: '%Y-%m-%dT%H:%M:%S%z',
      msmtp: "2026-11-21T21:41:22+0000 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK",
    },
    {
      name: 'an empty logfile_time_format means the default',
      record: { ...base, mailsize: 151, reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] } },
      now: at('21:41:23'),
      timeFormat: '',
      msmtp: "Nov 21 21:41:23 host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK",
    },
  ];
  for (const c of cases) {
    it(c.name, () => expect(line(c.record, c.now, c.timeFormat ?? null)).toBe(c.msmtp));
  }

  it('logfile_time_format none drops the time and its space (msmtp 1.8.33; 1.8.23 wrote "none" literally)', () => {
    const record: LogRecord = { ...base, mailsize: 151, reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] } };
    const msmtp1823 = "none host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=151 smtpstatus=250 smtpmsg='250 2.0.0 queued as X' exitcode=EX_OK";
    expect(line(record, at('21:41:22'), 'none')).toBe(msmtp1823.slice('none '.length));
  });

  it('"log info was:" is the line without the time, as msmtp prints it when it cannot log', () => {
    const record: LogRecord = { ...base, exitStatus: 75, errormsg: 'cannot connect to 127.0.0.1, port 1: Connection refused' };
    expect(formatLogInfo(record)).toBe(
      "host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org errormsg='cannot connect to 127.0.0.1, port 1: Connection refused' exitcode=EX_TEMPFAIL",
    );
  });
});

describe('field rules', () => {
  const ok: LogRecord = { ...base, mailsize: 10, reply: { code: 250, lines: ['ok'] } };

  it('user= needs auth on and a non-empty user', () => {
    expect(formatLogInfo({ ...ok, auth: false, user: 'joe' })).not.toContain('user=');
    expect(formatLogInfo({ ...ok, auth: true, user: '' })).not.toContain('user=');
    expect(formatLogInfo({ ...ok, auth: true, user: 'joe' })).toContain(' auth=on user=joe from=');
  });

  it('mailsize only on success; errormsg only on failure, and only when there is one', () => {
    expect(formatLogInfo({ ...ok, errormsg: 'ignored' })).toBe("host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org mailsize=10 smtpstatus=250 smtpmsg='250 ok' exitcode=EX_OK");
    expect(formatLogInfo({ ...ok, exitStatus: 69 })).toBe("host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org smtpstatus=250 smtpmsg='250 ok' exitcode=EX_UNAVAILABLE");
    expect(formatLogInfo({ ...ok, exitStatus: 69, errormsg: '' })).not.toContain('errormsg');
  });

  it('tls=on; an empty envelope sender; the LMTP partial-failure message', () => {
    const record: LogRecord = {
      ...base, tls: true, from: '', recipients: ['a@x', 'b@x'], exitStatus: 69,
      reply: { code: 550, lines: ['5.1.1 b unknown'] }, errormsg: 'delivery to one or more recipients failed',
    };
    expect(formatLogInfo(record)).toBe("host=127.0.0.1 tls=on auth=off from= recipients=a@x,b@x smtpstatus=550 smtpmsg='550 5.1.1 b unknown' errormsg='delivery to one or more recipients failed' exitcode=EX_UNAVAILABLE");
  });

  it('control characters in errormsg become ?, like quotes', () => {
    expect(formatLogInfo({ ...base, exitStatus: 74, errormsg: "it's\r\nbroken\x1b[0m" })).toContain("errormsg='it?s??broken?[0m' ");
  });

  it('no value can break the line: control characters in the unquoted fields become ? too (msmtp writes them raw)', () => {
    const info = formatLogInfo({ ...base, host: 'h\nx', from: 'a\r@x', recipients: ['b\n@x'], auth: true, user: 'u\x00' });
    expect(info).toBe('host=h?x tls=off auth=on user=u? from=a?@x recipients=b?@x exitcode=EX_OK');
  });

  it('a reply without text, and an empty line inside a multi-line reply', () => {
    expect(formatLogInfo({ ...ok, reply: { code: 250, lines: [''] } })).toContain("smtpmsg='250' ");
    expect(formatLogInfo({ ...ok, reply: { code: 250, lines: [] } })).toContain("smtpmsg='250' ");
    expect(formatLogInfo({ ...ok, reply: { code: 250, lines: ['', 'done'] } })).toContain("smtpmsg='250-\\n250 done' ");
  });

  it('exit status names: sysexits.h as msmtp spells them, BUG:UNKNOWN otherwise, or a given table', () => {
    const names = [0, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78].map((s) => exitCodeName(s));
    expect(names).toEqual([
      'EX_OK', 'EX_USAGE', 'EX_DATAERR', 'EX_NOINPUT', 'EX_NOUSER', 'EX_NOHOST', 'EX_UNAVAILABLE', 'EX_SOFTWARE',
      'EX_OSERR', 'EX_OSFILE', 'EX_CANTCREAT', 'EX_IOERR', 'EX_TEMPFAIL', 'EX_PROTOCOL', 'EX_NOPERM', 'EX_CONFIG',
    ]);
    expect(exitCodeName(1)).toBe('BUG:UNKNOWN');
    expect(formatLogInfo({ ...base, exitStatus: 3 }, { 3: 'EX_THREE' })).toMatch(/ exitcode=EX_THREE$/);
  });

  it('raw reply lines put the code and separator back', () => {
    expect(rawReplyLines({ code: 250, lines: ['a', 'b', 'c'] })).toEqual(['250-a', '250-b', '250 c']);
  });

  it('time stamps: the default, none, a format, a zone', () => {
    const now = new Date('2026-03-05T07:08:09Z');
    expect(logTimeStamp(null, now, 'UTC')).toBe('Mar 05 07:08:09');
    expect(logTimeStamp(undefined, now, 'UTC')).toBe('Mar 05 07:08:09');
    expect(logTimeStamp('none', now, 'UTC')).toBeUndefined();
    expect(logTimeStamp('%F %T %Z', now, 'Europe/Berlin')).toBe('2026-03-05 08:08:09 CET');
  });

  it('property: the line is one line, its quoted fields hold no quote, and it ends with the exit code', () => {
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), text, fc.integer({ min: 200, max: 599 }), fc.constantFrom(0, 65, 75), (lines, errormsg, code, exitStatus) => {
        const info = formatLogInfo({ ...base, exitStatus, errormsg, mailsize: 1, reply: { code, lines } });
        expect(info).not.toMatch(/[\x00-\x1f\x7f]/);
        const quoted = [...info.matchAll(/(smtpmsg|errormsg)='([^']*)'/g)].map((m) => m[1]);
        expect(quoted).toContain('smtpmsg');
        expect(info).toMatch(/ exitcode=EX_[A-Z]+$/);
        for (const l of lines) expect(quotable(l)).not.toMatch(/['\x00-\x1f\x7f]/);
      }),
    );
  });
});
