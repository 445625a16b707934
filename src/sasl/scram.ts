/**
 * SCRAM (RFC 5802) with SHA-1 and SHA-256 (RFC 7677), and their channel-bound
 * -PLUS variants (tls-unique, RFC 5929; tls-exporter, RFC 9266).
 *
 *   C: gs2-header n=USER,r=CNONCE                       (initial response)
 *   S: r=CNONCE+SNONCE,s=SALT,i=ITERATIONS
 *   C: c=base64(gs2-header [+ cbind-data]),r=CNONCE+SNONCE,p=PROOF
 *   S: v=SERVER-SIGNATURE                                 (or e=ERROR)
 *   C: (empty)
 *
 * The client refuses a server-first message whose nonce does not extend its
 * own, an iteration count below 4096 (RFC 7677 §4 asks for at least that;
 * fewer make a recorded exchange cheap to attack) or above 10,000,000 (the
 * key derivation would stall outbox for many seconds: a hostile server's
 * denial of service), and a server-final message whose signature is wrong.
 * `finish()` refuses a success the server never proved with a signature.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { OutboxError } from '../errors.js';
import { decodeStrict, missing, protocolError, saslName, serverText, unusable, utf8 } from './common.js';
import type { Credentials, MechanismFactory, SaslSession } from './mechanism.js';
import { saslprep } from './saslprep.js';

export type ScramHash = 'SHA-1' | 'SHA-256';

export interface ScramOptions {
  readonly hash: ScramHash;
  /** The -PLUS variant: channel binding required (`p=TYPE` in the GS2 header). */
  readonly plus: boolean;
  /**
   * For the plain variants only: the client could bind to the channel but
   * the server did not offer the -PLUS variant, so the GS2 header says `y`
   * instead of `n` (RFC 5802 §6). A server that does support channel binding
   * then fails the exchange, which detects a man in the middle who stripped
   * -PLUS from the EHLO reply. Never set it when the server offered -PLUS.
   */
  readonly clientSupportsChannelBinding?: boolean;
}

/** RFC 7677 §4: "at least 4096". */
export const MIN_ITERATIONS = 4096;
/** More would block for many seconds. */
export const MAX_ITERATIONS = 10_000_000;
/** The client nonce is the base64 of this many bytes from `random` (192 bits). */
const NONCE_BYTES = 24;

const HASHES = { 'SHA-1': { node: 'sha1', length: 20 }, 'SHA-256': { node: 'sha256', length: 32 } } as const;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 5802 `printable`: %x21-2B / %x2D-7E. */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const ATTRIBUTE = /^[A-Za-z]=/;

