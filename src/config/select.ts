/**
 * Choosing the account (msmtp's `main()` and `find_account_by_envelope_from()`):
 *
 * 1. `-a NAME`: the account with exactly that name.
 * 2. Else, with an envelope-from address (`-f`, or the From header read for
 *    `--read-envelope-from`): the first account, in order, whose `from`
 *    matches it. A `from` with `*`, `?` or `[` is a glob (fnmatch, case-
 *    sensitive); any other `from` must equal the address, ignoring ASCII case.
 *    `from` values are compared as written, before `%U`-style substitution.
 *    When no account matches, `user+tag@domain` is tried as `user@domain`
 *    against the accounts whose `from` has no `+`.
 * 3. Else the account `default`.
 * 4. Else, with `SMTPSERVER` set (and, for sending, an envelope-from from `-f`
 *    or `EMAIL`): an account made of those.
 * 5. Else an error naming the files read.
 *
 * The chosen account gets the command-line layer on top; the envelope-from
 * replaces its `from` unless `allow_from_override` is off. Then it is checked
 * (`validate.ts`).
 */
import { OutboxError } from '../errors.js';
import type { AccountOrigin, AccountSettings, SettingSources } from './account.js';
import type { Configuration } from './files.js';
import { fnmatch, isPattern } from './fnmatch.js';
import { layer, resolveAccount } from './layer.js';
import type { AccountDefinition } from './parser.js';
import { finalizeAccount, type ReadyAccount } from './validate.js';

export interface ChooseRequest {
  /** `-a NAME`. */
  readonly account?: string | undefined;
  /** `-f ADDRESS`, or the address read from the mail for `--read-envelope-from` (`''` for `<>`). */
  readonly envelopeFrom?: string | undefined;
  /** The command-line options as one layer of settings, applied on top of the account. */
  readonly commandLine?: AccountSettings | undefined;
  /** For `SMTPSERVER` and `EMAIL`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Sendmail mode (the default) needs an envelope-from for the environment fallback. */
  readonly sendmail?: boolean | undefined;
}

/** How the account was chosen, for `--pretend` and `--debug`. */
export type AccountChoice =
  | { readonly kind: 'named' }
  | { readonly kind: 'envelope-from'; readonly address: string }
  | { readonly kind: 'default' }
  | { readonly kind: 'environment' }
  | { readonly kind: 'command-line' };

export interface ChosenAccount {
  readonly account: ReadyAccount;
  readonly how: AccountChoice;
}

export const COMMAND_LINE_ACCOUNT = '(command line)';
export const ENVIRONMENT_ACCOUNT = '(environment)';

export function chooseAccount(config: Configuration, request: ChooseRequest = {}): ChosenAccount {
  if (request.account !== undefined) {
    const named = config.accounts.find((a) => a.name === request.account);
    if (!named) throw notFound(request.account, config);
    return { account: build(named, [named.defaults, named.explicit], request), how: { kind: 'named' } };
  }
  if (request.envelopeFrom !== undefined) {
    const matched = findAccountByEnvelopeFrom(config.accounts, request.envelopeFrom);
    if (matched) {
      const how = { kind: 'envelope-from', address: request.envelopeFrom } as const;
      return { account: build(matched, [matched.defaults, matched.explicit], request), how };
    }
  }
  const fallback = config.accounts.find((a) => a.name === 'default');
  if (fallback) {
    return { account: build(fallback, [fallback.defaults, fallback.explicit], request), how: { kind: 'default' } };
  }
  const environment = environmentSettings(request);
  if (environment) {
    const origin = { name: ENVIRONMENT_ACCOUNT, file: null, line: null };
    return { account: build(origin, [environment], request), how: { kind: 'environment' } };
  }
  throw notFound('default', config);
}

/** `--host`: no file is read; the account is the command line alone. */
export function commandLineAccount(request: Omit<ChooseRequest, 'account' | 'env'>): ChosenAccount {
  const origin = { name: COMMAND_LINE_ACCOUNT, file: null, line: null };
  return { account: build(origin, [], request), how: { kind: 'command-line' } };
}

/** The first account whose `from` matches the address; then the same without a `+tag`. */
export function findAccountByEnvelopeFrom(
  accounts: readonly AccountDefinition[],
  address: string,
): AccountDefinition | undefined {
  const withFrom = accounts.flatMap((definition) => {
    const from = layer(definition.defaults, definition.explicit).from;
    return typeof from === 'string' ? [{ definition, from }] : [];
  });
  const exact = withFrom.find(({ from }) => fromMatches(from, address));
  if (exact) return exact.definition;
  const plain = withoutSubaddress(address);
  if (plain === undefined) return undefined;
  return withFrom.find(({ from }) => !from.includes('+') && fromMatches(from, plain))?.definition;
}

/** A `from` pattern matches case-sensitively; a plain address ignoring ASCII case. */
function fromMatches(from: string, address: string): boolean {
  return isPattern(from) ? fnmatch(from, address) : asciiLower(from) === asciiLower(address);
}

/** `user+tag@domain` → `user@domain`; `undefined` when there is no `+` before an `@`. */
export function withoutSubaddress(address: string): string | undefined {
  const plus = address.indexOf('+');
  const at = plus < 0 ? -1 : address.indexOf('@', plus);
  return at < 0 ? undefined : address.slice(0, plus) + address.slice(at);
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function environmentSettings(request: ChooseRequest): AccountSettings | undefined {
  const host = request.env?.['SMTPSERVER'];
  if (!host) return undefined;
  const email = request.env?.['EMAIL'] || undefined;
  if ((request.sendmail ?? true) && request.envelopeFrom === undefined && email === undefined) return undefined;
  return email === undefined ? { host } : { host, from: email };
}

function build(origin: AccountOrigin, layers: readonly AccountSettings[], request: ChooseRequest): ReadyAccount {
  const { from: cliFrom, ...commandLine } = request.commandLine ?? {};
  const override = request.envelopeFrom ?? cliFrom;
  const account = resolveAccount(origin, ...layers, commandLine);
  const overridden = override !== undefined && account.allow_from_override;
  const sources = { ...origin.sources, ...commandLineSources(overridden ? { ...commandLine, from: override } : commandLine) };
  return finalizeAccount({ ...account, from: overridden ? override : account.from, sources });
}

/** Every setting the command line gives comes from there, whatever the file said. */
function commandLineSources(commandLine: AccountSettings): SettingSources {
  const keys = Object.entries(commandLine).filter(([, value]) => value !== undefined).map(([key]) => key);
  return Object.fromEntries(keys.map((key) => [key, 'command line' as const]));
}

function notFound(name: string, config: Configuration): OutboxError {
  const files = config.files.filter((f) => f.loaded).map((f) => f.path);
  const where = files.length === 0 ? ': no configuration file available' : ` in ${files.join(' and ')}`;
  return new OutboxError('E_CONFIG', `account ${name} not found${where}`);
}
