/**
 * The queue as data, for `mailq`, `-bp` and `--queue-list` (`--json` prints
 * it as it is; cli/queue-render.ts turns it into text). The field names are
 * an interface: scripts read them.
 */
import type { QueueRecord, RecipientState, StoredReply } from './record.js';
import type { Listing } from './store.js';

export interface ListedRecipient {
  readonly address: string;
  readonly state: RecipientState;
  /** The last reply about this recipient, "451 4.7.1 greylisted", or null before any attempt. */
  readonly reply: string | null;
}

export interface ListedMail {
  readonly id: string;
  /** `active` while a flush is delivering it. */
  readonly status: 'queued' | 'active';
  /** The account's name; "" for one made of the command line or the environment. */
  readonly account: string;
  /** The envelope sender; "" is the null sender of a bounce. */
  readonly from: string;
  readonly size: number;
  readonly queued_at: string;
  readonly attempts: number;
  readonly next_attempt: string;
  readonly last_attempt: string | null;
  readonly last_error: string | null;
  readonly recipients: readonly ListedRecipient[];
  /** `mda`: a part for the account's MDA (local delivery); absent for SMTP. */
  readonly via?: 'mda';
}

export interface ListedCorrupt {
  readonly id: string;
  readonly folder: string;
  readonly reason: string;
}

export interface QueueListing {
  readonly mails: readonly ListedMail[];
  readonly corrupt: readonly ListedCorrupt[];
}

export function replyText(reply: StoredReply | null): string | null {
  return reply === null ? null : `${reply.code} ${reply.text}`.trimEnd();
}

function listedMail(record: QueueRecord, status: 'queued' | 'active'): ListedMail {
  return {
    id: record.id,
    status,
    account: record.account.name,
    from: record.from,
    size: record.size,
    queued_at: record.queued_at,
    attempts: record.attempts,
    next_attempt: record.next_attempt,
    last_attempt: record.last_attempt,
    last_error: record.last_error,
    recipients: record.recipients.map((r) => ({ address: r.address, state: r.state, reply: replyText(r.reply) })),
    ...(record.via ? { via: record.via } : {}),
  };
}

export function queueListing(listing: Listing): QueueListing {
  return {
    mails: listing.entries.map((e) => listedMail(e.record, e.state)),
    corrupt: listing.corrupt.map((c) => ({ id: c.id, folder: c.folder, reason: c.reason })),
  };
}
