/**
 * `aliases FILE`: local recipients (no `@`) of the envelope are replaced by the
 * addresses the file lists for them, recursively; `default:` catches every
 * local name the file does not list. Headers are never changed.
 *
 * The file: `name: address, address…` per line, `#` starts a comment anywhere,
 * blank lines are skipped; exactly one `:` per line. Names are matched
 * case-sensitively, the first definition wins. As in msmtp, a chain of more
 * than 17 lookups (an alias loop, or `default:` naming an unknown local name)
 * is an error, and the file is read only when a recipient is local.
 *
 * Unlike msmtp, the addresses keep the order the file gives (msmtp reverses
 * them), and an alias that lists no address is an error (msmtp sends
 * `RCPT TO:<>`).
 */
import { OutboxError, strerror } from '../errors.js';
import type { Account } from './account.js';
import { errorAt } from './location.js';

export const ALIAS_LOOKUP_LIMIT = 17;

interface Alias {
  readonly line: number;
  readonly addresses: readonly string[];
}

export interface AliasTable {
  readonly file: string;
  readonly aliases: ReadonlyMap<string, Alias>;
}

export function parseAliases(content: Uint8Array | string, file: string): AliasTable {
  const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
  const aliases = new Map<string, Alias>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/#.*/, '').trim();
    if (content === '') return;
    const parts = content.split(':');
    if (parts.length !== 2) throw errorAt({ file, line }, "single ':' delimiter expected");
    const name = parts[0]!.trim();
    if (name === '') throw errorAt({ file, line }, "invalid alias ''");
    const addresses = parts[1]!.split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (!aliases.has(name)) aliases.set(name, { line, addresses });
  });
  return { file, aliases };
}

/** The recipients with every local name expanded. */
export function expandAliases(recipients: readonly string[], table: AliasTable): string[] {
  return recipients.flatMap((recipient) => expandRecipient(recipient, table, recipient, 0));
}

/** True for a recipient the aliases file may replace: one without `@`. */
export function isLocalRecipient(recipient: string): boolean {
  return !recipient.includes('@');
}

/**
 * The account's alias expansion of the envelope recipients. The file (after
 * `~` expansion in the configuration) is read only when a recipient is local.
 */
export function expandAccountAliases(
  account: Pick<Account, 'aliases'>,
  recipients: readonly string[],
  readFile: (path: string) => Uint8Array | string,
): string[] {
  if (account.aliases === null || !recipients.some(isLocalRecipient)) return [...recipients];
  let content: Uint8Array | string;
  try {
    content = readFile(account.aliases);
  } catch (error) {
    throw new OutboxError('E_CONFIG', `${account.aliases}: ${strerror(error)}`, { cause: error });
  }
  return expandAliases(recipients, parseAliases(content, account.aliases));
}

function expandRecipient(recipient: string, table: AliasTable, original: string, lookups: number): string[] {
  if (!isLocalRecipient(recipient)) return [recipient];
  const alias = table.aliases.get(recipient) ?? table.aliases.get('default');
  if (!alias) return [recipient];
  const where = { file: table.file, line: alias.line };
  if (lookups >= ALIAS_LOOKUP_LIMIT) throw errorAt(where, `too many redirects when expanding alias ${original}`);
  if (alias.addresses.length === 0) throw errorAt(where, `alias ${recipient} lists no address`);
  return alias.addresses.flatMap((address) => expandRecipient(address, table, original, lookups + 1));
}
