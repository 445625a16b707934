/**
 * Which account a run uses, as msmtp decides it: `--host` reads no file and
 * takes the command line alone; otherwise the system and user files are read
 * and the account is chosen by `-a`, by the envelope-from (`-f`, or the From
 * read from the mail with `--read-envelope-from`), or falls back to `default`
 * and then to SMTPSERVER/EMAIL. Command-line settings go on top.
 */
import {
  ArgumentError,
  parseCommand,
  type AccountSettings,
  chooseAccount,
  commandLineAccount,
  fallbackChain,
  expandAccount,
  homeDirectory,
  loadConfiguration,
  systemLoadRequest,
  systemSubstitutionInputs,
  type ChooseRequest,
  type ChosenAccount,
  type ConfigFileReport,
  type Configuration,
  type Route,
  type ReadyAccount,
} from '../config/index.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { OutboxError } from '../errors.js';
import type { GivenSetting } from './account-options.js';
import type { CliOptions } from './options.js';

export interface ChoiceForRun {
  readonly files: readonly ConfigFileReport[];
  readonly chosen: ChosenAccount;
  /** The fail-over chain after the chosen account (`fallback_account`, issue 16), each checked; none with --host. */
  readonly fallbacks: readonly ReadyAccount[];
}

/** Reads the files (unless --host) and chooses the account; `mailFrom` is the From read for --read-envelope-from. */
export function chooseForRun(options: CliOptions, env: NodeJS.ProcessEnv, mailFrom?: string): ChoiceForRun {
  const { files, request, config } = loadForRun(options, env, mailFrom);
  if (!config) return { files, chosen: commandLineAccount(request), fallbacks: [] };
  const chosen = chooseAccount(config, request);
  // Only sending goes down the chain; --serverinfo and --rmqs talk to the chosen account alone.
  return { files, chosen, fallbacks: request.sendmail ? fallbackChain(config.accounts, chosen.account) : [] };
}

/**
 * Recipient routing (issue 16): the files, the routes that apply (none with
 * `-a` or `--host`, which choose for every recipient), the account the run
 * would use without routes — or why there is none, which matters only when
 * a recipient matches no route — and a way to build a routed account, as
 * `-a NAME` with the same `-f` and command-line settings would.
 */
export interface RoutingChoice {
  readonly files: readonly ConfigFileReport[];
  readonly routes: readonly Route[];
  readonly base: ChosenAccount | { readonly failure: unknown };
  named(name: string): ChosenAccount;
  /** The fail-over chain after an account (`fallback_account`, issue 16), each checked; none with --host. */
  fallbacksOf(account: ChosenAccount['account']): readonly ReadyAccount[];
}

export function chooseWithRoutes(options: CliOptions, env: NodeJS.ProcessEnv, mailFrom?: string): RoutingChoice {
  const { files, request, config } = loadForRun(options, env, mailFrom);
  const routes = config && options.account === undefined ? (config.routes ?? []) : [];
  let base: RoutingChoice['base'];
  try {
    base = config ? chooseAccount(config, request) : commandLineAccount(request);
  } catch (error) {
    if (routes.length === 0) throw error;
    base = { failure: error };
  }
  return {
    files,
    routes,
    base,
    named: (name) => chooseAccount(config!, { ...request, account: name }),
    fallbacksOf: (account) => (config ? fallbackChain(config.accounts, account) : []),
  };
}

function loadForRun(options: CliOptions, env: NodeJS.ProcessEnv, mailFrom: string | undefined): { files: readonly ConfigFileReport[]; request: ChooseRequest; config?: Configuration } {
  const commandLine = {
    ...commandLineSettings(options.settings, homeDirectory(env)),
    ...(options.host !== undefined ? { host: options.host } : {}),
  };
  const envelopeFrom = options.readEnvelopeFrom ? mailFrom : envelopeFromArgument(options.from);
  const sendmail = options.mode === 'sendmail';
  if (options.host !== undefined) return { files: [], request: { envelopeFrom, commandLine, sendmail } };
  const config = loadConfiguration({ ...systemLoadRequest(options.file), env });
  return { files: config.files, config, request: { account: options.account, envelopeFrom, commandLine, env, sendmail } };
}

/** The account with `%U %H %C %M` (and `%F`, the mail's From, when known) substituted, as msmtp does in sendmail mode. */
export function expandForRun(chosen: ChosenAccount, env: NodeJS.ProcessEnv, mailFrom?: string): Promise<ReadyAccount> {
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

/** The command-line layer of settings, checked as configuration values are. */
function commandLineSettings(given: readonly GivenSetting[], home: string): AccountSettings {
  let settings: AccountSettings = {};
  for (const { command, argument, option } of given) {
    try {
      settings = { ...settings, ...parseCommand(command, argument, home) };
    } catch (error) {
      if (!(error instanceof ArgumentError)) throw error;
      throw new OutboxError('E_USAGE', `invalid value for ${option}: ${error.message}`);
    }
  }
  return settings;
}
