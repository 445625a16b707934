/**
 * The OAuth 2.0 bearer-token mechanisms. The secret is the access token;
 * getting and refreshing it is the configuration's business (passwordeval).
 *
 * - XOAUTH2 (Google's and Microsoft's): `user=U ^A auth=Bearer T ^A ^A`.
 * - OAUTHBEARER (RFC 7628): a GS2 header `n,a=AUTHZID,` then
 *   `^A host=H ^A port=P ^A auth=Bearer T ^A ^A`.
 *
 * On failure the server sends a challenge holding a JSON error; the client
 * answers it (XOAUTH2 with an empty response, OAUTHBEARER with the single
 * byte %x01 of RFC 7628 §3.2.3) and the server then fails the exchange.
 * The JSON is kept in `serverError` for the error message.
 */
import { OneShot, decodeLenient, missing, protocolError, saslName, serverText, unusable, utf8 } from './common.js';
import type { Credentials, MechanismFactory, SaslSession } from './mechanism.js';

const CTRL_A = '\x01';
// A control character or a space in a token would break the framing.
const TOKEN_UNSAFE = /[\u0000-\u0020\u007f]/;
const FIELD_UNSAFE = /[\u0000-\u001f\u007f]/;

function checkToken(name: string, token: string | undefined): string {
  if (!token) throw missing(name, 'an OAuth2 access token (the password setting, or passwordeval)');
  // Never echo the token: say what is wrong, not where.
  if (TOKEN_UNSAFE.test(token)) throw unusable(name, 'the access token contains a space or a control character');
  return token;
}

function bearerSession(name: string, message: Uint8Array, failureAnswer: () => Uint8Array): SaslSession {
  const oneShot = new OneShot(name, message);
  let serverError: string | undefined;
  return {
    mechanism: name,
    initialResponse: () => oneShot.initial(),
    respond(challenge) {
      const first = oneShot.answerFirst(challenge);
      if (first !== undefined) return first;
      if (serverError !== undefined) throw protocolError(name, 'the server sent another challenge after its error');
      serverError = serverText(decodeLenient(challenge));
      return failureAnswer();
    },
    finish() {},
    get complete() {
      return oneShot.sent;
    },
    get serverError() {
      return serverError;
    },
  };
}

const XOAUTH2 = 'XOAUTH2';

export const xoauth2: MechanismFactory = {
  name: XOAUTH2,
  needsSecret: true,
  needsChannelBinding: false,
  start(credentials: Credentials): SaslSession {
    const { user } = credentials;
    if (!user) throw missing(XOAUTH2, 'a user name');
    if (FIELD_UNSAFE.test(user)) throw unusable(XOAUTH2, 'the user name contains a control character');
    const token = checkToken(XOAUTH2, credentials.secret);
    const message = utf8(`user=${user}${CTRL_A}auth=Bearer ${token}${CTRL_A}${CTRL_A}`);
    return bearerSession(XOAUTH2, message, () => new Uint8Array(0));
  },
};

const OAUTHBEARER = 'OAUTHBEARER';

export const oauthbearer: MechanismFactory = {
  name: OAUTHBEARER,
  needsSecret: true,
  needsChannelBinding: false,
  start(credentials: Credentials): SaslSession {
    const token = checkToken(OAUTHBEARER, credentials.secret);
    // The authorization identity is the configured authzid, or else the user
    // name (as in RFC 7628's examples and as Gmail expects); none when both are empty.
    const authzid = credentials.authzid || credentials.user;
    if (FIELD_UNSAFE.test(authzid)) throw unusable(OAUTHBEARER, 'the user name contains a control character');
    const { host, port } = credentials;
    if (host !== undefined && (host === '' || FIELD_UNSAFE.test(host))) throw unusable(OAUTHBEARER, 'the host name is empty or contains a control character');
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw unusable(OAUTHBEARER, `the port ${port} is not a TCP port`);
    const gs2Header = authzid ? `n,a=${saslName(authzid)},` : 'n,,';
    const pairs = [
      ...(host === undefined ? [] : [`host=${host}`]),
      ...(port === undefined ? [] : [`port=${port}`]),
      `auth=Bearer ${token}`,
    ];
    const message = utf8(`${gs2Header}${CTRL_A}${pairs.join(CTRL_A)}${CTRL_A}${CTRL_A}`);
    return bearerSession(OAUTHBEARER, message, () => Uint8Array.of(0x01));
  },
};
