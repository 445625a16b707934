/**
 * A flush: every queued mail that is due goes out, grouped so that mails for
 * the same account and server share one connection, as an MTA does (not one
 * process and one login per mail, as msmtpq and nullmailer do).
 *
 * The order of writes is what makes it safe. A mail is claimed (store.ts)
 * before anything is sent; after each transaction its outcome is made
 * durable before the next transaction's data is committed: a delivered mail
 * by its removal, any other by its record written first and then the mail
 * put back or given up. A crash therefore repeats at most the
 * one transaction whose reply was not yet recorded.
 */
import { afterFailure, afterReplies, expire, pendingRecipients, scheduleNext, verdict, type RecipientOutcome } from './attempt.js';
import type { QueueRecord } from './record.js';
import type { Claim, NewRecord, QueueStore } from './store.js';

/** One mail handed to a session: the recipients still pending and where its bytes are. */
export interface OutgoingMail {
  readonly record: QueueRecord;
  readonly recipients: readonly string[];
  readonly messagePath: string;
}

/** A connection to one server, able to carry several transactions. */
export interface CourierSession {
  /**
   * One transaction; per-recipient results as data. Throws when the session
   * failed (then it is not usable). `upcoming` is the mail the flush sends
   * next on this session: its envelope may be pipelined after this mail's data.
   */
  send(mail: OutgoingMail, upcoming?: OutgoingMail): Promise<RecipientOutcome[]>;
  /** Whether another transaction may follow on this connection. */
  readonly usable: boolean;
  close(): Promise<void>;
}

/** Where a mail goes: mails with the same key share a session. */
export interface Route {
  readonly key: string;
  open(): Promise<CourierSession>;
}

export interface Courier {
  /** Throws (a configuration error, say) when the mail's account cannot be used now; the mail is then retried later. */
  route(record: QueueRecord): Promise<Route>;
}

/** Makes the bounce for a mail given up on; undefined when none is to be sent (null sender, bounces off). */
export type Bouncer = (record: QueueRecord, messagePath: string, now: Date) => Promise<{ message: AsyncIterable<Uint8Array>; record: NewRecord } | undefined>;

export type FlushEvent =
  | { readonly kind: 'delivered'; readonly record: QueueRecord }
  | { readonly kind: 'deferred'; readonly record: QueueRecord }
  | { readonly kind: 'failed'; readonly record: QueueRecord; readonly bounce?: string; readonly keptIn?: string }
  | { readonly kind: 'corrupt'; readonly id: string; readonly reason: string };

export interface FlushOptions {
  readonly store: QueueStore;
  readonly courier: Courier;
  /** `all`: every mail, whatever its back-off (-q); `due`: only those whose next attempt has come (--queue-run). */
  readonly which: 'all' | 'due';
  readonly lifetimeSeconds: (record: QueueRecord) => number;
  readonly bounce: Bouncer;
  readonly now?: () => Date;
  readonly random?: () => number;
  /** Told about each mail as its attempt ends (the log, the progress line). */
  readonly onEvent?: (event: FlushEvent) => void;
}

export interface FlushReport {
  readonly attempted: number;
  readonly delivered: number;
  readonly deferred: number;
  readonly failed: number;
  /** Mails still in the queue afterwards (including those not due). */
  readonly remaining: number;
}

/** Sessions one group may open in one run: the first, and fresh ones after a 421 or a per-connection limit. */
export const MAX_SESSIONS_PER_GROUP = 100;

