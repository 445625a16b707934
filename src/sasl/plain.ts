/** PLAIN (RFC 4616): one message, `authzid NUL authcid NUL passwd`. Only safe over TLS. */
import { OneShot, missing, protocolError, unusable, utf8 } from './common.js';
import type { Credentials, MechanismFactory, SaslSession } from './mechanism.js';

const NAME = 'PLAIN';

function start(credentials: Credentials): SaslSession {
  const { user, secret, authzid = '' } = credentials;
  if (!user) throw missing(NAME, 'a user name');
  if (!secret) throw missing(NAME, 'a password');
  // The fields are sent as configured, in UTF-8; RFC 4616 §2 has the server prepare them (SASLprep).
  if (user.includes('\0')) throw unusable(NAME, 'the user name contains a NUL character, which PLAIN cannot carry');
  if (authzid.includes('\0')) throw unusable(NAME, 'the authorization identity contains a NUL character, which PLAIN cannot carry');
  if (secret.includes('\0')) throw unusable(NAME, 'the password contains a NUL character, which PLAIN cannot carry');
  const message = new OneShot(NAME, utf8(`${authzid}\0${user}\0${secret}`));
  return {
    mechanism: NAME,
    initialResponse: () => message.initial(),
    respond(challenge) {
      const first = message.answerFirst(challenge);
      if (first === undefined) throw protocolError(NAME, 'the server sent a challenge after the only message PLAIN has');
      return first;
    },
    finish() {},
    get complete() {
      return message.sent;
    },
  };
}

export const plain: MechanismFactory = { name: NAME, needsSecret: true, needsChannelBinding: false, start };
