/**
 * What a transaction is about, as data: who sends to whom, the DSN asked for,
 * and facts about the spooled mail. These types sit in their own module
 * because transaction.ts, mail-parameters.ts and bdat.ts all need them and
 * import each other's functions in one direction only (transaction.ts uses
 * the other two); kept in one of them, the types made a circle of imports.
 */

export interface Envelope {
  /** The reverse-path; "" is the null path `<>` (bounces). */
  readonly reversePath: string;
  readonly recipients: readonly string[];
  /** Delivery status notifications asked for (RFC 3461). */
  readonly dsn?: DsnRequest;
}

/** Delivery status notifications asked for (RFC 3461): msmtp's -N and -R, and -V. */
export interface DsnRequest {
  /** NOTIFY= on each RCPT: "NEVER" or a list like "FAILURE,DELAY". */
  readonly notify?: string;
  /** RET= on MAIL: "HDRS" or "FULL". */
  readonly ret?: 'HDRS' | 'FULL';
  /** ENVID= on MAIL (sendmail's -V). */
  readonly envid?: string;
}

export interface MessageFacts {
  /** Octets after CRLF normalisation, without dot-stuffing: RFC 1870's message size. */
  readonly octets: number;
  /** Any byte ≥ 0x80 in the message. */
  readonly has8bit: boolean;
  /** The caller's declaration (sendmail's -B, a client's BODY=): `7BIT` is never declared 8BITMIME; `8BITMIME` always is where offered. */
  readonly body?: '7BIT' | '8BITMIME' | undefined;
}
