/**
 * SCRAM-SHA-256 on the server's side: RFC 7677 §3's example exchange (an
 * independent check: the bytes come from the RFC, not from outbox's client),
 * outbox's own client against it, and the ways a client can fail.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scramSha256 } from '../../src/sasl/scram.js';
import { scramCredentials, serverExchange, type SaslServerStep, type ScramCredentials } from '../../src/sasl/server.js';
import { scramSha256ServerExchange } from '../../src/sasl/server-scram.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const text = (step: SaslServerStep) => {
  expect(step.kind).toBe('challenge');
  return Buffer.from((step as { challenge: string }).challenge, 'base64').toString('utf8');
};
const resume = (step: SaslServerStep, credentials: ScramCredentials | undefined, user = 'user'): SaslServerStep => {
  expect(step).toMatchObject({ kind: 'lookup', user });
  return (step as Extract<SaslServerStep, { kind: 'lookup' }>).resume(credentials);
};

// RFC 7677 §3: user "user", password "pencil".
const RFC = {
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const PENCIL = scramCredentials('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096)!;

describe('SCRAM-SHA-256, server side', () => {
  it("answers RFC 7677's example byte for byte and accepts its proof", () => {
    const exchange = scramSha256ServerExchange({ nonce: () => RFC.serverNonce });
    expect(text(resume(exchange.start(b64(RFC.clientFirst)), PENCIL))).toBe(RFC.serverFirst);
    expect(text(exchange.respond(b64(RFC.clientFinal)))).toBe(RFC.serverFinal);
    expect(exchange.respond('')).toEqual({ kind: 'authenticated', user: 'user' });
  });

  it('stores what RFC 5802 §3 says, computed here with node:crypto directly', () => {
    const salted = pbkdf2Sync('pencil', PENCIL.salt, 4096, 32, 'sha256');
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(PENCIL.storedKey).toEqual(createHash('sha256').update(clientKey).digest());
    expect(PENCIL.serverKey).toEqual(createHmac('sha256', salted).update('Server Key').digest());
  });

  it("refuses RFC 7677's proof for another password, and an unknown user the same way", () => {
    const wrong = scramSha256ServerExchange({ nonce: () => RFC.serverNonce });
    resume(wrong.start(b64(RFC.clientFirst)), scramCredentials('pencil2', PENCIL.salt));
    expect(wrong.respond(b64(RFC.clientFinal))).toEqual({ kind: 'refused', user: 'user' });
    const unknown = scramSha256ServerExchange({ nonce: () => RFC.serverNonce });
    expect(text(resume(unknown.start(b64(RFC.clientFirst)), undefined))).toMatch(/^r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj\)hNlF\$k0,s=[A-Za-z0-9+/]{22}==,i=4096$/);
    expect(unknown.respond(b64(RFC.clientFinal))).toEqual({ kind: 'refused', user: 'user' });
  });

  it('gives an unknown user the same made-up salt at every attempt, so two attempts do not tell that it does not exist', () => {
    const saltOf = (user: string): string => {
      const exchange = scramSha256ServerExchange({ nonce: () => RFC.serverNonce });
      return /,s=([^,]+),/.exec(text(resume(exchange.start(b64(RFC.clientFirst.replace('n=user', `n=${user}`))), undefined, user)))![1]!;
    };
    expect(saltOf('user')).toBe(saltOf('user'));
    expect(saltOf('user')).not.toBe(saltOf('other'));
  });

  it('refuses a changed nonce, a channel binding that does not repeat the header, and malformed messages', () => {
    const start = () => {
      const exchange = scramSha256ServerExchange({ nonce: () => RFC.serverNonce });
      resume(exchange.start(b64(RFC.clientFirst)), PENCIL);
      return exchange;
    };
    expect(start().respond(b64(RFC.clientFinal.replace('k0,p=', 'k1,p=')))).toMatchObject({ kind: 'refused' });
    expect(start().respond(b64(RFC.clientFinal.replace('c=biws', 'c=eSws')))).toMatchObject({ kind: 'refused' });
    expect(start().respond('not base64!')).toEqual({ kind: 'malformed', why: 'base64' });
    expect(start().respond(b64('c=biws,r=x'))).toEqual({ kind: 'malformed', why: 'message' });
    for (const bad of ['p=tls-unique,,n=user,r=abc', 'n,,r=abc', 'n,,n=,r=abc', 'n,,n=us=er,r=abc', 'n,a=other,n=user,r=abc', 'n,,m=ext,n=user,r=abc']) {
      expect(scramSha256ServerExchange().start(b64(bad)), bad).toEqual({ kind: 'malformed', why: 'message' });
    }
    expect(scramSha256ServerExchange().start('*')).toEqual({ kind: 'cancelled' });
  });

  it('asks for the client-first message with an empty challenge when AUTH had no initial response', () => {
    const exchange = scramSha256ServerExchange({ nonce: () => RFC.serverNonce });
    expect(exchange.start(undefined)).toEqual({ kind: 'challenge', challenge: '' });
    expect(text(resume(exchange.respond(b64(RFC.clientFirst)), PENCIL))).toBe(RFC.serverFirst);
  });

  it("outbox's own client and this server agree, and the client checks the server's signature", () => {
    const client = scramSha256.start({ user: 'ann,=x', secret: 'pässword' });
    const server = serverExchange('scram-sha-256', { scram: true })!;
    const stored = scramCredentials('pässword')!;
    const first = resume(server.start(Buffer.from(client.initialResponse()!).toString('base64')), stored, 'ann,=x');
    const final = client.respond(Buffer.from((first as { challenge: string }).challenge, 'base64'));
    const verdict = server.respond(Buffer.from(final).toString('base64'));
    expect(verdict.kind).toBe('challenge');
    expect(client.respond(Buffer.from((verdict as { challenge: string }).challenge, 'base64'))).toEqual(new Uint8Array(0));
    expect(() => client.finish()).not.toThrow();
    expect(server.respond('')).toEqual({ kind: 'authenticated', user: 'ann,=x' });
  });

  it('is offered only to a server with stored keys', () => {
    expect(serverExchange('SCRAM-SHA-256')).toBeUndefined();
    expect(serverExchange('SCRAM-SHA-256', { scram: true })?.mechanism).toBe('SCRAM-SHA-256');
  });
});
