/**
 * What one delivery attempt does to a record, as pure functions: each
 * recipient's new state from the server's replies, the next attempt from the
 * schedule, and the end of the road when the lifetime is over. The flush
 * (flush.ts) writes the result durably before it sends anything else.
 */
import { isTransientReply, type ServerReply } from '../errors.js';
import { storedReply, type QueueRecord, type RecipientRecord } from './record.js';
import { isExpired, retryDelayMs } from './schedule.js';

/** The server's word on one recipient in one attempt. */
export interface RecipientOutcome {
  readonly address: string;
  readonly reply: ServerReply;
  readonly delivered: boolean;
}

/** Recipients this attempt still has to deliver to. */
export function pendingRecipients(record: QueueRecord): string[] {
  return record.recipients.filter((r) => r.state === 'pending').map((r) => r.address);
}

/**
 * The record after an attempt that reached the server: delivered recipients
 * are never sent to again, a 5xx fails its recipient, a 4xx leaves it pending.
 */
export function afterReplies(record: QueueRecord, outcomes: readonly RecipientOutcome[], now: Date): QueueRecord {
  const byAddress = new Map(outcomes.map((o) => [o.address, o]));
  const recipients = record.recipients.map((r): RecipientRecord => {
    const outcome = r.state === 'pending' ? byAddress.get(r.address) : undefined;
    if (!outcome) return r;
    const state = outcome.delivered ? 'delivered' : isTransientReply(outcome.reply) ? 'pending' : 'failed';
    return { address: r.address, state, reply: storedReply(outcome.reply) };
  });
  return { ...record, recipients, attempts: record.attempts + 1, last_attempt: now.toISOString(), last_error: null };
}

/** The record after an attempt that failed before any recipient was decided (no connection, a 421, a timeout). */
export function afterFailure(record: QueueRecord, reason: string, now: Date): QueueRecord {
  return { ...record, attempts: record.attempts + 1, last_attempt: now.toISOString(), last_error: reason };
}

/** Pending recipients fail when the mail has outlived its lifetime. */
export function expire(record: QueueRecord, lifetimeSeconds: number, now: Date): QueueRecord {
  if (!isExpired(new Date(record.queued_at), now, lifetimeSeconds)) return record;
  const reason = `not delivered within the queue lifetime (${formatSeconds(lifetimeSeconds)})${record.last_error ? `; last error: ${record.last_error}` : ''}`;
  return {
    ...record,
    recipients: record.recipients.map((r) => (r.state === 'pending' ? { ...r, state: 'failed' } : r)),
    last_error: reason,
  };
}

export type Verdict = 'delivered' | 'retry' | 'give-up';

/** Everyone delivered; someone still pending; or nothing left to try with at least one failure. */
export function verdict(record: QueueRecord): Verdict {
  if (record.recipients.some((r) => r.state === 'pending')) return 'retry';
  return record.recipients.every((r) => r.state === 'delivered') ? 'delivered' : 'give-up';
}

/** The record with its next attempt scheduled. */
export function scheduleNext(record: QueueRecord, now: Date, random?: () => number): QueueRecord {
  return { ...record, next_attempt: new Date(now.getTime() + retryDelayMs(Math.max(1, record.attempts), random)).toISOString() };
}

/** "5d", "3h", "90s": the largest whole unit. */
function formatSeconds(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0 && seconds >= size) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