export async function flushQueue(options: FlushOptions): Promise<FlushReport> {
  const counts = { attempted: 0, delivered: 0, deferred: 0, failed: 0 };
  const onEvent = (event: FlushEvent): void => {
    if (event.kind !== 'corrupt') counts[event.kind === 'delivered' ? 'delivered' : event.kind === 'deferred' ? 'deferred' : 'failed']++;
    options.onEvent?.(event);
  };
  const runner = new FlushRun({ ...options, onEvent });
  await options.store.recover();
  try {
    const bounces = await runner.run(await dueRecords(options));
    // Bounces are mails like any other, with the null sender: they never bounce again, so one more round ends it.
    if (bounces.length > 0) await runner.run(await recordsOf(options.store, bounces));
  } finally {
    await runner.closeAll();
  }
  counts.attempted = runner.attempted;
  const remaining = (await options.store.list()).entries.length;
  return { ...counts, remaining };
}

async function dueRecords(options: FlushOptions): Promise<QueueRecord[]> {
  const { entries, corrupt } = await options.store.list();
  for (const entry of corrupt) options.onEvent?.({ kind: 'corrupt', id: entry.id, reason: entry.reason });
  const now = (options.now ?? (() => new Date()))();
  return entries
    .filter((e) => e.state === 'queued' && (options.which === 'all' || Date.parse(e.record.next_attempt) <= now.getTime()))
    .map((e) => e.record);
}

async function recordsOf(store: QueueStore, ids: readonly string[]): Promise<QueueRecord[]> {
  const wanted = new Set(ids);
  return (await store.list()).entries.filter((e) => e.state === 'queued' && wanted.has(e.id)).map((e) => e.record);
}

interface Link {
  session?: CourierSession | undefined;
  openFailure?: unknown;
  opened: number;
}

class FlushRun {
  attempted = 0;
  private readonly now: () => Date;
  private readonly links = new Map<string, Link>();

  constructor(private readonly options: FlushOptions & { onEvent: (event: FlushEvent) => void }) {
    this.now = options.now ?? (() => new Date());
  }

  /** Delivers the records, a group per route; returns the ids of the bounces it queued. */
  async run(records: readonly QueueRecord[]): Promise<string[]> {
    const groups = new Map<string, { route: Route; records: QueueRecord[] }>();
    const bounces: string[] = [];
    for (const record of records) {
      let route: Route;
      try {
        route = await this.options.courier.route(record);
      } catch (error) {
        await this.deferUnclaimed(record, error, bounces);
        continue;
      }
      const group = groups.get(route.key) ?? { route, records: [] };
      group.records.push(record);
      groups.set(route.key, group);
    }
    for (const { route, records: group } of groups.values()) await this.runGroup(route, group, bounces);
    return bounces;
  }

  private async runGroup(route: Route, records: readonly QueueRecord[], bounces: string[]): Promise<void> {
    // A route's session, and whether it could be opened, last the whole run: the bounces' round reuses them.
    const link = this.links.get(route.key) ?? { opened: 0 };
    this.links.set(route.key, link);
    const waiting = records.map((r) => r.id);
    // The next mail is claimed before the current one is sent, so that its
    // envelope can follow the current mail's final dot (RFC 2920 §3.1).
    const nextClaim = async (): Promise<Claim | undefined> => {
      for (let id = waiting.shift(); id !== undefined; id = waiting.shift()) {
        const claim = await this.claim(id);
        if (claim && !(await this.expireIfDue(claim, bounces))) return claim;
      }
      return undefined;
    };
    let current = await nextClaim();
    while (current) {
      this.attempted++;
      if (link.openFailure === undefined && !link.session?.usable) {
        await link.session?.close();
        link.session = undefined;
        // A server that is down is not asked again for each mail: one connection attempt per route,
        // and after a session that broke, MAX_SESSIONS_PER_GROUP in all.
        if (link.opened++ >= MAX_SESSIONS_PER_GROUP) link.openFailure = new Error('the server ended too many sessions in this run');
        else link.session = await route.open().catch((error: unknown) => {
          link.openFailure = error;
          return undefined;
        });
      }
      const upcoming = await nextClaim();
      if (link.session) await this.attempt(link.session, current, upcoming, bounces);
      else await this.finish(current, afterFailure(current.record, reasonOf(link.openFailure), this.now()), bounces);
      current = upcoming;
    }
  }

