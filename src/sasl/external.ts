/**
 * EXTERNAL (RFC 4422 Appendix A): the identity was established outside SASL,
 * for SMTP by the TLS client certificate. The only message is the optional
 * authorization identity; an empty one goes out as the empty initial
 * response, which SMTP writes `AUTH EXTERNAL =` (RFC 4954 §4).
 */
import { OneShot, protocolError, unusable, utf8 } from './common.js';
import type { Credentials, MechanismFactory, SaslSession } from './mechanism.js';

const NAME = 'EXTERNAL';

function start(credentials: Credentials): SaslSession {
  const authzid = credentials.authzid ?? '';
  if (authzid.includes('\0')) throw unusable(NAME, 'the authorization identity contains a NUL character');
  const message = new OneShot(NAME, utf8(authzid));
  return {
    mechanism: NAME,
    initialResponse: () => message.initial(),
    respond(challenge) {
      const first = message.answerFirst(challenge);
      if (first === undefined) throw protocolError(NAME, 'the server sent a challenge after the only message EXTERNAL has');
      return first;
    },
    finish() {},
    get complete() {
      return message.sent;
    },
  };
}

export const external: MechanismFactory = { name: NAME, needsSecret: false, needsChannelBinding: false, start };
