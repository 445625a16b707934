/**
 * What the header says about the envelope, for `-t` (`--read-recipients`)
 * and `--read-envelope-from`:
 *
 * - recipients: the addresses of To, Cc and Bcc in header order, groups
 *   flattened, duplicates kept (as msmtp). When the mail has Resent-* fields
 *   (it is being re-sent, RFC 5322 §3.6.6), only the first Resent block's
 *   Resent-To, Resent-Cc and Resent-Bcc count. A block is a run of adjacent
 *   Resent-* fields; the first is the topmost, the one added last.
 * - envelope-from: the first mailbox of the first From or Resent-From field,
 *   whichever comes first (a re-sent mail's Resent-From sits above its From).
 *   Fields with no mailbox are skipped.
 *
 * An address field that cannot be parsed is OutboxError('E_BAD_DATA'), exit
 * 65: the mail is bad data, not the command line.
 */
import { OutboxError } from '../errors.js';
import { flattenMailboxes, parseAddressList, type Mailbox } from './address-list.js';
import { isNamed, type HeaderBlock, type HeaderField } from './header-block.js';

const RECIPIENT_FIELDS = ['To', 'Cc', 'Bcc'];
const RESENT_RECIPIENT_FIELDS = ['Resent-To', 'Resent-Cc', 'Resent-Bcc'];

function isResentField(field: HeaderField): boolean {
  return field.name.toLowerCase().startsWith('resent-');
}

/** The fields of the first (topmost) block of adjacent Resent-* fields; empty when there is none. */
export function firstResentBlock(header: HeaderBlock): HeaderField[] {
  const start = header.fields.findIndex(isResentField);
  if (start === -1) return [];
  const block: HeaderField[] = [];
  for (let i = start; i < header.fields.length && isResentField(header.fields[i]!); i++) block.push(header.fields[i]!);
  return block;
}

/** The envelope recipients a `-t` mail names, in header order, duplicates kept. */
export function recipientsFromHeader(header: HeaderBlock): string[] {
  const resent = firstResentBlock(header);
  const [fields, names] = resent.length > 0 ? [resent, RESENT_RECIPIENT_FIELDS] : [header.fields, RECIPIENT_FIELDS];
  return fields
    .filter((field) => names.some((name) => isNamed(field, name)))
    .flatMap((field) => mailboxesOf(field).map((mailbox) => mailbox.address));
}

/** The envelope-from `--read-envelope-from` reads: From, or Resent-From when it comes first. */
export function envelopeFromHeader(header: HeaderBlock): string | undefined {
  for (const field of header.fields) {
    if (!isNamed(field, 'From') && !isNamed(field, 'Resent-From')) continue;
    const first = mailboxesOf(field)[0];
    if (first) return first.address;
  }
  return undefined;
}

/** The mailboxes of an address field; a malformed field is OutboxError('E_BAD_DATA') naming the field and its line. */
function mailboxesOf(field: HeaderField): Mailbox[] {
  try {
    return flattenMailboxes(parseAddressList(field.value));
  } catch (error) {
    if (!(error instanceof OutboxError)) throw error;
    const where = field.line > 0 ? ` (line ${field.line})` : '';
    throw new OutboxError('E_BAD_DATA', `the mail's ${field.name} header${where} is not a valid address list: ${error.message}`, {
      cause: error,
    });
  }
}
