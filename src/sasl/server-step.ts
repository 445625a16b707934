/**
 * The shapes every server-side SASL exchange shares (server.ts's PLAIN and
 * LOGIN, server-scram.ts's SCRAM-SHA-256): what a step asks the session to
 * do next. Types only, in a module of their own so neither exchange module
 * imports the other for them.
 */

/** RFC 5802 §3's stored form of a password for one user. */
export interface ScramCredentials {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** What a step asks the session to do next. */
export type SaslServerStep =
  /** Send `334 <challenge>` (already base64; "" for an empty challenge). */
  | { readonly kind: 'challenge'; readonly challenge: string }
  /** The exchange is over: check these. */
  | { readonly kind: 'credentials'; readonly user: string; readonly password: string }
  /** The client cancelled with "*" (RFC 4954 §4). */
  | { readonly kind: 'cancelled' }
  /** Not base64, not UTF-8, or not the mechanism's message shape. */
  | { readonly kind: 'malformed'; readonly why: 'base64' | 'message' }
  /** SCRAM: look up the user's stored credentials (undefined: unknown) and resume with them. */
  | { readonly kind: 'lookup'; readonly user: string; resume(credentials: ScramCredentials | undefined): SaslServerStep }
  /** SCRAM: the client proved it knows the password. */
  | { readonly kind: 'authenticated'; readonly user: string }
  /** SCRAM: a wrong proof, or an unknown user. */
  | { readonly kind: 'refused'; readonly user: string };

export interface SaslServerExchange {
  readonly mechanism: string;
  /** The AUTH command's initial response ("=" is an empty one), or undefined when it had none. */
  start(initialResponse: string | undefined): SaslServerStep;
  /** The client's next line. */
  respond(line: string): SaslServerStep;
}
