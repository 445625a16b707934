import { describe, expect, it } from 'vitest';
import { chooseMechanism, type ChooseOptions } from '../../src/sasl/choose.js';

const ALL = ['LOGIN', 'PLAIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS', 'EXTERNAL', 'OAUTHBEARER', 'XOAUTH2', 'GSSAPI', 'NTLM', 'DIGEST-MD5'];
const TLS_CB: ChooseOptions = { tls: true, channelBinding: true, requested: 'on' };
const TLS: ChooseOptions = { tls: true, channelBinding: false, requested: 'on' };
const PLAINTEXT: ChooseOptions = { tls: false, channelBinding: false, requested: 'on' };

const chosen = (offered: readonly string[], options: ChooseOptions): string | undefined => {
  const result = chooseMechanism(offered, options);
  return 'mechanism' in result ? result.mechanism : undefined;
};
/** The refusal's text; its code says what is missing: the server's offer (E_CAPABILITY), our credentials, or outbox's support. */
const refusal = (offered: readonly string[], options: ChooseOptions, code = 'E_CAPABILITY'): string => {
  const result = chooseMechanism(offered, options);
  if ('mechanism' in result) throw new Error(`chose ${result.mechanism}`);
  expect(result.code).toBe(code);
  return result.error;
};

describe('auth on', () => {
  // Take the best offered mechanism away one at a time: the order of preference.
  it.each([
    ['with TLS and channel binding', TLS_CB, ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'CRAM-MD5', 'LOGIN']],
    ['with TLS without channel binding', TLS, ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'CRAM-MD5', 'LOGIN']],
    ['without TLS', PLAINTEXT, ['SCRAM-SHA-256', 'SCRAM-SHA-1']],
  ])('chooses %s in this order', (_what, options, order) => {
    const offered = [...ALL];
    for (const expected of order) {
      expect(chosen(offered, options)).toBe(expected);
      offered.splice(offered.indexOf(expected), 1);
    }
    expect(chosen(offered, options)).toBeUndefined();
  });

  it.each([
    [['PLAIN', 'LOGIN'], TLS, 'PLAIN'],
    [['LOGIN', 'CRAM-MD5'], TLS, 'CRAM-MD5'],
    [['login'], TLS, 'LOGIN'],
    [['SCRAM-SHA-1', 'PLAIN'], PLAINTEXT, 'SCRAM-SHA-1'],
    [['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], TLS, 'SCRAM-SHA-256'],
    [['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], PLAINTEXT, 'SCRAM-SHA-256'],
    [['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256'], TLS_CB, 'SCRAM-SHA-1-PLUS'],
  ])('offered %j, %j: %s', (offered, options, expected) => {
    expect(chosen(offered, options)).toBe(expected);
  });

  it('never sends a readable password without TLS', () => {
    const error = refusal(['PLAIN', 'LOGIN', 'CRAM-MD5'], PLAINTEXT);
    expect(error).toMatch(/no authentication method that keeps the password secret without TLS/);
    expect(error).toMatch(/it offers: PLAIN LOGIN CRAM-MD5/);
    expect(error).toMatch(/tls on/);
  });

  it('never uses -PLUS without TLS, even when channel binding is claimed', () => {
    expect(refusal(['SCRAM-SHA-256-PLUS'], { ...PLAINTEXT, channelBinding: true })).toMatch(/without TLS/);
  });

  it('never chooses EXTERNAL, OAUTHBEARER or XOAUTH2, and says how to name them', () => {
    const error = refusal(['XOAUTH2', 'OAUTHBEARER', 'EXTERNAL'], TLS_CB);
    expect(error).toMatch(/no authentication method that auth on can use/);
    expect(error).toMatch(/never chooses EXTERNAL or OAUTHBEARER or XOAUTH2: name it with "auth external"/);
  });

  it('refuses when nothing usable is offered, listing what is', () => {
    expect(refusal(['GSSAPI', 'NTLM'], TLS)).toMatch(/\(it offers: GSSAPI NTLM\)$/);
    expect(refusal([], TLS)).toMatch(/it offers: none/);
  });

  it('refuses a missing password, and points at EXTERNAL when a client certificate is there', () => {
    expect(refusal(['PLAIN'], { ...TLS, hasSecret: false }, 'E_NO_CREDENTIALS')).toMatch(/PLAIN needs a password, and none is configured/);
    expect(refusal(['PLAIN', 'EXTERNAL'], { ...TLS, hasSecret: false, hasClientCertificate: true }, 'E_NO_CREDENTIALS')).toMatch(/use "auth external"/);
    expect(chosen(['PLAIN'], { ...TLS, hasSecret: true })).toBe('PLAIN');
  });
});

describe('auth METHOD', () => {
  it('uses the named method as asked, even without TLS, in any case', () => {
    expect(chosen(['PLAIN', 'SCRAM-SHA-256'], { ...PLAINTEXT, requested: 'plain' })).toBe('PLAIN');
    expect(chosen(['LOGIN'], { ...PLAINTEXT, requested: 'login' })).toBe('LOGIN');
    expect(chosen(['CRAM-MD5'], { ...TLS, requested: 'CRAM-MD5' })).toBe('CRAM-MD5');
    expect(chosen(['XOAUTH2'], { ...TLS, requested: 'xoauth2' })).toBe('XOAUTH2');
    expect(chosen(['oauthbearer'], { ...TLS, requested: 'oauthbearer' })).toBe('OAUTHBEARER');
    expect(chosen(['EXTERNAL'], { ...TLS, requested: 'external', hasSecret: false, hasClientCertificate: true })).toBe('EXTERNAL');
    expect(chosen(['SCRAM-SHA-1-PLUS'], { ...TLS_CB, requested: 'scram-sha-1-plus' })).toBe('SCRAM-SHA-1-PLUS');
    expect(chosen(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'], { ...TLS_CB, requested: 'scram-sha-256' })).toBe('SCRAM-SHA-256');
  });

  it('refuses a method the server does not offer, naming the offered ones', () => {
    expect(refusal(['PLAIN', 'LOGIN'], { ...TLS, requested: 'scram-sha-256' }))
      .toBe('the server does not support authentication method SCRAM-SHA-256 (it offers: PLAIN LOGIN)');
    expect(refusal(['SCRAM-SHA-256-PLUS'], { ...TLS_CB, requested: 'scram-sha-256' })).toMatch(/does not support/);
  });

  it.each([
    ['gssapi', /GSSAPI is not supported by outbox: .*Kerberos/],
    ['ntlm', /NTLM is not supported by outbox: .*obsolete/],
    ['digest-md5', /DIGEST-MD5 is not supported by outbox: .*RFC 6331/],
  ])('refuses %s with the reason, offered or not', (method, message) => {
    expect(refusal(ALL, { ...TLS, requested: method }, 'E_NOT_SUPPORTED')).toMatch(message);
    expect(refusal([], { ...TLS, requested: method }, 'E_NOT_SUPPORTED')).toMatch(message);
  });

  it('refuses an unknown method, listing the supported ones', () => {
    expect(refusal(['X-FOO'], { ...TLS, requested: 'x-foo' }, 'E_NOT_SUPPORTED')).toMatch(/unknown authentication method "x-foo"; outbox supports scram-sha-256-plus, .*xoauth2/);
  });

  it('refuses -PLUS without channel binding', () => {
    expect(refusal(['SCRAM-SHA-256-PLUS'], { ...TLS, requested: 'scram-sha-256-plus' })).toMatch(/this TLS connection does not provide/);
    expect(refusal(['SCRAM-SHA-256-PLUS'], { ...PLAINTEXT, channelBinding: true, requested: 'scram-sha-256-plus' })).toMatch(/not encrypted/);
  });

  it('refuses EXTERNAL without a client certificate and a password method without a password', () => {
    expect(refusal(['EXTERNAL'], { ...TLS, requested: 'external', hasClientCertificate: false }, 'E_NO_CREDENTIALS')).toMatch(/client certificate/);
    expect(refusal(['LOGIN'], { ...TLS, requested: 'login', hasSecret: false }, 'E_NO_CREDENTIALS')).toMatch(/LOGIN needs a password/);
    expect(refusal(['XOAUTH2'], { ...TLS, requested: 'xoauth2', hasSecret: false }, 'E_NO_CREDENTIALS')).toMatch(/XOAUTH2 needs an OAuth2 access token/);
  });
});
