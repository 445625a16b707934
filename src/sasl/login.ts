/**
 * LOGIN (draft-murchison-sasl-login): the server prompts "Username:" and then
 * "Password:" (base64 of those words). The prompts are matched without regard
 * to case; a server that sends other text is answered by step order (first
 * the user name, then the password), as real servers vary. No initial
 * response. Only safe over TLS.
 */
import { decodeLenient, missing, protocolError, utf8 } from './common.js';
import type { Credentials, MechanismFactory, SaslSession } from './mechanism.js';

const NAME = 'LOGIN';

function start(credentials: Credentials): SaslSession {
  const { user, secret } = credentials;
  if (!user) throw missing(NAME, 'a user name');
  if (!secret) throw missing(NAME, 'a password');
  let steps = 0;
  let passwordSent = false;
  return {
    mechanism: NAME,
    initialResponse: () => undefined,
    respond(challenge) {
      if (passwordSent) throw protocolError(NAME, 'the server sent another challenge after the password');
      const prompt = decodeLenient(challenge).trim().toLowerCase();
      let answer: 'user' | 'password';
      if (/^user ?name/.test(prompt)) answer = 'user';
      else if (prompt.startsWith('password')) answer = 'password';
      else answer = steps === 0 ? 'user' : 'password';
      steps += 1;
      if (answer === 'user') return utf8(user);
      passwordSent = true;
      return utf8(secret);
    },
    finish() {},
    get complete() {
      return passwordSent;
    },
  };
}

export const login: MechanismFactory = { name: NAME, needsSecret: true, needsChannelBinding: false, start };