type State = 'start' | 'first-sent' | 'final-sent' | 'verified' | 'failed';

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function scramMechanism(options: ScramOptions): MechanismFactory {
  const name = `SCRAM-${options.hash}${options.plus ? '-PLUS' : ''}`;
  const hash = HASHES[options.hash];
  const hmac = (key: Uint8Array, data: Uint8Array | string): Buffer => createHmac(hash.node, key).update(data).digest();
  const digest = (data: Uint8Array): Buffer => createHash(hash.node).update(data).digest();
  const fail = (message: string): OutboxError => protocolError(name, message);

  function prepare(what: string, value: string): string {
    const result = saslprep(value);
    // The reason names a kind of character, never the character: this may be the password.
    if (!result.ok) throw unusable(name, `the ${what} contains ${result.reason}, which SASLprep (RFC 4013) prohibits`);
    if (result.value === '') throw unusable(name, `the ${what} is empty after SASLprep (RFC 4013)`);
    return result.value;
  }

  function start(credentials: Credentials, random: (bytes: number) => Uint8Array = randomBytes): SaslSession {
    if (!credentials.user) throw missing(name, 'a user name');
    if (!credentials.secret) throw missing(name, 'a password');
    const binding = credentials.channelBinding;
    if (options.plus && (binding === undefined || binding.data.length === 0)) {
      throw new OutboxError('E_CAPABILITY', `AUTH ${name} needs TLS channel binding data (tls-exporter or tls-unique), which this connection does not provide`, { command: 'AUTH' });
    }
    const user = prepare('user name', credentials.user);
    const password = prepare('password', credentials.secret);
    const authzid = credentials.authzid ? `a=${saslName(credentials.authzid)}` : '';
    const flag = options.plus ? `p=${binding?.type}` : options.clientSupportsChannelBinding ? 'y' : 'n';
    const gs2Header = `${flag},${authzid},`;
    const cbindInput = options.plus && binding ? concat(utf8(gs2Header), binding.data) : utf8(gs2Header);
    const nonceBytes = random(NONCE_BYTES);
    if (nonceBytes.length === 0) throw new OutboxError('E_CONFIG', `AUTH ${name}: the random source returned no bytes`);
    const clientNonce = base64(nonceBytes);
    const clientFirstBare = `n=${saslName(user)},r=${clientNonce}`;
    const clientFirst = utf8(gs2Header + clientFirstBare);

    let state: State = 'start';
    let expectedServerSignature: Buffer | undefined;
    let serverError: string | undefined;

    function attributes(text: string, what: string): string[] {
      const parts = text.split(',');
      for (const part of parts) if (!ATTRIBUTE.test(part)) throw fail(`the server's ${what} message is malformed`);
      return parts;
    }

    function serverFirst(text: string): Uint8Array {
      if (text.startsWith('e=')) return serverFailed(text.slice(2).split(',')[0] ?? '');
      const parts = attributes(text, 'first');
      if (parts[0]?.startsWith('m=')) throw fail('the server requires an extension outbox does not support (m=)');
      const [r, s, i] = parts;
      if (!r?.startsWith('r=') || !s?.startsWith('s=') || !i?.startsWith('i=')) {
        throw fail("the server's first message is malformed (expected r=, s= and i=)");
      }
      const nonce = r.slice(2);
      if (!nonce.startsWith(clientNonce) || nonce.length === clientNonce.length || !PRINTABLE.test(nonce)) {
        throw fail("the server's nonce does not extend the client's: the exchange may have been tampered with");
      }
      const saltText = s.slice(2);
      if (saltText === '' || !BASE64.test(saltText)) throw fail("the server's salt is not base64");
      const iterationText = i.slice(2);
      if (!/^[0-9]{1,10}$/.test(iterationText)) throw fail("the server's iteration count is not a number");
      const iterations = Number(iterationText);
      if (iterations < MIN_ITERATIONS) {
        throw fail(`the server asks for ${iterations} iterations; RFC 7677 asks for at least ${MIN_ITERATIONS}, and fewer make a recorded exchange cheap to attack`);
      }
      if (iterations > MAX_ITERATIONS) throw fail(`the server asks for ${iterations} iterations, more than the ${MAX_ITERATIONS} outbox accepts`);

      const salted = pbkdf2Sync(password, Buffer.from(saltText, 'base64'), iterations, hash.length, hash.node);
      const clientKey = hmac(salted, 'Client Key');
      const storedKey = digest(clientKey);
      const clientFinalWithoutProof = `c=${base64(cbindInput)},r=${nonce}`;
      const authMessage = `${clientFirstBare},${text},${clientFinalWithoutProof}`;
      const clientSignature = hmac(storedKey, authMessage);
      const proof = Buffer.alloc(clientKey.length);
      for (let k = 0; k < proof.length; k += 1) proof[k] = (clientKey[k] ?? 0) ^ (clientSignature[k] ?? 0);
      expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      state = 'final-sent';
      return utf8(`${clientFinalWithoutProof},p=${proof.toString('base64')}`);
    }

    function serverFinal(text: string): Uint8Array {
      const parts = attributes(text, 'final');
      const first = parts[0] ?? '';
      if (first.startsWith('e=')) return serverFailed(first.slice(2));
      if (!first.startsWith('v=')) throw fail("the server's final message is malformed (expected v= or e=)");
      const signatureText = first.slice(2);
      if (signatureText === '' || !BASE64.test(signatureText)) throw fail("the server's signature is not base64");
      const signature = Buffer.from(signatureText, 'base64');
      const expected = expectedServerSignature;
      if (expected === undefined || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
        state = 'failed';
        throw fail("the server's signature is wrong: the server does not know the password, or someone is in the middle");
      }
      state = 'verified';
      return new Uint8Array(0);
    }

    function serverFailed(error: string): Uint8Array {
      // RFC 5802 §7 server-error: answer with an empty response; the server's failure reply follows.
      serverError = serverText(error);
      state = 'failed';
      return new Uint8Array(0);
    }

    return {
      mechanism: name,
      initialResponse() {
        if (state === 'start') state = 'first-sent';
        return clientFirst;
      },
      respond(challenge) {
        switch (state) {
          case 'start':
            if (challenge.length !== 0) throw fail('the server sent a non-empty first challenge');
            state = 'first-sent';
            return clientFirst;
          case 'first-sent':
            return serverFirst(decodeStrict(name, challenge));
          case 'final-sent':
            return serverFinal(decodeStrict(name, challenge));
          default:
            throw fail('the server sent a challenge after its final message');
        }
      },
      finish() {
        if (state !== 'verified') {
          throw fail('the server reported success without proving that it knows the password (no valid server signature)');
        }
      },
      get complete() {
        return state === 'verified' || state === 'failed';
      },
      get serverError() {
        return serverError;
      },
    };
  }

  return { name, needsSecret: true, needsChannelBinding: options.plus, start };
}

export const scramSha1 = scramMechanism({ hash: 'SHA-1', plus: false });
export const scramSha256 = scramMechanism({ hash: 'SHA-256', plus: false });
export const scramSha1Plus = scramMechanism({ hash: 'SHA-1', plus: true });
export const scramSha256Plus = scramMechanism({ hash: 'SHA-256', plus: true });
