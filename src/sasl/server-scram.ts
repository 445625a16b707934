/**
 * The server's side of SCRAM-SHA-256 (RFC 5802, RFC 7677), without channel
 * binding (no -PLUS), as pure steps like server.ts's PLAIN and LOGIN:
 *
 *   C: n,,n=USER,r=CNONCE                 (AUTH's initial response, or after 334)
 *   S: r=CNONCE+SNONCE,s=SALT,i=ITERATIONS
 *   C: c=biws,r=CNONCE+SNONCE,p=PROOF
 *   S: v=SERVER-SIGNATURE                 (a 334 challenge: RFC 4954 has no data with 235)
 *   C: (empty)                            → 235
 *
 * The server keeps RFC 5802's stored form, never the password: salt,
 * iterations, StoredKey and ServerKey (`scramCredentials`). It checks the
 * client's proof itself and proves it knows the password with ServerSignature.
 * An unknown user gets a made-up salt and fails at the proof like a wrong
 * password, so the exchange does not tell who exists.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { BASE64, decodeResponse } from './response-base64.js';
import { saslprep } from './saslprep.js';
import type { SaslServerExchange, SaslServerStep, ScramCredentials } from './server-step.js';

/** RFC 7677 §4: at least 4096. */
export const SCRAM_ITERATIONS = 4096;
const NAME = 'SCRAM-SHA-256';
const HASH = 'sha256';
const KEY_LENGTH = 32;

const hmac = (key: Uint8Array, data: string): Buffer => createHmac(HASH, key).update(data, 'utf8').digest();
const sha256 = (data: Uint8Array): Buffer => createHash(HASH).update(data).digest();

/** The stored form of `password` (SASLprep'd, RFC 5802 §2.2); undefined when SASLprep refuses it. */
export function scramCredentials(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): ScramCredentials | undefined {
  const prepared = saslprep(password);
  if (!prepared.ok || prepared.value === '') return undefined;
  const salted = pbkdf2Sync(prepared.value, salt, iterations, KEY_LENGTH, HASH);
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

export interface ScramServerOptions {
  /** The server's part of the nonce (tests give RFC 7677's); default 18 random bytes in base64. */
  readonly nonce?: () => string;
}

/** RFC 5802 `printable` for nonces: %x21-2B / %x2D-7E. */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

/** This process's secret for made-up salts: stable while the server runs, unknowable from outside (made on first use, not at start-up). */
let saltSecret: Buffer | undefined;

function madeUpSalt(user: string): Buffer {
  saltSecret ??= randomBytes(32);
  return createHmac('sha256', saltSecret).update(user, 'utf8').digest().subarray(0, 16);
}

const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** RFC 5802 saslname: "=2C" is ",", "=3D" is "="; any other "=" is malformed. */
function fromSaslName(text: string): string | undefined {
  if (/=(?!2C|3D)/.test(text)) return undefined;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

type Step = SaslServerStep;
const MALFORMED: Step = { kind: 'malformed', why: 'message' };

export function scramSha256ServerExchange(options: ScramServerOptions = {}): SaslServerExchange {
  let next: ((text: string) => Step) | undefined;

  const read = (line: string): Step => {
    if (line === '*') return { kind: 'cancelled' };
    const text = decodeResponse(line);
    if (text === undefined) return { kind: 'malformed', why: 'base64' };
    const handler = next;
    next = undefined;
    return handler ? handler(text) : MALFORMED;
  };

  /** gs2-header client-first-message-bare: "n" or "y" (we offer no -PLUS), no authzid but the user itself. */
  const clientFirst = (text: string): Step => {
    const match = /^([ny]),(?:a=([^,]*))?,(n=([^,]*),r=([^,]+)(?:,.*)?)$/.exec(text);
    if (!match) return MALFORMED;
    const [, , authzid, bare, name, clientNonce] = match as unknown as [string, string, string | undefined, string, string, string];
    const user = fromSaslName(name);
    if (user === undefined || user === '' || !PRINTABLE.test(clientNonce) || bare.includes(',m=')) return MALFORMED;
    if (authzid !== undefined && authzid !== '' && fromSaslName(authzid) !== user) return MALFORMED;
    const gs2Header = text.slice(0, text.length - bare.length);
    return {
      kind: 'lookup',
      user,
      resume: (credentials) => serverFirst(user, gs2Header, bare, clientNonce, credentials),
    };
  };

  const serverFirst = (user: string, gs2Header: string, clientFirstBare: string, clientNonce: string, found: ScramCredentials | undefined): Step => {
    // A user we do not know still gets a salt, the same one each time (RFC 5802 §5.1: a salt that changed
    // between attempts would tell that the name does not exist), and fails at the proof like a wrong password.
    const credentials = found ?? { salt: madeUpSalt(user), iterations: SCRAM_ITERATIONS, storedKey: randomBytes(KEY_LENGTH), serverKey: randomBytes(KEY_LENGTH) };
    const nonce = clientNonce + (options.nonce?.() ?? randomBytes(18).toString('base64'));
    const message = `r=${nonce},s=${credentials.salt.toString('base64')},i=${credentials.iterations}`;
    next = (text) => clientFinal(text, { user, gs2Header, nonce, authPrefix: `${clientFirstBare},${message}`, credentials, known: found !== undefined });
    return { kind: 'challenge', challenge: encode(message) };
  };

  interface Exchange {
    readonly user: string;
    readonly gs2Header: string;
    readonly nonce: string;
    readonly authPrefix: string;
    readonly credentials: ScramCredentials;
    readonly known: boolean;
  }

  const clientFinal = (text: string, x: Exchange): Step => {
    const match = /^(c=([^,]*),r=([^,]*)(?:,[^p][^,]*)*),p=([^,]+)$/.exec(text);
    if (!match) return MALFORMED;
    const [, withoutProof, binding, nonce, proofText] = match as unknown as [string, string, string, string, string];
    // The channel binding must repeat the gs2-header (no binding data: we offer no -PLUS).
    if (binding !== encode(x.gs2Header) || nonce !== x.nonce || !BASE64.test(proofText)) return { kind: 'refused', user: x.user };
    const authMessage = `${x.authPrefix},${withoutProof}`;
    const proof = Buffer.from(proofText, 'base64');
    const signature = hmac(x.credentials.storedKey, authMessage);
    if (proof.length !== signature.length) return { kind: 'refused', user: x.user };
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    if (!timingSafeEqual(sha256(clientKey), x.credentials.storedKey) || !x.known) return { kind: 'refused', user: x.user };
    next = (last) => (last === '' ? { kind: 'authenticated', user: x.user } : MALFORMED);
    return { kind: 'challenge', challenge: encode(`v=${hmac(x.credentials.serverKey, authMessage).toString('base64')}`) };
  };

  return {
    mechanism: NAME,
    // The client speaks first; without an initial response the server sends an empty challenge.
    start: (initial) => {
      next = clientFirst;
      return initial === undefined ? { kind: 'challenge', challenge: '' } : read(initial);
    },
    respond: read,
  };
}
