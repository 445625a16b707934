/**
 * The header changes msmtp 1.8.33 makes before sending (MSMTP-BEHAVIOUR §9),
 * driven by the account's settings. New fields are prepended in msmtp's
 * order: From, To, Date, Message-ID; the mail's own fields follow, minus:
 *
 * - every From, when a From was prepended (set_from_header on, or auto and
 *   the mail has none);
 * - every Bcc and Resent-Bcc with their continuation lines, unless
 *   remove_bcc_headers is off (msmtp keeps Resent-Bcc, which leaks the blind
 *   recipients of a re-sent mail);
 * - every To, Cc and Bcc when set_to_header on (or the older
 *   undisclosed_recipients on) replaces them with
 *   `To: undisclosed-recipients:;`.
 *
 * Field names match case-insensitively and with obsolete blanks before the
 * colon (`Bcc : x`), which msmtp does not see. Header lines over 998 octets
 * are folded at a blank (long-lines.ts). The mbox `From ` line the reader
 * dropped stays dropped.
 */
import { isNamed, type HeaderBlock, type HeaderField } from './header-block.js';
import { foldLongLines } from './long-lines.js';
import {
  dateField,
  fromField,
  messageIdDomain,
  messageIdField,
  randomMessageIdPart,
  undisclosedToField,
} from './new-fields.js';

/**
 * set_to_header, as the config layer reads it (src/config/account.ts
 * ToHeaderPolicy): `on` replaces To, Cc and Bcc with one
 * `To: undisclosed-recipients:;`; `auto` adds that To only when the mail has
 * no To; `off` leaves them alone. msmtp's older `undisclosed_recipients on`
 * is `on`.
 */
export type SetToHeader = 'auto' | 'on' | 'off';

export interface RewriteSettings {
  /** on: always write From (replacing the mail's); auto: only when the mail has none; off: never. */
  readonly setFromHeader: 'auto' | 'on' | 'off';
  /** `-F` / from_full_name, already decoded from the locale's charset (see decodeLocale). Used only in a From we write. */
  readonly fromFullName?: string;
  /** The envelope-from address as it goes on the wire; '' for the null reverse-path (then no From is written). */
  readonly envelopeFrom: string;
  /** auto: add Date when the mail has none; off: never. */
  readonly setDateHeader: 'auto' | 'off';
  /** auto: add Message-ID when the mail has none; off: never. */
  readonly setMsgidHeader: 'auto' | 'off';
  /** Default off. */
  readonly setToHeader?: SetToHeader;
  /** msmtp's older undisclosed_recipients command: true is set_to_header on. */
  readonly undisclosedRecipients?: boolean;
  /** remove_bcc_headers (default on in msmtp). */
  readonly removeBccHeaders: boolean;
  /** The account's `domain` setting (msmtp's default: localhost). */
  readonly domain: string;
  /** The SMTP server's host name (the last resort for the Message-ID's domain). */
  readonly host: string;
  readonly now: Date;
  /** The time zone's offset east of UTC in minutes; default: the local zone. */
  readonly timeZoneOffsetMinutes?: number;
  /** The Message-ID's unique part (a dot-atom); default: time and 96 random bits. */
  readonly random?: () => string;
}

/** The effective set_to_header, with undisclosed_recipients folded in. */
function toHeaderMode(settings: RewriteSettings): SetToHeader {
  if (settings.undisclosedRecipients) return 'on';
  return settings.setToHeader ?? 'off';
}

/** The header as it is sent. Pure apart from the defaults for `random` and the time zone. */
export function rewriteHeader(header: HeaderBlock, settings: RewriteSettings): HeaderBlock {
  const prepended = newFields(header, settings);
  const writesFrom = prepended.some((field) => isNamed(field, 'From'));
  const replacesTo = toHeaderMode(settings) === 'on';
  const kept = header.fields.filter((field) => {
    if (writesFrom && isNamed(field, 'From')) return false;
    if (replacesTo && ['To', 'Cc', 'Bcc'].some((name) => isNamed(field, name))) return false;
    return !(settings.removeBccHeaders && isBccField(field));
  });
  return header.withFields([...prepended, ...kept].map((field) => foldLongLines(field)));
}

function isBccField(field: HeaderField): boolean {
  return isNamed(field, 'Bcc') || isNamed(field, 'Resent-Bcc');
}

/** The fields to prepend, in msmtp's order. */
function newFields(header: HeaderBlock, settings: RewriteSettings): HeaderField[] {
  const fields: HeaderField[] = [];
  if (writesFrom(header, settings)) fields.push(fromField(settings.envelopeFrom, settings.fromFullName));
  const toMode = toHeaderMode(settings);
  if (toMode === 'on' || (toMode === 'auto' && !header.has('To'))) fields.push(undisclosedToField());
  if (settings.setDateHeader === 'auto' && !header.has('Date')) {
    fields.push(dateField(settings.now, settings.timeZoneOffsetMinutes));
  }
  if (settings.setMsgidHeader === 'auto' && !header.has('Message-ID')) {
    const unique = settings.random ? settings.random() : randomMessageIdPart(settings.now);
    fields.push(messageIdField(unique, messageIdDomain(settings)));
  }
  return fields;
}

function writesFrom(header: HeaderBlock, settings: RewriteSettings): boolean {
  if (settings.envelopeFrom === '') return false;
  if (settings.setFromHeader === 'on') return true;
  return settings.setFromHeader === 'auto' && !header.has('From');
}
