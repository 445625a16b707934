import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatJsonRecord } from '../../src/log/json-line.js';
import type { LogRecord } from '../../src/log/log-record.js';

const startedAt = new Date('2026-11-21T21:41:20.000Z');
const now = new Date('2026-11-21T21:41:21.250Z');

describe('logfile_format json', () => {
  it('a delivered mail: every field, in a fixed order, on one line', () => {
    const record: LogRecord = {
      host: 'smtp.example.org', tls: true, auth: true, user: 'joe', from: 'a@example.org',
      recipients: ['good@example.org', 'other@example.org'], mailsize: 151,
      reply: { code: 250, enhanced: '2.0.0', lines: ['2.0.0 queued as X'] }, exitStatus: 0,
      perRecipient: [
        { recipient: 'good@example.org', code: 250, enhanced: '2.1.5', text: '2.1.5 ok', delivered: true },
        { recipient: 'other@example.org', code: 251, text: 'will forward', delivered: true },
      ],
      tlsProtocol: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', authMechanism: 'SCRAM-SHA-256',
      octetsSent: 160, phasesMs: { connect: 3, greeting: 1, tls: 12, auth: 4, envelope: 2, data: 5 }, startedAt,
    };
    expect(formatJsonRecord(record, { now })).toBe(
      '{"v":1,"time":"2026-11-21T21:41:21.250Z","startedAt":"2026-11-21T21:41:20.000Z","durationMs":1250,' +
        '"host":"smtp.example.org","tls":true,"tlsProtocol":"TLSv1.3","tlsCipher":"TLS_AES_256_GCM_SHA384",' +
        '"auth":true,"user":"joe","authMechanism":"SCRAM-SHA-256","from":"a@example.org",' +
        '"recipients":["good@example.org","other@example.org"],"mailsize":151,"octetsSent":160,' +
        '"smtpstatus":250,"enhanced":"2.0.0","smtpmsg":["250 2.0.0 queued as X"],"exitcode":"EX_OK","status":0,' +
        '"perRecipient":[{"recipient":"good@example.org","delivered":true,"code":250,"enhanced":"2.1.5","text":"2.1.5 ok"},' +
        '{"recipient":"other@example.org","delivered":true,"code":251,"text":"will forward"}],' +
        '"phasesMs":{"connect":3,"greeting":1,"tls":12,"auth":4,"envelope":2,"data":5}}',
    );
  });

  it('a failure: msmtp\'s presence rules (no mailsize, errormsg), text left as the server sent it', () => {
    const record: LogRecord = {
      socket: '/run/smtp.sock', host: 'ignored', tls: false, auth: false, user: 'not-logged', from: '',
      recipients: ["o'brien@example.org"], mailsize: 99, exitStatus: 65,
      reply: { code: 550, enhanced: '5.1.1', lines: ["5.1.1 o'brien\tunknown", 'see https://example.org/why'] },
      errormsg: "recipient address o'brien@example.org not accepted by the server",
      perRecipient: [{ recipient: "o'brien@example.org", code: 550, enhanced: '5.1.1', text: "5.1.1 o'brien\tunknown\nsee https://example.org/why", delivered: false }],
      startedAt,
    };
    const text = formatJsonRecord(record, { now });
    expect(text).not.toContain('\n');
    expect(JSON.parse(text)).toEqual({
      v: 1, time: '2026-11-21T21:41:21.250Z', startedAt: '2026-11-21T21:41:20.000Z', durationMs: 1250,
      socket: '/run/smtp.sock', tls: false, auth: false, from: '', recipients: ["o'brien@example.org"],
      smtpstatus: 550, enhanced: '5.1.1', smtpmsg: ["550-5.1.1 o'brien\tunknown", '550 see https://example.org/why'],
      errormsg: "recipient address o'brien@example.org not accepted by the server",
      exitcode: 'EX_DATAERR', status: 65,
      perRecipient: [{ recipient: "o'brien@example.org", delivered: false, code: 550, enhanced: '5.1.1', text: "5.1.1 o'brien\tunknown\nsee https://example.org/why" }],
    });
  });

  it('no reply (connection refused): no smtpstatus, smtpmsg or enhanced', () => {
    const parsed = JSON.parse(formatJsonRecord({ host: 'h', tls: false, auth: false, from: 'a@x', recipients: ['b@x'], exitStatus: 75, errormsg: 'cannot connect', startedAt }, { now }));
    expect(Object.keys(parsed)).toEqual(['v', 'time', 'startedAt', 'durationMs', 'host', 'tls', 'auth', 'from', 'recipients', 'errormsg', 'exitcode', 'status']);
    expect(parsed.exitcode).toBe('EX_TEMPFAIL');
  });

  it('property: always exactly one line of valid JSON, whatever the text (U+2028/U+2029 escaped too)', () => {
    const text = fc.string({ unit: 'grapheme-composite', maxLength: 30 });
    const anyText = fc.oneof(text, fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('\u2028', 'a\u2029b', '\ud800'));
    fc.assert(
      fc.property(anyText, fc.array(anyText, { minLength: 1, maxLength: 3 }), anyText, (from, lines, errormsg) => {
        const out = formatJsonRecord({ host: 'h', tls: false, auth: false, from, recipients: [from], reply: { code: 451, lines }, errormsg, exitStatus: 75, startedAt }, { now });
        expect(out).not.toMatch(/[\n\r\u2028\u2029]/);
        const parsed = JSON.parse(out);
        if (!/[\ud800-\udfff]/.test(from)) expect(parsed.from).toBe(from);
        expect(parsed.smtpmsg).toHaveLength(lines.length);
      }),
    );
  });
});
