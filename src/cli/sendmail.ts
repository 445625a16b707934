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
import { homeDirectory, pretendLines, renderPretend, type ReadyAccount } from '../config/index.js';
import type { AuthSetup } from '../delivery/auth.js';
import { deliver } from '../delivery/deliver.js';
import type { DeliveryResult } from '../delivery/deliver.js';
import type { SessionOptions } from '../delivery/session.js';
import { OutboxError } from '../errors.js';
import { deliverLocally, localFailure } from '../local/deliver.js';
import { prefetchResolve, systemResolve } from '../net/connector.js';
import { prepareMessage, type PreparedMessage } from '../message/prepare.js';
import type { RewriteSettings } from '../message/rewrite.js';
import type { QueueRecord } from '../queue/record.js';
import { EX_OK, EX_TEMPFAIL, exitStatusFor } from './exit-status.js';
import { enqueueMail, queueDirOf, startBackgroundFlush, type EnqueueRequest } from './queue-enqueue.js';
import { queueLogRecord } from './queue-log.js';
import type { CliOptions } from './options.js';
import { localLogAccount, throwIfAnyFailed, type PartOutcome } from './parts-report.js';
import { planParts, type Part, type PartPlan } from './parts.js';
import { authSetupFor, dsnRequest, sessionOptionsFor } from './session-options.js';
import { logMail, writeLogRecord } from './mail-log.js';
import { laterLinks, newChainReport, tryChain, type ChainReport } from './fallback-send.js';
import type { Stdio } from './stdio.js';
import { removeTempFilesOnExit } from './temp-cleanup.js';

interface Run {
  readonly plan: PartPlan;
  /** The first SMTP part's password and DNS lookups, started while the mail is read (by part index). */
  readonly early: Map<number, EarlyWork>;
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
      const early = new Map<number, EarlyWork>();
      const firstSmtp = plan.parts.findIndex((part) => part.via === 'smtp');
      const smtp = plan.parts[firstSmtp];
      if (smtp && smtp.account.queue !== 'always') early.set(firstSmtp, startEarlyWork(smtp.account, options, io));
      run = { plan, early };
      // The header is rewritten once, with the first part's account (the only one, unless routes split the mail).
      const first = plan.parts[0]!;
      return rewriteSettings(first.account, first.reversePath);
    },
  });
  try {
    const { plan, early } = run!;
    if (options.debug) io.writeOut(debugSettings(plan.files, plan.parts[0]!, options));
    checkMessage(prepared);
    const outcomes: PartOutcome[] = [];
    for (const [index, part] of plan.parts.entries()) outcomes.push(await deliverPart(part, early.get(index), prepared, options, io));
    const single = plan.parts.length === 1;
    if (single && outcomes[0]!.error !== undefined) throw outcomes[0]!.error;
    if (!single) throwIfAnyFailed(outcomes, io);
    return EX_OK;
  } finally {
    await prepared.spool.dispose();
  }
}

/** One part: queued (`queue always`), or sent / delivered locally and logged, queued after a temporary failure with `on_failure`. */
async function deliverPart(part: Part, early: EarlyWork | undefined, prepared: PreparedMessage, options: CliOptions, io: Stdio): Promise<PartOutcome> {
  const { account, reversePath, recipients, mailFrom, via } = part;
  const startedAt = new Date();
  const queueing = { account, options, mailFrom, reversePath, recipients, spool: prepared.spool, ...(via === 'mda' ? { via } : {}) };
  if (account.queue === 'always') return { part, queued: await queueMail({ ...queueing, now: startedAt }, io, true) };
  const mailsize = prepared.spool.octets - prepared.spool.lines;
  const chain = newChainReport();
  const attempt = via === 'mda'
    ? deliverLocalPart(part, prepared, io)
    : send(account, early ?? startEarlyWork(account, options, io), reversePath, [...recipients], prepared, options, { fallbacks: part.fallbacks, io, report: chain });
  const outcome = await attempt.then(
    (result) => (result === undefined ? {} : { result }),
    (error: unknown) => ({ error }),
  );
  await logMail({ account: via === 'mda' ? localLogAccount(account) : account, reversePath, recipients, mailsize, startedAt, ...(via === 'mda' ? {} : { chain }), ...outcome }, io);
  if (!('error' in outcome)) return { part };
  // on_failure: what would exit 75 is queued instead, and the caller is told success.
  if (account.queue === 'on_failure' && outcome.error instanceof OutboxError && exitStatusFor(outcome.error) === EX_TEMPFAIL) {
    return { part, queued: await queueMail({ ...queueing, now: new Date(), failure: outcome.error }, io, false) };
  }
  return { part, error: outcome.error };
}

