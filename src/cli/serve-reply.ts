/**
 * What the relay tells its client once each part of a mail (parts.ts) has
 * been delivered, queued or has failed (docs/serve.md, "The relay: fall-over, routes, local delivery"). A part
 * queued (`queue always`, or `on_failure` after a temporary failure) counts
 * as delivered: it is durable and the queue takes care of it.
 *
 * LMTP gives each recipient its own reply: its part's outcome, exact.
 *
 * SMTP has one reply for the whole mail:
 * - every part delivered or queued: 250;
 * - no part delivered: the failure as one reply, permanent (5xx) when any
 *   part failed for good, else 451; the client may resend the whole mail,
 *   since nobody has it yet. A mail of one part is answered as before parts;
 * - some recipients have it (a part delivered, a next hop's LMTP or a
 *   per-recipient MDA accepted some), others not: a 451 would make the client send
 *   the mail again to those who have it. The relay has taken responsibility
 *   for it, as an MTA that accepted it: the failed parts are queued, with
 *   their failure recorded, whatever the account's `queue` mode, and the
 *   client gets 250; the queue retries them and bounces (RFC 3464) to the
 *   sender what it cannot deliver. Only if that queueing itself fails is the
 *   reply 451 (RFC 5321 §6.1: a duplicate is better than a lost mail).
 */
import { OutboxError } from '../errors.js';
import type { Delivery, Envelope } from '../server/backend.js';
import { lmtpReply } from '../server/delivery-reply.js';
import type { ReplySpec } from '../smtp/reply-format.js';
import { isTemporary, localResultsOf, queuePart, type PartContext } from './part-delivery.js';
import type { PartOutcome } from './parts-report.js';
import { deliveryForError } from './serve-account.js';

export async function relayDelivery(outcomes: readonly PartOutcome[], envelope: Envelope, context: PartContext): Promise<Delivery> {
  const whole = await smtpDelivery(outcomes, envelope, context);
  if (envelope.protocol !== 'lmtp') return whole;
  const replies = envelope.recipients.map((address, index): ReplySpec => {
    const outcome = outcomes.find((o) => o.part.recipients.includes(address));
    // A recipient the account's aliases replaced is in no part by its own name: it gets the whole mail's reply.
    if (!outcome) return lmtpReply(whole, index, address);
    return lmtpReply(outcomeDelivery(outcome), outcome.part.recipients.indexOf(address), address);
  });
  return { kind: 'per-recipient', replies };
}

/** One part's outcome as a Delivery of its own; a local part whose MDA delivered to some recipients answers each. */
function outcomeDelivery(outcome: PartOutcome): Delivery {
  if (outcome.error === undefined) return { kind: 'delivered', id: outcome.queued?.id ?? 'relayed' };
  const results = localResultsOf(outcome.error);
  if (!results.some((r) => !r.error)) return deliveryForError(outcome.error, outcome.part.recipients);
  const replies = results.map((r): ReplySpec => (r.error ? lmtpReply(deliveryForError(r.error, [r.recipient]), 0, r.recipient) : { code: 250, text: '2.0.0 delivered locally' }));
  return { kind: 'per-recipient', replies };
}

/** A failed part some of whose recipients have the mail all the same: the next hop's LMTP accepted some, or the MDA delivered to some. */
function someHaveIt(error: unknown): boolean {
  if (error instanceof OutboxError && error.code === 'E_PARTIAL_DELIVERY' && 'results' in error) {
    return (error.results as readonly { delivered: boolean }[]).some((r) => r.delivered);
  }
  return locallyDelivered(error).size > 0;
}

/** The recipients of a failed local part that have the mail all the same. */
function locallyDelivered(error: unknown): ReadonlySet<string> {
  return new Set(localResultsOf(error).filter((r) => !r.error).map((r) => r.recipient));
}

async function smtpDelivery(outcomes: readonly PartOutcome[], envelope: Envelope, context: PartContext): Promise<Delivery> {
  const failed = outcomes.filter((o) => o.error !== undefined);
  const id = outcomes.find((o) => o.queued)?.queued?.id ?? 'relayed';
  if (failed.length === 0) return { kind: 'delivered', id };
  if (!outcomes.some((o) => o.error === undefined || someHaveIt(o.error))) {
    // Nobody has the mail: one failure (of a mail of one part, its own, as before parts existed).
    const permanent = failed.find((o) => !isTemporary(o.error));
    return deliveryForError((permanent ?? failed[0]!).error, envelope.recipients);
  }
  if (envelope.protocol === 'lmtp') return { kind: 'delivered', id }; // each recipient is answered by its own part
  try {
    for (const outcome of failed) {
      const failure = outcome.error instanceof OutboxError ? outcome.error : undefined;
      // Only who lacks the mail: the queue's record keeps per-recipient state for SMTP (LMTP's partial delivery), not for an MDA.
      const delivered = locallyDelivered(outcome.error);
      const part = { ...outcome.part, recipients: outcome.part.recipients.filter((r) => !delivered.has(r)) };
      await queuePart(part, context, new Date(), false, failure);
    }
  } catch (error) {
    return deliveryForError(error, envelope.recipients);
  }
  return { kind: 'delivered', id };
}
