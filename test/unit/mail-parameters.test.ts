import { describe, expect, it } from 'vitest';
import { prepareEnvelope } from '../../src/delivery/mail-parameters.js';
import { Capabilities } from '../../src/smtp/capabilities.js';
import { makeReply } from '../../src/smtp/reply.js';
import { thrownOutboxError } from '../helpers/thrown.js';

const caps = (...keywords: string[]) => Capabilities.fromEhloReply(makeReply(250, ['mx.example', ...keywords]));
const envelope = { reversePath: 'a@example.com', recipients: ['b@example.net'] };


describe('prepareEnvelope', () => {
  it('declares SIZE and BODY=8BITMIME only when offered and true', () => {
    expect(prepareEnvelope(caps('SIZE 1000', '8BITMIME'), envelope, { octets: 500, has8bit: true }).mailParams).toEqual([['SIZE', '500'], ['BODY', '8BITMIME']]);
    expect(prepareEnvelope(caps('SIZE', '8BITMIME'), envelope, { octets: 500, has8bit: false }).mailParams).toEqual([['SIZE', '500']]);
    expect(prepareEnvelope(caps('8BITMIME'), envelope, { octets: 500, has8bit: true }).mailParams).toEqual([['BODY', '8BITMIME']]);
    expect(prepareEnvelope(caps(), envelope, { octets: 500, has8bit: true }).mailParams).toEqual([]);
  });

  it('refuses a mail over the advertised SIZE before anything is sent', () => {
    const error = thrownOutboxError(() => prepareEnvelope(caps('SIZE 1000'), envelope, { octets: 1001, has8bit: false }));
    expect(error.code).toBe('E_SIZE_EXCEEDED');
    expect(error.message).toContain('1001 octets');
    expect(prepareEnvelope(caps('SIZE 1000'), envelope, { octets: 1000, has8bit: false }).mailParams).toEqual([['SIZE', '1000']]);
    expect(prepareEnvelope(caps('SIZE 0'), envelope, { octets: 10 ** 9, has8bit: false }).mailParams).toEqual([['SIZE', '1000000000']]);
  });

  it('asks for SMTPUTF8 when an address is not ASCII and the server offers it', () => {
    const utf8 = { reversePath: 'jörg@example.com', recipients: ['b@bücher.example'] };
    const prepared = prepareEnvelope(caps('SMTPUTF8'), utf8, undefined);
    expect(prepared.mailParams).toEqual([['SMTPUTF8', true]]);
    expect(prepared.recipients).toEqual(['b@bücher.example']);
  });

  it('without SMTPUTF8: domains as punycode, a non-ASCII local part refused', () => {
    const prepared = prepareEnvelope(caps(), { reversePath: 'a@example.com', recipients: ['b@Bücher.example'] }, undefined);
    expect(prepared.recipients).toEqual(['b@xn--bcher-kva.example']);
    expect(prepared.mailParams).toEqual([]);
    const error = thrownOutboxError(() => prepareEnvelope(caps(), { reversePath: 'jörg@example.com', recipients: ['b@example.net'] }, undefined));
    expect(error.code).toBe('E_BAD_DATA');
    expect(error.message).toContain('jörg@example.com');
  });

  it('DSN: RET and ENVID on MAIL, NOTIFY and ORCPT on each RCPT, xtext-encoded', () => {
    const prepared = prepareEnvelope(caps('DSN'), { reversePath: 'a@example.com', recipients: ['b+tag@example.net', 'c@example.net'] }, undefined, { notify: 'FAILURE,DELAY', ret: 'HDRS', envid: 'id=1 2' });
    expect(prepared.mailParams).toEqual([['RET', 'HDRS'], ['ENVID', 'id+3D1+202']]);
    expect(prepared.rcptParams).toEqual([
      [['NOTIFY', 'FAILURE,DELAY'], ['ORCPT', 'rfc822;b+2Btag@example.net']],
      [['NOTIFY', 'FAILURE,DELAY'], ['ORCPT', 'rfc822;c@example.net']],
    ]);
  });

  it('DSN asked for but not offered: 69 before anything is sent (as msmtp)', () => {
    const error = thrownOutboxError(() => prepareEnvelope(caps('PIPELINING'), envelope, undefined, { notify: 'NEVER' }));
    expect(error.code).toBe('E_CAPABILITY');
    expect(prepareEnvelope(caps(), envelope, undefined, {}).rcptParams).toEqual([[]]);
  });
});

