/**
 * Substitutions in `from` and `domain`, and the obsolete `auto_from`, as
 * msmtp applies them before sending (`expand_from_or_domain()`):
 *
 * - `from`:   `%M`, then `%U`, then `%C`, then `%H`, then `%F`;
 * - `domain`: `%M`, then `%C`, then `%H` (`%U` stays as written);
 * - `%M` the first line of /etc/mailname (missing or empty: an error),
 *   `%U` $USER, else $LOGNAME, else the login name, `%H` $HOSTNAME, else the
 *   system's host name, `%C` the canonical name of `%H`, `%F` the address in
 *   the mail's From (or Resent-From) header;
 * - each pattern is replaced everywhere, in that order, with no escape
 *   (`%%U` becomes `%` + the user name, as in msmtp);
 * - then `auto_from on` replaces the whole envelope-from with `user@maildomain`
 *   (just `user` when `maildomain` is empty).
 *
 * The inputs are injected; only the ones a pattern needs are asked for.
 */
import { OutboxError } from '../errors.js';
import type { Account } from './account.js';
import { describeAccount } from './validate.js';

export interface SubstitutionInputs {
  /** `%U`. */
  userName(): string;
  /** `%H`. */
  hostName(): string;
  /** `%C`. */
  canonicalHostName(): string | Promise<string>;
  /** `%M`; throws an E_CONFIG OutboxError when the file is missing or empty. */
  mailname(): string;
  /** `%F`: the From (or Resent-From) address of the mail, when it was read. */
  readonly mailFrom?: string | undefined;
}

type Pattern = '%M' | '%U' | '%C' | '%H' | '%F';

const FROM_PATTERNS: readonly Pattern[] = ['%M', '%U', '%C', '%H', '%F'];
const DOMAIN_PATTERNS: readonly Pattern[] = ['%M', '%C', '%H'];

/** `from` with its patterns replaced; `%F` stays when the mail's From is not known. */
export function expandFrom(from: string, inputs: SubstitutionInputs): Promise<string> {
  return substitute(from, FROM_PATTERNS, inputs);
}

export function expandDomain(domain: string, inputs: SubstitutionInputs): Promise<string> {
  return substitute(domain, DOMAIN_PATTERNS, inputs);
}

/** The account as it will be used: `from` and `domain` expanded, `auto_from` applied. */
export async function expandAccount<A extends Account>(account: A, inputs: SubstitutionInputs): Promise<A> {
  const expanded = account.from === null ? null : await expandFrom(account.from, inputs);
  const from = account.auto_from ? autoFrom(inputs.userName(), account.maildomain) : expanded;
  return { ...account, from, domain: await expandDomain(account.domain, inputs) };
}

/** `user@maildomain`, or `user` when the mail domain is empty. */
export function autoFrom(user: string, maildomain: string | null): string {
  return maildomain ? `${user}@${maildomain}` : user;
}

/** True when the envelope-from needs the mail's From header (`%F`), which must then be read first. */
export function needsMailFrom(account: Pick<Account, 'from' | 'auto_from'>): boolean {
  return !account.auto_from && account.from !== null && account.from.includes('%F');
}

/** The envelope-from of an expanded account; sending without one is a configuration error. */
export function requireEnvelopeFrom(account: Account): string {
  if (account.from !== null) return account.from;
  throw new OutboxError('E_NO_ENVELOPE_FROM', `${describeAccount(account)}: envelope-from address is missing`);
}

async function substitute(text: string, patterns: readonly Pattern[], inputs: SubstitutionInputs): Promise<string> {
  let result = text;
  for (const pattern of patterns) {
    if (!result.includes(pattern)) continue;
    const value = await valueOf(pattern, inputs);
    if (value !== undefined) result = result.replaceAll(pattern, value);
  }
  return result;
}

function valueOf(pattern: Pattern, inputs: SubstitutionInputs): string | Promise<string> | undefined {
  switch (pattern) {
    case '%M':
      return inputs.mailname();
    case '%U':
      return inputs.userName();
    case '%C':
      return inputs.canonicalHostName();
    case '%H':
      return inputs.hostName();
    case '%F':
      return inputs.mailFrom;
  }
}
