/** The Received field's parts (RFC 5321 §4.4, RFC 3848, RFC 6531 §3.7.3, RFC 5322 §3.3). */
import { describe, expect, it } from 'vitest';
import { protocolWord, receivedField, receivedId, rfc5322Date } from '../../src/server/received.js';

describe('Received', () => {
  it.each([
    [{ lmtp: false, extended: false, smtputf8: false, tls: true, authenticated: true }, 'SMTP'],
    [{ lmtp: false, extended: true, smtputf8: false, tls: false, authenticated: false }, 'ESMTP'],
    [{ lmtp: false, extended: true, smtputf8: false, tls: true, authenticated: false }, 'ESMTPS'],
    [{ lmtp: false, extended: true, smtputf8: false, tls: false, authenticated: true }, 'ESMTPA'],
    [{ lmtp: false, extended: true, smtputf8: false, tls: true, authenticated: true }, 'ESMTPSA'],
    [{ lmtp: true, extended: true, smtputf8: false, tls: true, authenticated: true }, 'LMTPSA'],
    [{ lmtp: false, extended: true, smtputf8: true, tls: true, authenticated: false }, 'UTF8SMTPS'],
  ])('names the protocol %j as %s', (facts, word) => {
    expect(protocolWord(facts)).toBe(word);
  });

  it('writes dates as RFC 5322 does, in UTC', () => {
    expect(rfc5322Date(new Date(Date.UTC(2026, 0, 4, 3, 2, 1)))).toBe('Sun, 04 Jan 2026 03:02:01 +0000');
  });

  it('makes 12 hex digit ids', () => {
    expect(receivedId()).toMatch(/^[0-9A-F]{12}$/);
  });

  it('lays the field out on three lines, with the client\'s host name when it is known', () => {
    expect(
      receivedField({
        helo: '[192.0.2.1]',
        remoteHost: 'client.example',
        remoteAddress: '192.0.2.1',
        hostname: 'mx.test',
        protocol: 'ESMTPS',
        id: 'ABCDEF012345',
        recipients: ['a@b.test'],
        date: new Date(Date.UTC(2026, 11, 5, 6, 50, 0)),
      }),
    ).toBe(
      'Received: from [192.0.2.1] (client.example [192.0.2.1])\r\n\tby mx.test (outbox) with ESMTPS id ABCDEF012345\r\n' +
        '\tfor <a@b.test>; Sat, 05 Dec 2026 06:50:00 +0000\r\n',
    );
  });
});
