/**
 * Which recipients are local, what the MDA is told about them, and the check
 * that keeps an address from becoming anything but one argument.
 *
 * Local (issue 15, esmtp's rule): an address without `@`, or with
 * `local_domains`, one at a listed domain (ASCII case ignored); with
 * `force_mda on`, every recipient. The MDA gets a local address as it was
 * written without `@`, and the local part of one at a local domain
 * (`root@host.example` → `root`), since `procmail -d` and `dovecot-lda -d`
 * want a user name; with `force_mda` an address at another domain is
 * passed whole.
 *
 * No shell ever sees an address (mda.ts splits the command before `%T` is
 * put in), so quoting is not the danger; options are: an address starting
 * with `-` would be read as one (`procmail -d -oQ…`; msmtpd refuses it since its 1.8.19 fix),
 * and control characters (CR, LF, NUL…) have no business in a mailbox name.
 * Such an address is refused, and nothing is run.
 */
import { OutboxError } from '../errors.js';

export interface LocalRules {
  readonly mda: string | null;
  readonly local_domains: readonly string[];
  readonly force_mda: boolean;
}

/** Whether the account delivers this recipient through its MDA. */
export function isLocalFor(address: string, rules: LocalRules): boolean {
  if (rules.mda === null) return false;
  if (rules.force_mda) return true;
  const at = address.lastIndexOf('@');
  return at < 0 || rules.local_domains.includes(asciiLower(address.slice(at + 1)));
}

/** The name `%T` gives the MDA for a local recipient. */
export function mdaName(address: string, rules: LocalRules): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  return rules.local_domains.includes(asciiLower(address.slice(at + 1))) ? address.slice(0, at) : address;
}

/** C0 controls, DEL and C1 controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Throws E_MDA_ADDRESS when the address could be taken for an option or carries control characters. */
export function checkMdaArgument(address: string, what: 'recipient' | 'sender'): string {
  let problem: string | undefined;
  if (address === '') problem = 'it is empty';
  else if (address.startsWith('-')) problem = 'it starts with "-" and would be read as an option';
  else if (CONTROL.test(address)) problem = 'it contains a control character';
  if (problem) {
    const shown = JSON.stringify(address.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?'));
    throw new OutboxError('E_MDA_ADDRESS', `local delivery refused: the ${what} ${shown} cannot be given to the MDA: ${problem}; nothing was delivered`, what === 'recipient' ? { recipient: address } : {});
  }
  return address;
}

/** For a mailbox path (`maildir:/home/%T/Maildir`): a recipient name must also not climb out of the folder. */
export function checkPathName(name: string): string {
  checkMdaArgument(name, 'recipient');
  if (name.includes('/') || name === '.' || name === '..') {
    throw new OutboxError('E_MDA_ADDRESS', `local delivery refused: the recipient ${JSON.stringify(name)} cannot name a mailbox (a "/" or a dot folder); nothing was delivered`, { recipient: name });
  }
  return name;
}

/** The null reverse-path is MAILER-DAEMON on a command line, as msmtpd and sendmail pass it. */
export function senderArgument(reversePath: string): string {
  return checkMdaArgument(reversePath === '' ? 'MAILER-DAEMON' : reversePath, 'sender');
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
