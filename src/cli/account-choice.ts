/**
 * Which account a run uses, as msmtp decides it: `--host` reads no file and
 * takes the command line alone; otherwise the system and user files are read
 * and the account is chosen by `-a`, by the envelope-from, or falls back to
 * `default` and then to SMTPSERVER/EMAIL. Command-line settings go on top.
 */
import {
  chooseAccount,
  commandLineAccount,
  expandAccount,
  homeDirectory,
  loadConfiguration,
  systemLoadRequest,
  systemSubstitutionInputs,
  type ChosenAccount,
  type ConfigFileReport,
  type ReadyAccount,
} from '../config/index.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { OutboxError } from '../errors.js';
import { commandLineSettings } from './account-options.js';
import type { CliOptions } from './options.js';

export interface AccountForRun {
  readonly files: readonly ConfigFileReport[];
  readonly chosen: ChosenAccount;
  /** The chosen account with `%U %H %C %M %F` substituted (sendmail mode). */
  readonly account: ReadyAccount;
}

export async function accountForRun(options: CliOptions, env: NodeJS.ProcessEnv, mailFrom?: string): Promise<AccountForRun> {
  const commandLine = {
    ...commandLineSettings(options.settings, homeDirectory(env)),
    ...(options.host !== undefined ? { host: options.host } : {}),
  };
  const envelopeFrom = mailFrom ?? envelopeFromArgument(options.from);
  const sendmail = options.mode === 'sendmail';
  if (options.host !== undefined) {
    const chosen = commandLineAccount({ envelopeFrom, commandLine, sendmail });
    return { files: [], chosen, account: await expanded(chosen, sendmail, env, mailFrom) };
  }
  const config = loadConfiguration({ ...systemLoadRequest(options.file), env });
  const chosen = chooseAccount(config, { account: options.account, envelopeFrom, commandLine, env, sendmail });
  return { files: config.files, chosen, account: await expanded(chosen, sendmail, env, mailFrom) };
}

async function expanded(chosen: ChosenAccount, sendmail: boolean, env: NodeJS.ProcessEnv, mailFrom?: string): Promise<ReadyAccount> {
  // msmtp substitutes only in sendmail mode.
  if (!sendmail) return chosen.account;
  return expandAccount(chosen.account, systemSubstitutionInputs({ env, mailFrom }));
}

/**
 * `-f` as msmtp compares it with the accounts' `from`: `<>` is the empty
 * address; `Name <addr>` is taken as `addr`; anything else must be one address.
 */
function envelopeFromArgument(from: string | undefined): string | undefined {
  if (from === undefined) return undefined;
  const trimmed = from.trim();
  if (trimmed === '<>') return '';
  if (trimmed.toUpperCase() === 'MAILER-DAEMON') return trimmed;
  const addresses = parseRecipientArgument(trimmed);
  if (addresses.length !== 1) {
    throw new OutboxError('E_USAGE', `invalid envelope-from address ${JSON.stringify(from)}: give exactly one address`);
  }
  return addresses[0]!;
}
