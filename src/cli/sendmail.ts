/**
 * Sendmail mode, in msmtp's order: read the mail's header (the account may
 * depend on its From), choose the account, rewrite the header, spool the
 * whole mail so its size and 8-bit-ness are known, then connect and send.
 * The password lookup and the server's DNS lookup start once the account
 * is known and run while the rest of the mail is read.
 * Returns the exit status; failures are thrown as OutboxError.
 */
import { readFileSync } from 'node:fs';
import { expandAccountAliases, needsMailFrom, pretendLines, renderPretend, requireEnvelopeFrom, type ChosenAccount, type ConfigFileReport, type ReadyAccount } from '../config/index.js';
import type { AuthSetup } from '../delivery/auth.js';
import { deliver } from '../delivery/deliver.js';
import type { DeliveryResult } from '../delivery/deliver.js';
import type { SessionOptions } from '../delivery/session.js';
import { OutboxError } from '../errors.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { prefetchResolve, systemResolve } from '../net/connector.js';
import { prepareMessage, type HeaderInfo, type PreparedMessage } from '../message/prepare.js';
import { envelopeFromHeader } from '../message/recipients.js';
import type { RewriteSettings } from '../message/rewrite.js';
import { chooseForRun, expandForRun } from './account-choice.js';
import { EX_OK, EX_TEMPFAIL, exitStatusFor } from './exit-status.js';
import { enqueueMail, queueDirOf, startBackgroundFlush, type EnqueueRequest } from './queue-enqueue.js';
import { queueLogRecord } from './queue-log.js';
import type { CliOptions } from './options.js';
import { authSetupFor, dsnRequest, sessionOptionsFor } from './session-options.js';
import { logMail, writeLogRecord } from './mail-log.js';
import { laterLinks, newChainReport, tryChain, type ChainReport } from './fallback-send.js';
import type { Stdio } from './stdio.js';
import { removeTempFilesOnExit } from './temp-cleanup.js';

interface Run {
  account: ReadyAccount;
  /** The From read from the mail for `%F`, when the account needed it. */
  mailFrom: string | undefined;
  reversePath: string;
  files: readonly ConfigFileReport[];
  chosen: ChosenAccount;
  /** The fail-over chain after the account (issue 16), expanded as the account is. */
  fallbacks: readonly ReadyAccount[];
}

export async function runSendmail(options: CliOptions, io: Stdio): Promise<number> {
  // A mail too large for memory is spooled to a file, which must not outlive an interrupted run.
  removeTempFilesOnExit();
  let run: Run | undefined;
  let early: EarlyWork | undefined;
  const prepared = await prepareMessage(io.stdin, {
    readRecipients: options.readRecipients,
    settings: async (info) => {
      run = await accountFor(options, io, info);
      if (run.account.queue !== 'always') early = startEarlyWork(run.account, options, io);
      return rewriteSettings(run.account, run.reversePath);
    },
  });
  try {
    const { account, reversePath } = run!;
    if (options.debug) io.writeOut(debugSettings(run!, account, options));
    const recipients = envelopeRecipients(account, options.recipients, prepared.info.recipients);
    checkMessage(prepared);
    const startedAt = new Date();
    const queueing = { account, options, mailFrom: run!.mailFrom, reversePath, recipients, spool: prepared.spool };
    if (account.queue === 'always') return await queueMail({ ...queueing, now: startedAt }, io, true);
    const mailsize = prepared.spool.octets - prepared.spool.lines;
    const chain = newChainReport();
    const outcome = await send(account, early!, reversePath, recipients, prepared, options, { fallbacks: run!.fallbacks, io, report: chain }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await logMail({ account, reversePath, recipients, mailsize, startedAt, chain, ...outcome }, io);
    if ('error' in outcome) {
      // on_failure: what would exit 75 is queued instead, and the caller is told success.
      if (account.queue === 'on_failure' && outcome.error instanceof OutboxError && exitStatusFor(outcome.error) === EX_TEMPFAIL) {
        return await queueMail({ ...queueing, now: new Date(), failure: outcome.error }, io, false);
      }
      throw outcome.error;
    }
    return EX_OK;
  } finally {
    await prepared.spool.dispose();
  }
}

/** Stores the mail durably and logs it; silence on success, as sendmail's callers expect (cron mails any output). */
async function queueMail(request: EnqueueRequest, io: Stdio, flushNow: boolean): Promise<number> {
  const record = await enqueueMail(request, io.env);
  if (request.account.logfile !== null || request.account.syslog !== null) {
    await writeLogRecord(request.account, queueLogRecord(record, 'queued', request.account), io);
  }
  if (flushNow) startBackgroundFlush(queueDirOf(request.account, io.env), request.options, io);
  return EX_OK;
}

/** The account, once the header is read: its From may choose the account (--read-envelope-from) or fill in `%F`. */
async function accountFor(options: CliOptions, io: Stdio, info: HeaderInfo): Promise<Run> {
  const fromMail = options.readEnvelopeFrom ? requireMailFrom(envelopeFromHeader(info.original)) : undefined;
  const { chosen, files, fallbacks } = chooseForRun(options, io.env, fromMail);
  const mailFrom = fromMail ?? (needsMailFrom(chosen.account) ? envelopeFromHeader(info.original) : undefined);
  const account = await expandForRun(chosen, io.env, mailFrom);
  const expanded = await Promise.all(fallbacks.map((fallback) => expandForRun({ account: fallback, how: { kind: 'named' } }, io.env, mailFrom)));
  return { account, mailFrom, reversePath: nullPathFor(requireEnvelopeFrom(account)), files, chosen, fallbacks: expanded };
}

/** --read-envelope-from and no From (or Resent-From): as msmtp, the envelope-from is missing (78), not a usage error. */
function requireMailFrom(from: string | undefined): string {
  if (from === undefined) throw new OutboxError('E_NO_ENVELOPE_FROM', 'no envelope-from address found in the mail (From or Resent-From)');
  return from;
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

/** Command-line recipients first, then those from the header (-t), then the account's aliases (envelope only). */
function envelopeRecipients(account: ReadyAccount, args: readonly string[], fromHeader: readonly string[]): string[] {
  const all = [...args.flatMap((arg) => parseRecipientArgument(arg)), ...fromHeader];
  if (all.length === 0) throw new OutboxError('E_USAGE', 'no recipients found');
  return expandAccountAliases(account, all, (path) => readFileSync(path));
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
    facts: { octets: prepared.spool.octets, has8bit: prepared.spool.has8bit },
  }), chain.report, note);
}

/** msmtp's --debug starts with the settings it uses: what --pretend prints, secrets redacted there. */
function debugSettings(run: Run, account: ReadyAccount, options: CliOptions): string {
  return renderPretend(pretendLines({ files: run.files, chosen: { ...run.chosen, account }, mode: 'sendmail', readRecipientsFromMail: options.readRecipients, fallbacks: run.fallbacks.map((f) => f.name) }));
}

/** `MAILER-DAEMON` (any case) is the null reverse-path, as in msmtp. */
function nullPathFor(from: string): string {
  return from.toUpperCase() === 'MAILER-DAEMON' ? '' : from;
}
