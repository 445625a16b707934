/**
 * How long each network wait may take. With `timeout N` (msmtp) every phase
 * gets N seconds; without it, RFC 5321 §4.5.3.2's minimums apply, so nothing
 * ever waits for ever.
 */
export interface Timeouts {
  readonly connect: number;
  /** The 220 greeting (§4.5.3.2.1: 5 minutes). */
  readonly greeting: number;
  /** EHLO, HELO, QUIT, RSET and the like (the general 5 minutes). */
  readonly command: number;
  /** MAIL (§4.5.3.2.2: 5 minutes). */
  readonly mail: number;
  /** RCPT (§4.5.3.2.3: 5 minutes). */
  readonly rcpt: number;
  /** The 354 reply to DATA (§4.5.3.2.4: 2 minutes). */
  readonly dataInitiation: number;
  /** Each data block written (§4.5.3.2.5: 3 minutes). */
  readonly dataBlock: number;
  /** The reply after the final dot (§4.5.3.2.6: 10 minutes). */
  readonly dataTermination: number;
}

const MINUTE = 60_000;

/**
 * RFC 5321 gives no connect timeout; two minutes is about what Linux itself
 * gives up after (tcp_syn_retries = 6), so `timeout off` behaves as before.
 */
const RFC5321_TIMEOUTS: Timeouts = {
  connect: 2 * MINUTE,
  greeting: 5 * MINUTE,
  command: 5 * MINUTE,
  mail: 5 * MINUTE,
  rcpt: 5 * MINUTE,
  dataInitiation: 2 * MINUTE,
  dataBlock: 3 * MINUTE,
  dataTermination: 10 * MINUTE,
};

/** `timeout off` → RFC defaults; `timeout N` → N seconds for every phase, as msmtp does. */
export function timeoutsFor(seconds: number | 'off'): Timeouts {
  if (seconds === 'off') return RFC5321_TIMEOUTS;
  const ms = seconds * 1000;
  return {
    connect: ms, greeting: ms, command: ms, mail: ms, rcpt: ms,
    dataInitiation: ms, dataBlock: ms, dataTermination: ms,
  };
}
