/**
 * The one interface every SASL mechanism implements (RFC 4422). A mechanism
 * is pure: it turns credentials and server challenges into response bytes.
 * The SMTP layer owns everything around it (the 334 loop, base64, the cap on
 * challenges, the `*` abort, pipelining, redaction).
 */

/** TLS channel binding data for the -PLUS mechanisms (RFC 5929 tls-unique, RFC 9266 tls-exporter). */
export interface ChannelBinding {
  readonly type: 'tls-exporter' | 'tls-unique';
  readonly data: Uint8Array;
}

export interface Credentials {
  /** Authentication identity (may be '' for EXTERNAL). */
  readonly user: string;
  /** Password, or OAuth2 access token for XOAUTH2/OAUTHBEARER. */
  readonly secret?: string;
  /** Optional authorization identity. */
  readonly authzid?: string;
  /** For OAUTHBEARER's host/port fields. */
  readonly host?: string;
  readonly port?: number;
  /** For the -PLUS mechanisms. */
  readonly channelBinding?: ChannelBinding;
}

/** Raw bytes; the SMTP layer base64-encodes them. */
export interface SaslStep {
  readonly response: Uint8Array;
}

export interface SaslSession {
  /** e.g. "SCRAM-SHA-256-PLUS" */
  readonly mechanism: string;
  /**
   * The initial response (RFC 4954 §4), or undefined when the mechanism starts
   * with an empty challenge (LOGIN, CRAM-MD5). An empty array is an empty
   * initial response, which SMTP sends as `=`.
   */
  initialResponse(): Uint8Array | undefined;
  /**
   * Answers a server challenge (already base64-decoded). Throws
   * OutboxError('E_PROTOCOL') on a malformed or forged challenge (a SCRAM
   * server signature mismatch, a nonce that does not extend ours, an
   * iteration count below 4096, a challenge where the mechanism expects none).
   * A mechanism whose initial response was never asked for answers the
   * server's first (empty) challenge with it.
   */
  respond(challenge: Uint8Array): Uint8Array;
  /**
   * Called after the server's success (235): SCRAM throws
   * OutboxError('E_PROTOCOL') when the server signature was never verified;
   * the others do nothing.
   */
  finish(): void;
  /** True once the mechanism has nothing more to send (one-round-trip mechanisms after the initial response). */
  readonly complete: boolean;
  /**
   * The error the server reported inside the exchange, as text with control
   * characters replaced: XOAUTH2's and OAUTHBEARER's JSON, SCRAM's `e=` value.
   * The mechanism answered it with the response its RFC asks for, so the
   * server's final reply (535 and the like) still follows; the SMTP layer adds
   * this text to the error it reports.
   */
  readonly serverError?: string;
}

export interface MechanismFactory {
  readonly name: string;
  readonly needsSecret: boolean;
  readonly needsChannelBinding: boolean;
  /**
   * Starts one exchange. Throws OutboxError('E_NO_CREDENTIALS') when a credential
   * the mechanism needs is missing (user, secret, channel binding), and
   * OutboxError('E_CONFIG') when one cannot be sent (a NUL in a PLAIN
   * password, a character SASLprep prohibits). `random` (default
   * crypto.randomBytes) supplies SCRAM's client nonce.
   */
  start(credentials: Credentials, random?: (bytes: number) => Uint8Array): SaslSession;
}
