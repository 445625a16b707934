/**
 * `--pretend`: print what would be used, as msmtp does, and send nothing.
 * Better than msmtp: standard input is read only when the envelope-from must
 * come from the mail (`--read-envelope-from`, or `%F` in `from`), and no
 * `passwordeval` is run.
 *
 * outbox's own additions come last and only when they apply, so msmtp's
 * files print exactly what msmtp prints: the fail-over chain and the routes
 * (issue 16), and for the
 * command line's recipients, when routes or an MDA make it a question,
 * the account and way (SMTP or the MDA) each would take.
 */
import { readFileSync } from 'node:fs';
import { expandAccountAliases, needsMailFrom, pretendLines, renderPretend, routeFor, type ChosenAccount, type PlannedRecipient } from '../config/index.js';
import { isLocalFor } from '../local/addresses.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { readHeader } from '../message/header-reader.js';
import { envelopeFromHeader } from '../message/recipients.js';
import { chooseWithRoutes, expandForRun, type RoutingChoice } from './account-choice.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import { mdaLabel } from './parts-report.js';
import type { Stdio } from './stdio.js';

export async function runPretend(options: CliOptions, io: Stdio): Promise<number> {
  const fromMail = options.readEnvelopeFrom ? await mailFromOf(io.stdin) : undefined;
  const choice = chooseWithRoutes(options, io.env, fromMail);
  const chosen = shownAccount(choice);
  const mailFrom = options.readEnvelopeFrom ? fromMail : needsMailFrom(chosen.account) ? await mailFromOf(io.stdin) : undefined;
  const account = options.mode === 'sendmail' ? await expandForRun(chosen, io.env, mailFrom) : chosen.account;
  const sendmail = options.mode === 'sendmail';
  io.writeOut(renderPretend(pretendLines({
    files: choice.files,
    chosen: { ...chosen, account },
    mode: sendmail ? 'sendmail' : options.mode === 'rmqs' ? 'rmqs' : 'serverinfo',
    readRecipientsFromMail: options.readRecipients,
    // msmtp prints "(null)" and goes on: --pretend needs no sender.
    ...(options.readEnvelopeFrom ? { extractedEnvelopeFrom: fromMail ?? '(none)' } : {}),
    ...(options.rmqs !== undefined ? { rmqsArgument: options.rmqs } : {}),
    ...(sendmail ? { routes: choice.routes, plan: planFor(options, choice, 'failure' in choice.base ? undefined : choice.base) } : {}),
    ...(sendmail ? { fallbacks: choice.fallbacksOf(chosen.account).map((fallback) => fallback.name) } : {}),
  })));
  return EX_OK;
}

/** The account the output describes: the run's own, or with no default and routes, the first route's. */
function shownAccount(choice: RoutingChoice): ChosenAccount {
  if (!('failure' in choice.base)) return choice.base;
  return choice.named(choice.routes[0]!.account);
}

/** Each command-line recipient (after the aliases) with its account and way; empty when neither routes nor an MDA are involved. */
function planFor(options: CliOptions, choice: RoutingChoice, base: ChosenAccount | undefined): PlannedRecipient[] {
  const given = options.recipients.flatMap((arg) => parseRecipientArgument(arg));
  const recipients = base ? expandAccountAliases(base.account, given, (path) => readFileSync(path)) : given;
  const plan = recipients.map((recipient): PlannedRecipient => {
    const route = routeFor(choice.routes, recipient);
    const account = route ? choice.named(route.account).account : base?.account;
    if (!account) return { recipient, account: '(none: no route matches and no default account)', via: 'not sent' };
    return { recipient, account: account.name, via: isLocalFor(recipient, account) ? `mda ${mdaLabel(account)}` : 'SMTP' };
  });
  const interesting = choice.routes.length > 0 || plan.some((p) => p.via !== 'SMTP');
  return interesting ? plan : [];
}

/** The sender in the mail's From (or Resent-From), if it has one. */
async function mailFromOf(stdin: Stdio['stdin']): Promise<string | undefined> {
  const { header } = await readHeader(stdin);
  return envelopeFromHeader(header);
}
