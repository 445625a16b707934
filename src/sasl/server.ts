/**
 * The server's side of PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login),
 * and SCRAM-SHA-256 from server-scram.ts, as pure steps: the session gives each client line (base64 text, as RFC 4954
 * carries it) and gets back what to do next, a challenge to send or the
 * credentials to check. No I/O, no timers; checking the password is the
 * caller's, so these never see a verdict and never log anything. SCRAM
 * checks its proof itself, from stored keys the caller looks up.
 */
import { decodeResponse } from './response-base64.js';
import { scramSha256ServerExchange } from './server-scram.js';
import type { SaslServerExchange, SaslServerStep } from './server-step.js';

export { decodeResponse };

export { scramCredentials } from './server-scram.js';
export type { SaslServerExchange, SaslServerStep, ScramCredentials } from './server-step.js';

/** The mechanisms EHLO offers, strongest first; SCRAM only when the server has stored credentials (`scram`). */
export function serverMechanisms(scram: boolean): readonly string[] {
  return scram ? ['SCRAM-SHA-256', 'PLAIN', 'LOGIN'] : ['PLAIN', 'LOGIN'];
}

/** A fresh exchange for `mechanism` (any case), or undefined when it is not one we offer. */
export function serverExchange(mechanism: string, { scram = false } = {}): SaslServerExchange | undefined {
  switch (mechanism.toUpperCase()) {
    case 'SCRAM-SHA-256':
      return scram ? scramSha256ServerExchange() : undefined;
    case 'PLAIN':
      return plainExchange();
    case 'LOGIN':
      return loginExchange();
    default:
      return undefined;
  }
}

function plainExchange(): SaslServerExchange {
  const read = (line: string): SaslServerStep => {
    if (line === '*') return { kind: 'cancelled' };
    const message = decodeResponse(line);
    if (message === undefined) return { kind: 'malformed', why: 'base64' };
    // authzid NUL authcid NUL passwd; we act for nobody else, so an authzid must name the user itself.
    const fields = message.split('\0');
    if (fields.length !== 3) return { kind: 'malformed', why: 'message' };
    const [authzid, user, password] = fields as [string, string, string];
    if (user === '' || (authzid !== '' && authzid !== user)) return { kind: 'malformed', why: 'message' };
    return { kind: 'credentials', user, password };
  };
  return {
    mechanism: 'PLAIN',
    // RFC 4616 has the client speak first; without an initial response the server sends an empty challenge.
    start: (initial) => (initial === undefined ? { kind: 'challenge', challenge: '' } : read(initial)),
    respond: read,
  };
}

const USERNAME = Buffer.from('Username:').toString('base64');
const PASSWORD = Buffer.from('Password:').toString('base64');

function loginExchange(): SaslServerExchange {
  let user: string | undefined;
  const read = (line: string): SaslServerStep => {
    if (line === '*') return { kind: 'cancelled' };
    const text = decodeResponse(line);
    if (text === undefined) return { kind: 'malformed', why: 'base64' };
    if (user === undefined) {
      if (text === '') return { kind: 'malformed', why: 'message' };
      user = text;
      return { kind: 'challenge', challenge: PASSWORD };
    }
    return { kind: 'credentials', user, password: text };
  };
  return {
    mechanism: 'LOGIN',
    // Some clients send the user name as an initial response; the rest is the same.
    start: (initial) => (initial === undefined ? { kind: 'challenge', challenge: USERNAME } : read(initial)),
    respond: read,
  };
}
