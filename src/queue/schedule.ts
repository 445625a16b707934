/**
 * When a queued mail is tried again. Like Postfix and nullmailer: about a
 * minute after the first failure, doubling each time, capped at about an
 * hour, with a little jitter so mails queued together do not retry in step.
 * A mail older than its lifetime is not retried: it fails.
 */

export const FIRST_RETRY_SECONDS = 60;
export const MAX_RETRY_SECONDS = 3600;
/** ±10 %. */
const JITTER = 0.1;

/** Default `queue_lifetime`: five days, as Postfix and dma. */
export const DEFAULT_LIFETIME_SECONDS = 5 * 24 * 3600;

/**
 * The wait before the next attempt, in milliseconds, after `attempts`
 * attempts (1 or more). `random` is in [0, 1), Math.random by default.
 */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const doublings = Math.max(0, Math.min(attempts - 1, 30));
  const base = Math.min(FIRST_RETRY_SECONDS * 2 ** doublings, MAX_RETRY_SECONDS);
  const factor = 1 - JITTER + 2 * JITTER * random();
  return Math.round(base * factor * 1000);
}

/** Whether a mail queued at `queuedAt` has outlived `lifetimeSeconds` at `now`. */
export function isExpired(queuedAt: Date, now: Date, lifetimeSeconds: number): boolean {
  return now.getTime() - queuedAt.getTime() >= lifetimeSeconds * 1000;
}
