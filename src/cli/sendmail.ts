/**
 * Sendmail mode, in msmtp's order: read the mail's header (the account may
 * depend on its From), choose the account, rewrite the header, spool the
 * whole mail so its size and 8-bit-ness are known, then connect and send.
 * Returns the exit status; failures are thrown as OutboxError.
 */
import { readFileSync } from 'node:fs';
import { dsnNotifyParameter, dsnReturnParameter, expandAccountAliases, needsMailFrom, pretendLines, renderPretend, requireEnvelopeFrom, type ChosenAccount, type ConfigFileReport, type ReadyAccount } from '../config/index.js';
import type { DsnRequest } from '../delivery/envelope.js';
import { deliver } from '../delivery/deliver.js';
import type { DeliveryResult } from '../delivery/deliver.js';
import { OutboxError } from '../errors.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { prepareMessage, type HeaderInfo, type PreparedMessage } from '../message/prepare.js';
import { envelopeFromHeader } from '../message/recipients.js';
import type { RewriteSettings } from '../message/rewrite.js';
import { chooseForRun, expandForRun } from './account-choice.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import { authSetupFor, sessionOptionsFor } from './session-options.js';
import { logMail } from './mail-log.js';
import type { Stdio } from './stdio.js';
import { removeTempFilesOnExit } from './temp-cleanup.js';

interface Run {
  account: ReadyAccount;
  reversePath: string;
  files: readonly ConfigFileReport[];
  chosen: ChosenAccount;
}

export async function runSendmail(options: CliOptions, io: Stdio): Promise<number> {
  // A mail too large for memory is spooled to a file, which must not outlive an interrupted run.
  removeTempFilesOnExit();
  let run: Run | undefined;
  const prepared = await prepareMessage(io.stdin, {
    readRecipients: options.readRecipients,
    settings: async (info) => {
      run = await accountFor(options, io, info);
      return rewriteSettings(run.account, run.reversePath);
    },
  });
  try {
    const { account, reversePath } = run!;
    if (options.debug) io.writeOut(debugSettings(run!, account, options));
    const recipients = envelopeRecipients(account, options.recipients, prepared.info.recipients);
    checkMessage(prepared);
    const startedAt = new Date();
    const mailsize = prepared.spool.octets - prepared.spool.lines;
    const outcome = await send(account, reversePath, recipients, prepared, options, io).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await logMail({ account, reversePath, recipients, mailsize, startedAt, ...outcome }, io);
    if ('error' in outcome) throw outcome.error;
    return EX_OK;
  } finally {
    await prepared.spool.dispose();
  }
}

/** The account, once the header is read: its From may choose the account (--read-envelope-from) or fill in `%F`. */
async function accountFor(options: CliOptions, io: Stdio, info: HeaderInfo): Promise<Run> {
  const fromMail = options.readEnvelopeFrom ? requireMailFrom(envelopeFromHeader(info.original)) : undefined;
  const { chosen, files } = chooseForRun(options, io.env, fromMail);
  const mailFrom = fromMail ?? (needsMailFrom(chosen.account) ? envelopeFromHeader(info.original) : undefined);
  const account = await expandForRun(chosen, io.env, mailFrom);
  return { account, reversePath: nullPathFor(requireEnvelopeFrom(account)), files, chosen };
}

/** --read-envelope-from and no From (or Resent-From): as msmtp, the envelope-from is missing (78), not a usage error. */
function requireMailFrom(from: string | undefined): string {
  if (from === undefined) throw new OutboxError('E_NO_ENVELOPE_FROM', 'no envelope-from address found in the mail (From or Resent-From)');
  return from;
}

function rewriteSettings(account: ReadyAccount, reversePath: string): RewriteSettings {
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

async function send(account: ReadyAccount, reversePath: string, recipients: string[], prepared: PreparedMessage, options: CliOptions, io: Stdio): Promise<DeliveryResult> {
  const auth = await authSetupFor(account); // before connecting: it may run passwordeval or prompt
  return deliver({
    session: sessionOptionsFor(account, options, io),
    ...(auth ? { auth } : {}),
    envelope: { reversePath, recipients, ...dsnRequest(account, options) },
    message: prepared.spool.chunks(),
    facts: { octets: prepared.spool.octets, has8bit: prepared.spool.has8bit },
  });
}

/** msmtp's --debug starts with the settings it uses: what --pretend prints, secrets redacted there. */
function debugSettings(run: Run, account: ReadyAccount, options: CliOptions): string {
  return renderPretend(pretendLines({ files: run.files, chosen: { ...run.chosen, account }, mode: 'sendmail', readRecipientsFromMail: options.readRecipients }));
}

/** msmtp's dsn_notify and dsn_return (-N, -R), and sendmail's -V. */
function dsnRequest(account: ReadyAccount, options: CliOptions): { dsn?: DsnRequest } {
  const notify = dsnNotifyParameter(account.dsn_notify);
  const ret = dsnReturnParameter(account.dsn_return);
  if (notify === undefined && ret === undefined && options.envid === undefined) return {};
  return { dsn: { ...(notify ? { notify } : {}), ...(ret ? { ret: ret as 'HDRS' | 'FULL' } : {}), ...(options.envid !== undefined ? { envid: options.envid } : {}) } };
}

/** `MAILER-DAEMON` (any case) is the null reverse-path, as in msmtp. */
function nullPathFor(from: string): string {
  return from.toUpperCase() === 'MAILER-DAEMON' ? '' : from;
}
