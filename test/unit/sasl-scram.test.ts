import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import type { ChannelBinding, Credentials, MechanismFactory, SaslSession } from '../../src/sasl/mechanism.js';
import { findMechanism } from '../../src/sasl/registry.js';
import { MAX_ITERATIONS, scramMechanism, scramSha1, scramSha1Plus, scramSha256, scramSha256Plus } from '../../src/sasl/scram.js';
import { thrownOutboxError } from '../helpers/thrown.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string => new TextDecoder().decode(data);
/** A `random` that returns the bytes of a given base64 nonce, so the RFC vectors reproduce. */
const nonce = (b64: string) => (): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));


describe('SCRAM-SHA-1: RFC 5802 §5', () => {
  const SERVER_FIRST = 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096';
  const start = (secret = 'pencil'): SaslSession => scramSha1.start({ user: 'user', secret }, nonce('fyko+d2lbbFgONRv9qkxdawL'));

  it('reproduces the exchange', () => {
    const session = start();
    expect(session.mechanism).toBe('SCRAM-SHA-1');
    expect(text(session.initialResponse())).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    expect(text(session.respond(bytes(SERVER_FIRST)))).toBe('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    expect(session.complete).toBe(false);
    expect(session.respond(bytes('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')).length).toBe(0);
    expect(session.complete).toBe(true);
    expect(() => session.finish()).not.toThrow();
    expect(session.serverError).toBeUndefined();
  });

  it('prepares the password with SASLprep: a soft hyphen is mapped to nothing', () => {
    const session = start('pen\u00adcil');
    session.initialResponse();
    expect(text(session.respond(bytes(SERVER_FIRST)))).toMatch(/,p=v0X8v3Bz2T0CJGbJQyF0X\+HI4Ts=$/);
  });

  it('refuses a wrong server signature, and finish() then refuses the success', () => {
    const session = start();
    session.initialResponse();
    session.respond(bytes(SERVER_FIRST));
    const error = thrownOutboxError(() => session.respond(bytes('v=AAF9pqV8S7suAoZWja4dJRkFsKQ=')));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(/signature is wrong/);
    expect(thrownOutboxError(() => session.finish()).code).toBe('E_PROTOCOL');
  });

  it('refuses a server-final message signed for another password', () => {
    const session = start('pencil2');
    session.initialResponse();
    session.respond(bytes(SERVER_FIRST));
    expect(thrownOutboxError(() => session.respond(bytes('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))).code).toBe('E_PROTOCOL');
  });

  it('refuses a success the server never proved', () => {
    const session = start();
    session.initialResponse();
    expect(thrownOutboxError(() => session.finish()).message).toMatch(/without proving/);
    session.respond(bytes(SERVER_FIRST));
    expect(thrownOutboxError(() => session.finish()).code).toBe('E_PROTOCOL');
  });

  it('answers an empty first challenge with the client-first message when no initial response was sent', () => {
    const session = start();
    expect(text(session.respond(new Uint8Array(0)))).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    expect(text(session.respond(bytes(SERVER_FIRST)))).toMatch(/^c=biws,/);
  });
});

describe('SCRAM-SHA-256: RFC 7677 §3', () => {
  it('reproduces the exchange', () => {
    const session = scramSha256.start({ user: 'user', secret: 'pencil' }, nonce('rOprNGfwEbeRWgbNEkqO'));
    expect(text(session.initialResponse())).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    expect(text(session.respond(bytes(serverFirst))))
      .toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(session.respond(bytes('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).length).toBe(0);
    expect(session.complete).toBe(true);
    expect(() => session.finish()).not.toThrow();
  });

  it('makes a fresh 32-character nonce from 24 random bytes by default', () => {
    const first = text(scramSha256.start({ user: 'user', secret: 'pencil' }).initialResponse());
    const second = text(scramSha256.start({ user: 'user', secret: 'pencil' }).initialResponse());
    expect(first).toMatch(/^n,,n=user,r=[A-Za-z0-9+/]{32}$/);
    expect(first).not.toBe(second);
  });
});

/**
 * A small SCRAM server, written for the tests from RFC 5802 §3, that checks
 * the client's channel binding and proof and signs its answer.
 */
function scramServer(options: { hash: 'sha1' | 'sha256'; password: string; expectedCbind: Uint8Array; iterations?: number }) {
  const salt = Buffer.from('salt-for-the-tests');
  const iterations = options.iterations ?? 4096;
  const hmac = (key: Uint8Array, data: string): Buffer => createHmac(options.hash, key).update(data).digest();
  const salted = pbkdf2Sync(options.password, salt, iterations, options.hash === 'sha1' ? 20 : 32, options.hash);
  const storedKey = createHash(options.hash).update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  let clientFirstBare = '';
  let serverFirst = '';
  return {
    first(clientFirst: string): string {
      const match = /^((?:[pny][^,]*),(?:a=[^,]*)?,)(n=[^,]*,r=([^,]+))$/.exec(clientFirst);
      if (!match) throw new Error(`bad client-first: ${clientFirst}`);
      clientFirstBare = match[2] ?? '';
      serverFirst = `r=${match[3]}SERVERNONCE,s=${salt.toString('base64')},i=${iterations}`;
      return serverFirst;
    },
    final(clientFinal: string): string {
      const match = /^(c=([^,]*),r=[^,]*),p=(.*)$/.exec(clientFinal);
      if (!match) throw new Error(`bad client-final: ${clientFinal}`);
      if (!Buffer.from(match[2] ?? '', 'base64').equals(options.expectedCbind)) return 'e=channel-bindings-dont-match';
      const authMessage = `${clientFirstBare},${serverFirst},${match[1]}`;
      const clientSignature = hmac(storedKey, authMessage);
      const proof = Buffer.from(match[3] ?? '', 'base64');
      const clientKey = Buffer.from(proof.map((b, i) => b ^ (clientSignature[i] ?? 0)));
      const ok = proof.length === storedKey.length && timingSafeEqual(createHash(options.hash).update(clientKey).digest(), storedKey);
      return ok ? `v=${hmac(serverKey, authMessage).toString('base64')}` : 'e=invalid-proof';
    },
  };
}

function run(factory: MechanismFactory, credentials: Credentials, server: ReturnType<typeof scramServer>): SaslSession {
  const session = factory.start(credentials);
  const serverFirst = server.first(text(session.initialResponse()));
  const serverFinal = server.final(text(session.respond(bytes(serverFirst))));
  expect(session.respond(bytes(serverFinal)).length).toBe(0);
  return session;
}

describe('SCRAM -PLUS: channel binding', () => {
  const exporter: ChannelBinding = { type: 'tls-exporter', data: new Uint8Array(32).map((_, i) => i * 7) };
  const unique: ChannelBinding = { type: 'tls-unique', data: new Uint8Array(12).fill(0xab) };
  const concat = (header: string, data: Uint8Array): Uint8Array => new Uint8Array(Buffer.concat([Buffer.from(header), data]));

  it('writes p=tls-exporter in the GS2 header and base64(header + cbind data) in c=', () => {
    const session = scramSha256Plus.start({ user: 'user', secret: 'pencil', channelBinding: exporter }, nonce('rOprNGfwEbeRWgbNEkqO'));
    expect(session.mechanism).toBe('SCRAM-SHA-256-PLUS');
    expect(text(session.initialResponse())).toBe('p=tls-exporter,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = text(session.respond(bytes('r=rOprNGfwEbeRWgbNEkqOxyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')));
    const c = /^c=([^,]*),/.exec(final)?.[1] ?? '';
    expect(Buffer.from(c, 'base64')).toEqual(Buffer.from(concat('p=tls-exporter,,', exporter.data)));
  });

  it('writes p=tls-unique for TLS 1.2, with the authorization identity escaped', () => {
    const session = scramSha1Plus.start({ user: 'user', secret: 'pencil', authzid: 'ad=min,x', channelBinding: unique }, nonce('fyko+d2lbbFgONRv9qkxdawL'));
    expect(text(session.initialResponse())).toBe('p=tls-unique,a=ad=3Dmin=2Cx,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    const final = text(session.respond(bytes('r=fyko+d2lbbFgONRv9qkxdawLabc,s=QSXCR+Q6sek8bf92,i=4096')));
    const c = /^c=([^,]*),/.exec(final)?.[1] ?? '';
    expect(Buffer.from(c, 'base64')).toEqual(Buffer.from(concat('p=tls-unique,a=ad=3Dmin=2Cx,', unique.data)));
  });

  it('authenticates against an independent server that checks the binding, both hashes, both binding types', () => {
    for (const [factory, hash] of [[scramSha256Plus, 'sha256'], [scramSha1Plus, 'sha1']] as const) {
      for (const binding of [exporter, unique]) {
        const server = scramServer({ hash, password: 'pencil', expectedCbind: concat(`p=${binding.type},,`, binding.data) });
        const session = run(factory, { user: 'user', secret: 'pencil', channelBinding: binding }, server);
        expect(() => session.finish()).not.toThrow();
      }
    }
  });

  it('reports a server that sees other binding data (a man in the middle) through serverError', () => {
    const server = scramServer({ hash: 'sha256', password: 'pencil', expectedCbind: concat('p=tls-exporter,,', new Uint8Array(32)) });
    const session = run(scramSha256Plus, { user: 'user', secret: 'pencil', channelBinding: exporter }, server);
    expect(session.serverError).toBe('channel-bindings-dont-match');
    expect(session.complete).toBe(true);
    expect(() => session.finish()).toThrow(OutboxError);
  });

  it('needs channel binding data', () => {
    expect(thrownOutboxError(() => scramSha256Plus.start({ user: 'user', secret: 'pencil' })).code).toBe('E_CAPABILITY');
    expect(thrownOutboxError(() => scramSha1Plus.start({ user: 'user', secret: 'pencil', channelBinding: { type: 'tls-unique', data: new Uint8Array(0) } })).code).toBe('E_CAPABILITY');
    expect(scramSha256Plus.needsChannelBinding).toBe(true);
    expect(scramSha256.needsChannelBinding).toBe(false);
  });

  it('plain SCRAM says n, or y when the client could bind but the server did not offer -PLUS', () => {
    const n = scramSha256.start({ user: 'user', secret: 'pencil', channelBinding: exporter }, nonce('rOprNGfwEbeRWgbNEkqO'));
    expect(text(n.initialResponse())).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const y = findMechanism('scram-sha-256', { clientSupportsChannelBinding: true })?.start({ user: 'user', secret: 'pencil' }, nonce('rOprNGfwEbeRWgbNEkqO'));
    expect(text(y?.initialResponse())).toBe('y,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(text(y?.respond(bytes('r=rOprNGfwEbeRWgbNEkqOs,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')))).toMatch(/^c=eSws,/);
    const server = scramServer({ hash: 'sha1', password: 'pencil', expectedCbind: Buffer.from('y,,') });
    const session = run(scramMechanism({ hash: 'SHA-1', plus: false, clientSupportsChannelBinding: true }), { user: 'user', secret: 'pencil' }, server);
    expect(() => session.finish()).not.toThrow();
    expect(findMechanism('SCRAM-SHA-256-PLUS', { clientSupportsChannelBinding: true })).toBe(scramSha256Plus);
  });
});

describe('SCRAM user names and credentials', () => {
  it('escapes = and , in the user name', () => {
    const session = scramSha256.start({ user: 'a=b,c', secret: 'pencil' }, nonce('rOprNGfwEbeRWgbNEkqO'));
    expect(text(session.initialResponse())).toBe('n,,n=a=3Db=2Cc,r=rOprNGfwEbeRWgbNEkqO');
  });

  it('prepares the user name with SASLprep (NFKC, non-ASCII spaces)', () => {
    const session = scramSha256.start({ user: '\u2168\u00a0\u00aaa', secret: 'pencil' }, nonce('rOprNGfwEbeRWgbNEkqO'));
    expect(text(session.initialResponse())).toBe('n,,n=IX aa,r=rOprNGfwEbeRWgbNEkqO');
  });

  it('authenticates with a non-ASCII password against the independent server', () => {
    const server = scramServer({ hash: 'sha256', password: 'pässwörd IX', expectedCbind: Buffer.from('n,,') });
    const session = run(scramSha256, { user: 'jürgen', secret: 'pa\u0308sswo\u0308rd\u3000\u2168' }, server);
    expect(() => session.finish()).not.toThrow();
  });

  it('refuses prohibited characters with E_CONFIG, naming the kind but never the password', () => {
    const error = thrownOutboxError(() => scramSha256.start({ user: 'user', secret: 'hunter2\u0007' }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toMatch(/ASCII control character.*SASLprep/);
    expect(error.message).not.toContain('hunter2');
    expect(thrownOutboxError(() => scramSha256.start({ user: 'us\ue000er', secret: 'pencil' })).message).toMatch(/user name contains a private-use character/);
    expect(thrownOutboxError(() => scramSha1.start({ user: 'user', secret: '\u00ad' })).message).toMatch(/empty after SASLprep/);
  });

  it('needs a user and a password', () => {
    expect(thrownOutboxError(() => scramSha256.start({ user: '', secret: 'pencil' })).code).toBe('E_NO_CREDENTIALS');
    expect(thrownOutboxError(() => scramSha256.start({ user: 'user' })).code).toBe('E_NO_CREDENTIALS');
  });
});

describe('SCRAM refuses bad server messages', () => {
  const started = (): SaslSession => {
    const session = scramSha256.start({ user: 'user', secret: 'pencil' }, nonce('rOprNGfwEbeRWgbNEkqO'));
    session.initialResponse();
    return session;
  };
  const firstFails = (serverFirst: string | Uint8Array): OutboxError =>
    thrownOutboxError(() => started().respond(typeof serverFirst === 'string' ? bytes(serverFirst) : serverFirst));

  it.each([
    ['a nonce that does not start with the client nonce', 'r=XXXXNGfwEbeRWgbNEkqO%hvY,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce does not extend/],
    ['a nonce equal to the client nonce', 'r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce does not extend/],
    ['a nonce with a non-printable character', 'r=rOprNGfwEbeRWgbNEkqO\u0001x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce does not extend/],
    ['an iteration count below 4096', 'r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095', /4095 iterations; RFC 7677 asks for at least 4096/],
    ['an iteration count of zero', 'r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0', /at least 4096/],
    ['an iteration count above the cap', `r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=${MAX_ITERATIONS + 1}`, /more than/],
    ['an iteration count that is not a number', 'r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-4096', /not a number/],
    ['a huge iteration count', 'r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999999999999', /not a number/],
    ['a salt that is not base64', 'r=rOprNGfwEbeRWgbNEkqOx,s=W22Z*J0SNY7soEsUEjb6gQ==,i=4096', /salt is not base64/],
    ['an empty salt', 'r=rOprNGfwEbeRWgbNEkqOx,s=,i=4096', /salt is not base64/],
    ['attributes out of order', 's=W22ZaJ0SNY7soEsUEjb6gQ==,r=rOprNGfwEbeRWgbNEkqOx,i=4096', /malformed/],
    ['a missing iteration count', 'r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==', /malformed/],
    ['a mandatory extension', 'm=ext,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /extension/],
    ['something that is not SCRAM', 'hello there', /malformed/],
    ['an empty challenge', '', /malformed/],
  ])('refuses %s', (_what, serverFirst, message) => {
    const error = firstFails(serverFirst);
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^AUTH SCRAM-SHA-256: /);
  });

  it('refuses a challenge that is not UTF-8', () => {
    expect(firstFails(new Uint8Array([0x72, 0x3d, 0xff, 0xfe])).message).toMatch(/not valid UTF-8/);
  });

  it('accepts extensions after the iteration count', () => {
    expect(text(started().respond(bytes('r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,x=future')))).toMatch(/^c=biws,/);
  });

  const atFinal = (): SaslSession => {
    const session = started();
    session.respond(bytes('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'));
    return session;
  };

  it('reports the server\'s e= error: answers with an empty response and keeps the text', () => {
    const session = atFinal();
    expect(session.respond(bytes('e=invalid-proof')).length).toBe(0);
    expect(session.serverError).toBe('invalid-proof');
    expect(session.complete).toBe(true);
    expect(thrownOutboxError(() => session.finish()).code).toBe('E_PROTOCOL');
    expect(thrownOutboxError(() => session.respond(bytes('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).message).toMatch(/after its final message/);
  });

  it('keeps an e= error sent in place of the server-first message, with control characters replaced', () => {
    const session = started();
    expect(session.respond(bytes('e=unknown-user\u001b[31m')).length).toBe(0);
    expect(session.serverError).toBe('unknown-user\ufffd[31m');
  });

  it.each([
    ['a signature that is not base64', 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4', /not base64/],
    ['a truncated signature', 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5n', /not base64|signature is wrong/],
    ['an empty signature', 'v=', /not base64/],
    ['neither v= nor e=', 'x=1', /expected v= or e=/],
    ['garbage', 'garbage', /malformed/],
  ])('refuses a server-final message with %s', (_what, serverFinal, message) => {
    const session = atFinal();
    const error = thrownOutboxError(() => session.respond(bytes(serverFinal)));
    expect(error.code).toBe('E_PROTOCOL');
    expect(error.message).toMatch(message);
    expect(() => session.finish()).toThrow(OutboxError);
  });

  it('accepts extensions after the server signature', () => {
    const session = atFinal();
    session.respond(bytes('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=1'));
    expect(() => session.finish()).not.toThrow();
  });

  it('refuses a non-empty first challenge when no initial response was sent', () => {
    const session = scramSha256.start({ user: 'user', secret: 'pencil' });
    expect(thrownOutboxError(() => session.respond(bytes('r=abc'))).code).toBe('E_PROTOCOL');
  });
});

describe('SCRAM on arbitrary server bytes', () => {
  const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
  const expectOnlyOutboxErrors = (run: () => unknown): void => {
    try {
      run();
    } catch (error) {
      if (!(error instanceof OutboxError)) throw error;
      expect(error.code).toBe('E_PROTOCOL');
    }
  };
  const factories = fc.constantFrom(scramSha1, scramSha256, scramSha256Plus);
  const credentials: Credentials = { user: 'user', secret: 'pencil', channelBinding: { type: 'tls-exporter', data: new Uint8Array(32) } };

  it('throws nothing but OutboxError for any first challenge', () => {
    fc.assert(fc.property(factories, fc.uint8Array({ maxLength: 200 }), (factory, challenge) => {
      const session = factory.start(credentials, nonce(CLIENT_NONCE));
      session.initialResponse();
      expectOnlyOutboxErrors(() => session.respond(challenge));
    }), { numRuns: 300 });
  });

  // Nearly well-formed messages reach the deeper checks (and the key derivation).
  const piece = fc.oneof(
    fc.constantFrom('r=', 's=', 'i=', 'v=', 'e=', 'm=', ',', '=', CLIENT_NONCE, 'W22ZaJ0SNY7soEsUEjb6gQ==', '4096', '4095', '==', '\u0000', '\u00e9'),
    fc.string({ maxLength: 6 }),
  );
  const message = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));

  it('throws nothing but OutboxError for any sequence of nearly well-formed challenges', () => {
    fc.assert(fc.property(factories, fc.array(fc.oneof(message, message.map((m) => `r=${CLIENT_NONCE}${m}`)), { minLength: 1, maxLength: 4 }), (factory, challenges) => {
      const session = factory.start(credentials, nonce(CLIENT_NONCE));
      session.initialResponse();
      for (const challenge of challenges) expectOnlyOutboxErrors(() => session.respond(bytes(challenge)));
      expectOnlyOutboxErrors(() => session.finish());
    }), { numRuns: 200 });
  });

  it('throws nothing but OutboxError for any final challenge', () => {
    fc.assert(fc.property(factories, fc.uint8Array({ maxLength: 100 }), (factory, challenge) => {
      const session = factory.start(credentials, nonce(CLIENT_NONCE));
      session.initialResponse();
      session.respond(bytes(`r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`));
      expectOnlyOutboxErrors(() => session.respond(challenge));
      expectOnlyOutboxErrors(() => session.finish());
    }), { numRuns: 100 });
  });
});