async function deliverLocalPart(part: Part, prepared: PreparedMessage, io: Stdio): Promise<undefined> {
  const results = await deliverLocally({
    rules: part.account,
    home: homeDirectory(io.env),
    reversePath: part.reversePath,
    recipients: part.recipients,
    message: () => prepared.spool.chunks(),
    env: io.env,
  });
  const failure = localFailure(results);
  if (failure) throw failure;
  return undefined;
}

/** Stores the mail durably and logs it; silence on success, as sendmail's callers expect (cron mails any output). */
async function queueMail(request: EnqueueRequest, io: Stdio, flushNow: boolean): Promise<QueueRecord> {
  const record = await enqueueMail(request, io.env);
  if (request.account.logfile !== null || request.account.syslog !== null) {
    await writeLogRecord(request.account, queueLogRecord(record, 'queued', request.account), io);
  }
  const dir = queueDirOf(request.account, io.env);
  // One background flush per queue folder, however many parts went into it: it sends them all.
  if (flushNow && !flushesStarted.has(dir)) {
    flushesStarted.add(dir);
    startBackgroundFlush(dir, request.options, io);
  }
  return record;
}

const flushesStarted = new Set<string>();

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

/**
 * What can start once the account is known, while the rest of the mail is
 * read and spooled (issue 17): the password lookup (passwordeval, keyring,
 * prompt) and the DNS lookup of the server. Nothing connects before the
 * mail is read and the password is in hand (issue 12); this only overlaps
 * the waits. Their failures are reported when send() awaits them, so an
 * error in the mail itself (no recipients, a NUL) still comes first.
 */
interface EarlyWork {
  readonly auth: Promise<AuthSetup | undefined>;
  readonly session: Promise<SessionOptions>;
}

function startEarlyWork(account: ReadyAccount, options: CliOptions, io: Stdio): EarlyWork {
  const auth = authSetupFor(account);
  const session = Promise.resolve().then(() => {
    const session = sessionOptionsFor(account, options, io);
    return session.socketPath !== undefined || session.proxy !== undefined
      ? session
      : { ...session, resolve: prefetchResolve(session.resolve ?? systemResolve, session.host) };
  });
  auth.catch(() => {});
  session.catch(() => {});
  return { auth, session };
}

/** The fail-over chain after the account, and where to report what it did (issue 16). */
interface ChainPlan {
  readonly fallbacks: readonly ReadyAccount[];
  readonly io: Stdio;
  readonly report: ChainReport;
}

async function send(account: ReadyAccount, early: EarlyWork, reversePath: string, recipients: string[], prepared: PreparedMessage, options: CliOptions, chain: ChainPlan): Promise<DeliveryResult> {
  // The first link is the early work; each fallback's is made when it is reached. The envelope is the mail's, the same for each.
  const links = [{ account, auth: () => early.auth, session: () => early.session }, ...laterLinks(chain.fallbacks, options, chain.io)];
  const note = options.debug ? (line: string) => chain.io.writeOut(`${line}\n`) : undefined;
  return tryChain(links, (session, auth) => deliver({
    session,
    ...(auth ? { auth } : {}),
    envelope: { reversePath, recipients, ...dsnRequest(account, options.envid) },
    message: prepared.spool.chunks(),
    facts: { octets: prepared.spool.octets, has8bit: prepared.spool.has8bit, body: options.bodyType },
    eightbit: { policy: account.eightbit, reread: () => prepared.spool.chunks() },
  }), chain.report, note);
}

/** msmtp's --debug starts with the settings it uses: what --pretend prints, secrets redacted there (the first part's account). */
function debugSettings(files: PartPlan['files'], part: Part, options: CliOptions): string {
  return renderPretend(pretendLines({ files, chosen: { ...part.chosen, account: part.account }, mode: 'sendmail', readRecipientsFromMail: options.readRecipients, fallbacks: part.fallbacks.map((f) => f.name) }));
}
