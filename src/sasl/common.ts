/** Small helpers shared by the mechanisms. Not part of the public API. */
import { OutboxError } from '../errors.js';

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
const lenientDecoder = new TextDecoder('utf-8');

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes a challenge as UTF-8, refusing invalid sequences with E_PROTOCOL. */
export function decodeStrict(mechanism: string, bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw protocolError(mechanism, 'the server sent a challenge that is not valid UTF-8');
  }
}

export function decodeLenient(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes);
}

export function protocolError(mechanism: string, message: string): OutboxError {
  return new OutboxError('E_PROTOCOL', `AUTH ${mechanism}: ${message}`, { command: 'AUTH' });
}

/** A credential the mechanism needs is not configured. */
export function missing(mechanism: string, what: string): OutboxError {
  return new OutboxError('E_NO_CREDENTIALS', `AUTH ${mechanism} needs ${what}`, { command: 'AUTH' });
}

export function unusable(mechanism: string, message: string): OutboxError {
  return new OutboxError('E_CONFIG', `AUTH ${mechanism}: ${message}`, { command: 'AUTH' });
}

const MAX_SERVER_TEXT = 1000;

/**
 * Server-supplied text made safe to print: control characters (which could
 * drive a terminal) become U+FFFD, and the text is cut at 1000 characters.
 */
export function serverText(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
  return clean.length > MAX_SERVER_TEXT ? `${clean.slice(0, MAX_SERVER_TEXT)}…` : clean;
}

/**
 * The state machine shared by the mechanisms whose whole message is the
 * initial response (PLAIN, EXTERNAL, XOAUTH2, OAUTHBEARER): the message goes
 * out either as the initial response or, when the client did not send one, in
 * answer to the server's first, empty challenge.
 */
export class OneShot {
  #sent = false;
  constructor(
    private readonly mechanism: string,
    private readonly message: Uint8Array,
  ) {}

  get sent(): boolean {
    return this.#sent;
  }

  initial(): Uint8Array {
    this.#sent = true;
    return this.message;
  }

  /** Answers the first challenge when no initial response was sent; undefined once it was. */
  answerFirst(challenge: Uint8Array): Uint8Array | undefined {
    if (this.#sent) return undefined;
    if (challenge.length !== 0) throw protocolError(this.mechanism, 'the server sent a non-empty first challenge');
    this.#sent = true;
    return this.message;
  }
}

/** RFC 5802 saslname: `=` becomes `=3D`, `,` becomes `=2C`. */
export function saslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}