  /** Ends every session of the run (QUIT, or a drop after a failure). */
  async closeAll(): Promise<void> {
    for (const link of this.links.values()) await link.session?.close();
    this.links.clear();
  }

  private async attempt(session: CourierSession, claim: Claim, upcoming: Claim | undefined, bounces: string[]): Promise<void> {
    let next: QueueRecord;
    try {
      next = afterReplies(claim.record, await session.send(outgoing(claim), upcoming ? outgoing(upcoming) : undefined), this.now());
    } catch (error) {
      next = afterFailure(claim.record, reasonOf(error), this.now());
    }
    await this.finish(claim, next, bounces);
  }

  /** Writes the attempt's outcome, then removes, reschedules or gives up the mail. */
  private async finish(claim: Claim, attempted: QueueRecord, bounces: string[]): Promise<void> {
    const now = this.now();
    const record = expire(attempted, this.options.lifetimeSeconds(attempted), now);
    const outcome = verdict(record);
    if (outcome === 'delivered') {
      // The removal (a rename out of active/, made durable) is itself the record that the mail is
      // done: writing envelope.json durably first, to remove it a moment later, cost two fsyncs
      // per mail and left the window in which a crash repeats the transaction no shorter.
      claim.record = record;
      await claim.delivered();
      this.options.onEvent({ kind: 'delivered', record });
    } else if (outcome === 'retry') {
      const scheduled = scheduleNext(record, now, this.options.random);
      await claim.update(scheduled);
      await claim.release();
      this.options.onEvent({ kind: 'deferred', record: scheduled });
    } else {
      await claim.update(record);
      await this.giveUp(claim, record, bounces);
    }
  }

  /** Bounces the mail to its sender (the bounce is queued, so it too is never lost), else keeps it in failed/. */
  private async giveUp(claim: Claim, record: QueueRecord, bounces: string[]): Promise<void> {
    let bounce: string | undefined;
    try {
      const made = await this.options.bounce(record, claim.messagePath, this.now());
      if (made) bounce = (await this.options.store.enqueue(made.message, made.record)).id;
    } catch {
      bounce = undefined; // the mail is kept in failed/ instead, and the event says so
    }
    if (bounce !== undefined) {
      bounces.push(bounce);
      await claim.delivered();
      this.options.onEvent({ kind: 'failed', record, bounce });
    } else {
      this.options.onEvent({ kind: 'failed', record, keptIn: await claim.fail() });
    }
  }

  /**
   * Ends a mail that needs no attempt: it outlived its lifetime, or no recipient is pending (a crash after
   * its outcome was written and before it was removed), which would otherwise be sent with no recipients.
   */
  private async expireIfDue(claim: Claim, bounces: string[]): Promise<boolean> {
    const expired = expire(claim.record, this.options.lifetimeSeconds(claim.record), this.now());
    if (expired === claim.record && verdict(expired) === 'retry') return false;
    await this.finish(claim, expired, bounces);
    return true;
  }

  /** A mail whose route could not be found: an attempt that failed before connecting. */
  private async deferUnclaimed(record: QueueRecord, error: unknown, bounces: string[]): Promise<void> {
    const claim = await this.claim(record.id);
    if (!claim) return;
    this.attempted++;
    await this.finish(claim, afterFailure(claim.record, reasonOf(error), this.now()), bounces);
  }

  private async claim(id: string): Promise<Claim | undefined> {
    const result = await this.options.store.claim(id);
    if (result.kind === 'corrupt') this.options.onEvent({ kind: 'corrupt', id, reason: `${result.reason}; moved to ${result.movedTo}` });
    return result.kind === 'claimed' ? result.claim : undefined;
  }
}

function outgoing(claim: Claim): OutgoingMail {
  return { record: claim.record, recipients: pendingRecipients(claim.record), messagePath: claim.messagePath };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
