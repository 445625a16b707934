/**
 * CRAM-MD5 (RFC 2195): the answer to the server's challenge is
 * `user SP hex(HMAC-MD5(password, challenge))`. No initial response. The
 * password does not cross the wire, but anyone who records the exchange can
 * try passwords against it offline, and the server must keep the password in
 * a recoverable form; `auth on` uses it only over TLS.
 */
import { createHmac } from 'node:crypto';
import { missing, protocolError, utf8 } from './common.js';
import type { Credentials, MechanismFactory, SaslSession } from './mechanism.js';

const NAME = 'CRAM-MD5';

function start(credentials: Credentials): SaslSession {
  const { user, secret } = credentials;
  if (!user) throw missing(NAME, 'a user name');
  if (!secret) throw missing(NAME, 'a password');
  let answered = false;
  return {
    mechanism: NAME,
    initialResponse: () => undefined,
    respond(challenge) {
      if (answered) throw protocolError(NAME, 'the server sent a second challenge');
      if (challenge.length === 0) throw protocolError(NAME, 'the server sent an empty challenge');
      answered = true;
      const digest = createHmac('md5', utf8(secret)).update(challenge).digest('hex');
      return utf8(`${user} ${digest}`);
    },
    finish() {},
    get complete() {
      return answered;
    },
  };
}

export const cramMd5: MechanismFactory = { name: NAME, needsSecret: true, needsChannelBinding: false, start };
