/**
 * The envelope record of a queued mail (`envelope.json` beside `message`):
 * everything a later flush needs to send it as the direct send would have,
 * stored as data, never as a shell line, and never a password. Read back
 * strictly: a record that does not have this shape is corrupt, and the flush
 * sets it aside instead of guessing.
 */
import type { ServerReply } from '../errors.js';

export const RECORD_VERSION = 1;

export type RecipientState = 'pending' | 'delivered' | 'failed';

/** A reply as stored: its code, its enhanced status code and its text (lines joined by a space). */
export interface StoredReply {
  readonly code: number;
  readonly enhanced?: string;
  readonly text: string;
}

export interface RecipientRecord {
  readonly address: string;
  readonly state: RecipientState;
  /** The last reply about this recipient, `null` before any attempt. */
  readonly reply: StoredReply | null;
}

/** One command-line account setting, as given (`--tls=off` is `{command: 'tls', argument: 'off', option: '--tls'}`). */
export interface StoredSetting {
  readonly command: string;
  readonly argument: string;
  readonly option: string;
}

/** How the account is found again at flush time. */
export interface AccountRef {
  /** The account's name; '' for an account made of the command line (`--host`) or the environment. */
  readonly name: string;
  /** `-C FILE` as given, so the flush reads the same user file. */
  readonly configFile?: string;
  /** `--host` as given. */
  readonly host?: string;
  /** The command-line settings, layered over the account as in the direct send. */
  readonly settings: readonly StoredSetting[];
  /** The From read from the mail, for `%F` substitutions. */
  readonly mailFrom?: string;
}

export interface QueueRecord {
  readonly version: typeof RECORD_VERSION;
  readonly id: string;
  readonly account: AccountRef;
  /** The envelope sender; '' is the null reverse-path. */
  readonly from: string;
  /** `mda`: a part for the account's MDA (local delivery, issue 15); absent: over SMTP. */
  readonly via?: 'mda';
  readonly recipients: readonly RecipientRecord[];
  /** The mail's size in octets, as stored (CRLF line endings). */
  readonly size: number;
  readonly has8bit: boolean;
  /** sendmail's -B (or a client's BODY=) when given: the body type declared (issue 15). */
  readonly body?: '7BIT' | '8BITMIME';
  /** DSN requests: sendmail's -V, and whether -N/-R were set is part of the account settings. */
  readonly envid?: string;
  readonly chunking: boolean;
  readonly queued_at: string;
  readonly attempts: number;
  readonly next_attempt: string;
  readonly last_attempt: string | null;
  /** The last reply or local error that was not about one recipient (a refused connection, a 421). */
  readonly last_error: string | null;
}

export function storedReply(reply: ServerReply): StoredReply {
  return { code: reply.code, ...(reply.enhanced ? { enhanced: reply.enhanced } : {}), text: reply.lines.join(' ') };
}

export function serializeRecord(record: QueueRecord): string {
  return `${JSON.stringify(record, null, 1)}\n`;
}

export class CorruptRecord extends Error {}

/** Parses and checks a record; throws CorruptRecord naming what is wrong. */
export function parseRecord(text: string, expectedId: string): QueueRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CorruptRecord(`not JSON: ${(error as Error).message}`);
  }
  const record = object(value, 'record');
  if (record['version'] !== RECORD_VERSION) throw new CorruptRecord(`unknown version ${JSON.stringify(record['version'])}`);
  if (record['id'] !== expectedId) throw new CorruptRecord(`id ${JSON.stringify(record['id'])} does not match its folder`);
  string(record, 'from');
  number(record, 'size');
  number(record, 'attempts');
  date(record, 'queued_at');
  date(record, 'next_attempt');
  if (record['last_attempt'] !== null) date(record, 'last_attempt');
  if (record['last_error'] !== null) string(record, 'last_error');
  if (typeof record['has8bit'] !== 'boolean' || typeof record['chunking'] !== 'boolean') throw new CorruptRecord('has8bit and chunking must be booleans');
  if (record['envid'] !== undefined) string(record, 'envid');
  if (record['body'] !== undefined && record['body'] !== '7BIT' && record['body'] !== '8BITMIME') throw new CorruptRecord('body must be 7BIT or 8BITMIME');
  if (record['via'] !== undefined && record['via'] !== 'mda') throw new CorruptRecord(`unknown via ${JSON.stringify(record['via'])}`);
  checkAccount(object(record['account'], 'account'));
  const recipients = record['recipients'];
  if (!Array.isArray(recipients) || recipients.length === 0) throw new CorruptRecord('recipients must be a non-empty array');
  for (const recipient of recipients) checkRecipient(object(recipient, 'recipient'));
  return value as QueueRecord;
}

function checkAccount(account: Record<string, unknown>): void {
  string(account, 'name');
  for (const key of ['configFile', 'host', 'mailFrom']) if (account[key] !== undefined) string(account, key);
  const settings = account['settings'];
  if (!Array.isArray(settings)) throw new CorruptRecord('account.settings must be an array');
  for (const setting of settings) {
    const s = object(setting, 'setting');
    for (const key of ['command', 'argument', 'option']) string(s, key);
  }
}

function checkRecipient(recipient: Record<string, unknown>): void {
  string(recipient, 'address');
  if (!['pending', 'delivered', 'failed'].includes(recipient['state'] as string)) throw new CorruptRecord(`bad recipient state ${JSON.stringify(recipient['state'])}`);
  const reply = recipient['reply'];
  if (reply === null) return;
  const r = object(reply, 'reply');
  number(r, 'code');
  string(r, 'text');
  if (r['enhanced'] !== undefined) string(r, 'enhanced');
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CorruptRecord(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function string(record: Record<string, unknown>, key: string): void {
  if (typeof record[key] !== 'string') throw new CorruptRecord(`${key} must be a string`);
}

function number(record: Record<string, unknown>, key: string): void {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new CorruptRecord(`${key} must be a whole number`);
}

function date(record: Record<string, unknown>, key: string): void {
  string(record, key);
  if (Number.isNaN(Date.parse(record[key] as string))) throw new CorruptRecord(`${key} is not a date`);
}
