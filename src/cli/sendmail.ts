/**
 * Sendmail mode, in msmtp's order: read the mail's header (the account may
 * depend on its From), choose the account, rewrite the header, spool the
 * whole mail so its size and 8-bit-ness are known, then connect and send.
 * Routes and local delivery may split the recipients into parts (parts.ts),
 * each sent, logged and (with the queue) queued on its own; a mail of one
 * part behaves exactly as msmtp's single send.
 * The password lookup and the server's DNS lookup start once the account
 * is known and run while the rest of the mail is read.
 * Returns the exit status; failures are thrown as OutboxError.
 */
import { pretendLines, renderPretend, type ReadyAccount } from '../config/index.js';
import { OutboxError } from '../errors.js';
import { prepareMessage, type PreparedMessage } from '../message/prepare.js';
import type { RewriteSettings } from '../message/rewrite.js';
import { EX_OK } from './exit-status.js';
import { startBackgroundFlush } from './queue-enqueue.js';
import type { CliOptions } from './options.js';
import { deliverPart, startEarlyWork, type EarlyWork, type PartContext } from './part-delivery.js';
import { throwIfAnyFailed, type PartOutcome } from './parts-report.js';
import { planParts, type Part, type PartPlan } from './parts.js';
import { dsnRequest } from './session-options.js';
import type { Stdio } from './stdio.js';
import { removeTempFilesOnExit } from './temp-cleanup.js';

interface Run {
  readonly plan: PartPlan;
  /** The first SMTP part's password and DNS lookups, started while the mail is read. */
  readonly early?: { readonly part: Part; readonly work: EarlyWork };
}

export async function runSendmail(options: CliOptions, io: Stdio): Promise<number> {
  // A mail too large for memory is spooled to a file, which must not outlive an interrupted run.
  removeTempFilesOnExit();
  let run: Run | undefined;
  const prepared = await prepareMessage(io.stdin, {
    readRecipients: options.readRecipients,
    settings: async (info) => {
      const plan = await planParts(options, io.env, info);
      // Only the first SMTP part's lookups overlap the reading: two password prompts at once would
      // share one terminal. The other parts' start when their turn comes (deliverPart).
      const smtp = plan.parts.find((part) => part.via === 'smtp');
      run = smtp && smtp.account.queue !== 'always' ? { plan, early: { part: smtp, work: startEarlyWork(smtp.account, { options, io }) } } : { plan };
      // The header is rewritten once, with the first part's account (the only one, unless routes split the mail).
      const first = plan.parts[0]!;
      return rewriteSettings(first.account, first.reversePath);
    },
  });
  try {
    const { plan, early } = run!;
    if (options.debug) io.writeOut(debugSettings(plan.files, plan.parts[0]!, options));
    checkMessage(prepared);
    const context: PartContext = { prepared, options, io, dsn: (account) => dsnRequest(account, options.envid), flush: flushOnce(options, io, new Set()) };
    const outcomes: PartOutcome[] = [];
    for (const part of plan.parts) outcomes.push(await deliverPart(part, early?.part === part ? early.work : undefined, context));
    const single = plan.parts.length === 1;
    if (single && outcomes[0]!.error !== undefined) throw outcomes[0]!.error;
    if (!single) throwIfAnyFailed(outcomes, io);
    return EX_OK;
  } finally {
    await prepared.spool.dispose();
  }
}

/** One background queue run per queue folder, however many parts went into it: it sends them all. */
function flushOnce(options: CliOptions, io: Stdio, flushesStarted: Set<string>): (dir: string) => void {
  return (dir) => {
    if (flushesStarted.has(dir)) return;
    flushesStarted.add(dir);
    startBackgroundFlush(dir, options, io);
  };
}


export function rewriteSettings(account: ReadyAccount, reversePath: string): RewriteSettings {
  return {
    setFromHeader: account.set_from_header,
    ...(account.from_full_name !== null ? { fromFullName: account.from_full_name } : {}),
    envelopeFrom: reversePath,
    setDateHeader: account.set_date_header,
    setMsgidHeader: account.set_msgid_header,
    setToHeader: account.set_to_header,
    removeBccHeaders: account.remove_bcc_headers,
    domain: account.domain,
    host: account.host ?? '',
    now: new Date(),
  };
}

/** RFC 5322 §2.3 forbids NUL anywhere in a message; receivers mangle or refuse it, so it is refused before anything is sent. */
function checkMessage(prepared: PreparedMessage): void {
  if (prepared.spool.hasNul) {
    throw new OutboxError('E_BAD_DATA', `the mail contains a NUL byte (line ${prepared.firstNulInputLine ?? prepared.spool.firstNulLine}); nothing was sent`);
  }
}

/** msmtp's --debug starts with the settings it uses: what --pretend prints, secrets redacted there (the first part's account). */
function debugSettings(files: PartPlan['files'], part: Part, options: CliOptions): string {
  return renderPretend(pretendLines({ files, chosen: { ...part.chosen, account: part.account }, mode: 'sendmail', readRecipientsFromMail: options.readRecipients, fallbacks: part.fallbacks.map((f) => f.name) }));
}
