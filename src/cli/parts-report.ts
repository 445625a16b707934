/**
 * What a mail of several parts tells its caller (issues 15, 16). Success is
 * silent, as sendmail's callers expect (cron mails any output); a part
 * queued after a temporary failure (`queue on_failure`) counts as success,
 * as it does for a one-part mail. When any part failed, every part's fate is
 * printed, one line each, so the caller knows who has the mail, and the exit
 * status is that of the first part that failed for good, else 75 (every
 * failure was temporary: try again — only the failed parts matter, but a
 * sendmail caller can only resend all; with the queue on, nothing is resent).
 */
import { basename } from 'node:path';
import { parseMda, type ReadyAccount } from '../config/index.js';
import { PartsFailedError } from '../errors.js';
import type { QueueRecord } from '../queue/record.js';
import { exitStatusFor } from './exit-status.js';
import type { Part } from './parts.js';
import type { Stdio } from './stdio.js';

export interface PartOutcome {
  readonly part: Part;
  readonly queued?: QueueRecord;
  readonly error?: unknown;
}

/** Prints each part's fate and throws E_PARTS_FAILED when any part failed; returns quietly otherwise. */
export function throwIfAnyFailed(outcomes: readonly PartOutcome[], io: Pick<Stdio, 'writeErr'>): void {
  const failed = outcomes.filter((o) => o.error !== undefined);
  if (failed.length === 0) return;
  outcomes.forEach((outcome, index) => io.writeErr(`outbox: part ${index + 1} of ${outcomes.length} (${describePart(outcome.part)}): ${verdict(outcome)}\n`));
  const permanent = failed.find((o) => exitStatusFor(o.error) !== 75);
  throw new PartsFailedError(`${failed.length} of ${outcomes.length} parts of the mail were not delivered`, permanent ? exitStatusFor(permanent.error) : undefined);
}

/** "account work, SMTP, to a@x, b@y" or "account default, mda procmail, to root". */
export function describePart(part: Part): string {
  return `account ${part.account.name}, ${part.via === 'mda' ? `mda ${mdaLabel(part.account)}` : 'SMTP'}, to ${part.recipients.join(', ')}`;
}

function verdict(outcome: PartOutcome): string {
  if (outcome.queued) return `queued as ${outcome.queued.id}`;
  if (outcome.error === undefined) return 'delivered';
  return `not delivered: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
}

/** The MDA by kind and program name only: its arguments are the user's and may hold anything. */
export function mdaLabel(account: Pick<ReadyAccount, 'mda'>): string {
  if (account.mda === null) return '(none)';
  try {
    const spec = parseMda(account.mda, '');
    return spec.kind === 'command' ? basename(spec.words[0]!) : spec.kind;
  } catch {
    return '(invalid)';
  }
}

/** The log line of a local part names the MDA where a remote one names the server (`host=mda:procmail`). */
export function localLogAccount(account: ReadyAccount): ReadyAccount {
  return { ...account, host: `mda:${mdaLabel(account)}`, socket: null, tls: false, auth: 'off' };
}
