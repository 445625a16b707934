/**
 * A mail's recipients split into parts (issues 15 and 16): one part per
 * account and way of delivery, each with its own envelope.
 *
 * 1. The account the run would use without routes is chosen as msmtp
 *    chooses it (`-a`, `--host`, the envelope-from, `default`, the
 *    environment); its `aliases` expand the recipients first, as in msmtp.
 * 2. Each recipient then goes through an account: with `-a` or `--host`,
 *    that one for all; otherwise the first `route` whose pattern matches it,
 *    else the account of step 1. Precedence: `-a`/`--host` > route >
 *    envelope-from choice > `default` > environment.
 * 3. Within an account, a recipient is local when the account's `mda`
 *    takes it (addresses.ts): it goes to the MDA, the others over SMTP.
 *
 * A routed account is built as `outbox -a NAME` with the same `-f` and
 * command-line settings would build it: its own `from` (unless `-f`
 * overrides it) is the part's envelope sender. Parts come in the order of
 * their first recipient; for one account, SMTP before local. A mail with one
 * part is sent exactly as before routes and local delivery existed.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import {
  expandAccountAliases,
  needsMailFrom,
  requireEnvelopeFrom,
  requireServer,
  routeFor,
  type ChosenAccount,
  type ReadyAccount,
} from '../config/index.js';
import { OutboxError } from '../errors.js';
import { isLocalFor } from '../local/addresses.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { envelopeFromHeader } from '../message/recipients.js';
import type { HeaderInfo } from '../message/prepare.js';
import { chooseWithRoutes, expandForRun, type RoutingChoice } from './account-choice.js';
import type { CliOptions } from './options.js';

export interface Part {
  readonly account: ReadyAccount;
  readonly chosen: ChosenAccount;
  /** `smtp`: through the account's server; `mda`: handed to its MDA. */
  readonly via: 'smtp' | 'mda';
  readonly reversePath: string;
  readonly recipients: readonly string[];
  /** The From read from the mail for `%F`, when the account needed it. */
  readonly mailFrom: string | undefined;
  /** The fail-over chain after the account (`fallback_account`, issue 16), expanded as the account is; an SMTP part's only. */
  readonly fallbacks: readonly ReadyAccount[];
}

export interface PartPlan {
  readonly files: RoutingChoice['files'];
  readonly parts: readonly Part[];
}

interface Ready {
  readonly account: ReadyAccount;
  readonly chosen: ChosenAccount;
  readonly mailFrom: string | undefined;
  readonly fallbacks: readonly ReadyAccount[];
}

/** The parts of one mail, once its header is read (its From may choose the account, `-t` gives recipients). */
export async function planParts(options: CliOptions, env: NodeJS.ProcessEnv, info: HeaderInfo): Promise<PartPlan> {
  const fromMail = options.readEnvelopeFrom ? requireMailFrom(envelopeFromHeader(info.original)) : undefined;
  const choice = chooseWithRoutes(options, env, fromMail);
  const ready = async (chosen: ChosenAccount): Promise<Ready> => {
    const mailFrom = fromMail ?? (needsMailFrom(chosen.account) ? envelopeFromHeader(info.original) : undefined);
    const expand = (account: ChosenAccount): Promise<ReadyAccount> => expandForRun(account, env, mailFrom);
    const fallbacks = await Promise.all(choice.fallbacksOf(chosen.account).map((account) => expand({ account, how: { kind: 'named' } })));
    return { account: await expand(chosen), chosen, mailFrom, fallbacks };
  };
  const base = 'failure' in choice.base ? undefined : await ready(choice.base);
  const baseFailure = 'failure' in choice.base ? choice.base.failure : undefined;
  // As before parts existed: a missing envelope-from is reported before a missing recipient.
  if (base && base.account.mda === null) requireEnvelopeFrom(base.account);
  const all = [...options.recipients.flatMap((arg) => parseRecipientArgument(arg)), ...info.recipients];
  if (all.length === 0) throw new OutboxError('E_USAGE', 'no recipients found');
  const recipients = base ? expandAccountAliases(base.account, all, (path) => readFileSync(path)) : all;

  const groups = new Map<string, { ready: Ready; smtp: string[]; mda: string[] }>();
  const routed = new Map<string, Promise<Ready>>();
  for (const recipient of recipients) {
    const route = routeFor(choice.routes, recipient);
    if (!route && !base) throw baseFailure;
    const name = route ? route.account : base!.account.name;
    let group = groups.get(name);
    if (!group) {
      const account = route && route.account !== base?.account.name ? routedAccount(routed, route.account, choice, ready) : Promise.resolve(base!);
      group = { ready: await account, smtp: [], mda: [] };
      groups.set(name, group);
    }
    (isLocalFor(recipient, group.ready.account) ? group.mda : group.smtp).push(recipient);
  }
  const parts: Part[] = [];
  for (const { ready: r, smtp, mda } of groups.values()) {
    if (smtp.length > 0) parts.push(smtpPart(r, smtp));
    if (mda.length > 0) parts.push({ ...r, via: 'mda', reversePath: localSender(r.account, env), recipients: mda });
  }
  return { files: choice.files, parts };
}

function routedAccount(cache: Map<string, Promise<Ready>>, name: string, choice: RoutingChoice, ready: (chosen: ChosenAccount) => Promise<Ready>): Promise<Ready> {
  let account = cache.get(name);
  if (!account) {
    account = Promise.resolve().then(() => ready(choice.named(name)));
    cache.set(name, account);
  }
  return account;
}

function smtpPart(r: Ready, recipients: readonly string[]): Part {
  // An account with an mda may lack a server (validate.ts); a recipient that is not local needs one.
  if (r.account.mda !== null) requireServer(r.account);
  return { ...r, via: 'smtp', reversePath: nullPathFor(requireEnvelopeFrom(r.account)), recipients };
}

/**
 * The sender of a local delivery: the account's `from` when it has one;
 * otherwise, as a local MTA does, the user running outbox (cron's mail to
 * root on a machine whose msmtprc knows no sender still has one).
 */
function localSender(account: ReadyAccount, env: NodeJS.ProcessEnv): string {
  if (account.from !== null) return nullPathFor(account.from);
  return env['USER'] || env['LOGNAME'] || userInfo().username;
}

/** --read-envelope-from and no From (or Resent-From): as msmtp, the envelope-from is missing (78), not a usage error. */
function requireMailFrom(from: string | undefined): string {
  if (from === undefined) throw new OutboxError('E_NO_ENVELOPE_FROM', 'no envelope-from address found in the mail (From or Resent-From)');
  return from;
}

/** `MAILER-DAEMON` (any case) is the null reverse-path, as in msmtp. */
export function nullPathFor(from: string): string {
  return from.toUpperCase() === 'MAILER-DAEMON' ? '' : from;
}
