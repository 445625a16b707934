import { describe, expect, it } from 'vitest';
import { oauthbearer, xoauth2 } from '../../src/sasl/oauth.js';
import { thrownOutboxError } from '../helpers/thrown.js';

const b64 = (data: Uint8Array | undefined): string => Buffer.from(data ?? []).toString('base64');
const fromB64 = (data: string): Uint8Array => new Uint8Array(Buffer.from(data, 'base64'));
const text = (data: Uint8Array | undefined): string => new TextDecoder().decode(data);


const RFC7628_TOKEN = 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==';
/** RFC 7628 §4.3's failure challenge: {"status":"invalid_token","scope":"example_scope","openid-configuration":"…"} */
const RFC7628_FAILURE = 'eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1wbGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=';

describe('OAUTHBEARER (RFC 7628)', () => {
  it('reproduces the initial response of RFC 7628 §4.1', () => {
    const session = oauthbearer.start({ user: 'user@example.com', secret: RFC7628_TOKEN, host: 'server.example.com', port: 143 });
    expect(session.mechanism).toBe('OAUTHBEARER');
    const initial = session.initialResponse();
    expect(text(initial)).toBe(`n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer ${RFC7628_TOKEN}\x01\x01`);
    expect(b64(initial)).toBe('bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB');
    expect(session.complete).toBe(true);
  });

  it('answers the failure challenge of RFC 7628 §4.3 with %x01 and keeps the JSON', () => {
    const session = oauthbearer.start({ user: 'user@example.com', secret: RFC7628_TOKEN, host: 'server.example.com', port: 143 });
    session.initialResponse();
    const answer = session.respond(fromB64(RFC7628_FAILURE));
    expect(b64(answer)).toBe('AQ==');
    expect(JSON.parse(session.serverError ?? '')).toEqual({
      status: 'invalid_token',
      scope: 'example_scope',
      'openid-configuration': 'https://example.com/.well-known/openid-configuration',
    });
    expect(thrownOutboxError(() => session.respond(fromB64(RFC7628_FAILURE))).code).toBe('E_PROTOCOL');
    expect(() => session.finish()).not.toThrow();
  });

  it('prefers the authorization identity, escapes it, and leaves out what is not known', () => {
    expect(text(oauthbearer.start({ user: 'u', authzid: 'a,b=c', secret: 'T' }).initialResponse())).toBe('n,a=a=2Cb=3Dc,\x01auth=Bearer T\x01\x01');
    expect(text(oauthbearer.start({ user: '', secret: 'T', port: 587 }).initialResponse())).toBe('n,,\x01port=587\x01auth=Bearer T\x01\x01');
  });

  it('sends the message in answer to an empty first challenge when there was no initial response', () => {
    const session = oauthbearer.start({ user: 'u', secret: 'T' });
    expect(text(session.respond(new Uint8Array(0)))).toBe('n,a=u,\x01auth=Bearer T\x01\x01');
  });

  it('refuses a missing or unsafe token without echoing it, and bad host or port', () => {
    expect(thrownOutboxError(() => oauthbearer.start({ user: 'u' })).code).toBe('E_NO_CREDENTIALS');
    const error = thrownOutboxError(() => oauthbearer.start({ user: 'u', secret: 'secret-token\x01host=evil' }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).not.toContain('secret-token');
    expect(thrownOutboxError(() => oauthbearer.start({ user: 'u', secret: 'a b' })).code).toBe('E_CONFIG');
    expect(thrownOutboxError(() => oauthbearer.start({ user: 'u', secret: 'T', host: 'a\x01b' })).code).toBe('E_CONFIG');
    expect(thrownOutboxError(() => oauthbearer.start({ user: 'u', secret: 'T', port: 70000 })).code).toBe('E_CONFIG');
  });
});

describe('XOAUTH2', () => {
  it('reproduces the initial response of Google\'s XOAUTH2 documentation', () => {
    const session = xoauth2.start({ user: 'someuser@example.com', secret: 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg' });
    const initial = session.initialResponse();
    expect(text(initial)).toBe('user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01');
    expect(b64(initial)).toBe('dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==');
    expect(session.complete).toBe(true);
    expect(session.serverError).toBeUndefined();
  });

  it('answers the JSON error challenge with an empty response and keeps the JSON', () => {
    const session = xoauth2.start({ user: 'someuser@example.com', secret: 'tok' });
    session.initialResponse();
    const json = '{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}';
    expect(session.respond(new TextEncoder().encode(json)).length).toBe(0);
    expect(session.serverError).toBe(json);
    expect(thrownOutboxError(() => session.respond(new Uint8Array(0))).code).toBe('E_PROTOCOL');
  });

  it('replaces control characters in the server\'s text', () => {
    const session = xoauth2.start({ user: 'u', secret: 'tok' });
    session.initialResponse();
    session.respond(new TextEncoder().encode('{"status":"400"}\x1b]0;owned\x07'));
    expect(session.serverError).toBe('{"status":"400"}\ufffd]0;owned\ufffd');
  });

  it('needs a user and a token', () => {
    expect(thrownOutboxError(() => xoauth2.start({ user: '', secret: 'tok' })).code).toBe('E_NO_CREDENTIALS');
    expect(thrownOutboxError(() => xoauth2.start({ user: 'u' })).code).toBe('E_NO_CREDENTIALS');
    expect(thrownOutboxError(() => xoauth2.start({ user: 'u\x01', secret: 'tok' })).code).toBe('E_CONFIG');
  });
});
