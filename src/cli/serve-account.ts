/**
 * What the relay and queue backends of `outbox serve` share with sendmail
 * mode: the options `outbox -f SENDER` (or `outbox -a NAME -f SENDER` with
 * --account) would have for each mail, the DSN the client asked for, and a
 * failure as the reply the SMTP client is given.
 */
import type { ReadyAccount } from '../config/index.js';
import type { DsnRequest } from '../delivery/envelope.js';
import { OutboxError } from '../errors.js';
import type { Delivery, Envelope } from '../server/backend.js';
import type { ReplySpec } from '../smtp/reply-format.js';
import type { CliOptions } from './options.js';
import { dsnRequest } from './session-options.js';
import { oneLine } from './serve-spool.js';

/** The settings of `outbox serve` that a send would take from the command line. */
export interface RelaySettings {
  /** -C FILE. */
  readonly file?: string;
  /** --account=NAME: this account whatever the sender. */
  readonly account?: string;
}

/** The options `outbox [-a NAME] -f SENDER` would have, for one mail. */
export function sendOptionsFor(settings: RelaySettings, envelope: Envelope): CliOptions {
  const envid = envelope.mailParams['ENVID'];
  const body = typeof envelope.mailParams['BODY'] === 'string' ? envelope.mailParams['BODY'].toUpperCase() : undefined;
  return {
    mode: 'sendmail',
    pretend: false,
    readRecipients: false,
    readEnvelopeFrom: false,
    debug: false,
    json: false,
    chunking: true,
    settings: [],
    recipients: envelope.recipients,
    // "<>" is how -f says the null path; the account is then chosen as msmtp would for it.
    from: envelope.mailFrom === '' ? '<>' : envelope.mailFrom,
    ...(settings.file !== undefined ? { file: settings.file } : {}),
    ...(settings.account !== undefined ? { account: settings.account } : {}),
    ...(typeof envid === 'string' ? { envid: decodeXtext(envid) } : {}),
    // The client's BODY= (RFC 6152) is its declaration, as sendmail's -B is (issue 15).
    ...(body === '7BIT' || body === '8BITMIME' ? { bodyType: body } : {}),
  };
}

/**
 * The DSN to ask the next server for (RFC 3461): the client's RET and ENVID,
 * and its NOTIFY when every recipient asked for the same (outbox's client
 * sends one NOTIFY for all recipients); else the account's defaults. ORCPT
 * is not passed on: the client derives it from each recipient itself.
 */
export function dsnFor(account: ReadyAccount, options: CliOptions, envelope: Envelope): { dsn?: DsnRequest } {
  const base = dsnRequest(account, options.envid).dsn ?? {};
  const ret = envelope.mailParams['RET'];
  const notifies = new Set(envelope.rcptParams.map((p) => p['NOTIFY']));
  const notify = notifies.size === 1 ? [...notifies][0] : undefined;
  const dsn: DsnRequest = {
    ...base,
    ...(typeof ret === 'string' && /^(HDRS|FULL)$/i.test(ret) ? { ret: ret.toUpperCase() as 'HDRS' | 'FULL' } : {}),
    ...(typeof notify === 'string' ? { notify: notify.toUpperCase() } : {}),
  };
  return Object.keys(dsn).length > 0 ? { dsn } : {};
}

/** RFC 3461 §4: xtext, "+" followed by two upper-case hex digits. */
export function decodeXtext(text: string): string {
  return text.replace(/\+([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Local problems (configuration, a password command, the disk) an administrator can fix: the client should retry. */
const LOCAL_CODES = new Set(['E_CONFIG', 'E_NO_ENVELOPE_FROM', 'E_IO', 'E_NO_CREDENTIALS']);

/**
 * A failed send as the SMTP client's reply: temporary (what exits 75) →
 * 451; permanent → the next server's 55x, else 554; the next server's own
 * reply text where there is one, else outbox's message. An error that is no
 * OutboxError is a bug: 451, without its details.
 */
export function deliveryForError(error: unknown, recipients: readonly string[]): Delivery {
  if (!(error instanceof OutboxError)) return { kind: 'refused', reply: { code: 451, text: '4.3.0 local error in processing' } };
  if (error.code === 'E_PARTIAL_DELIVERY' && 'results' in error) {
    const results = (error as OutboxError & { results: readonly { recipient: string; reply: NonNullable<OutboxError['reply']> }[] }).results;
    const replies = recipients.map((address): ReplySpec => {
      const result = results.find((r) => r.recipient === address);
      return result ? replyFrom(result.reply.code, result.reply.enhanced, result.reply.lines.join(' ')) : { code: 250, text: '2.0.0 Ok' };
    });
    return { kind: 'per-recipient', replies };
  }
  // The only usage error a mail can cause: a sender `-f` would not take (several addresses, a group). Retrying will not help.
  if (error.code === 'E_USAGE') return { kind: 'refused', reply: { code: 553, text: `5.1.7 ${oneLine(error.message)}` } };
  // 8-bit data the next server cannot take and the account will not convert (RFC 3463: conversion required and prohibited/unsupported).
  if (error.code === 'E_CONVERSION') return { kind: 'refused', reply: { code: 554, text: `5.6.3 ${oneLine(error.message)}` } };
  const reply = error.reply;
  const text = reply && reply.lines.length > 0 ? reply.lines.join(' ') : error.message;
  if (error.transient || LOCAL_CODES.has(error.code)) return { kind: 'refused', reply: replyFrom(451, reply?.code && reply.code < 500 ? reply.enhanced : undefined, text) };
  const code = reply && reply.code >= 550 && reply.code <= 554 ? reply.code : 554;
  return { kind: 'refused', reply: replyFrom(code, reply?.code && reply.code >= 500 ? reply.enhanced : undefined, text) };
}

function replyFrom(code: number, enhanced: string | undefined, given: string): ReplySpec {
  const cls = Math.floor(code / 100);
  // The next server's lines may start with its enhanced code; it is written once, in front.
  const text = given.replace(/^[245]\.\d{1,3}\.\d{1,3}\s+/, '');
  if (cls === 2) return { code: 250, text: `${enhanced ?? '2.0.0'} ${oneLine(text)}` };
  return { code: cls === 4 ? 451 : code, text: `${enhanced ?? `${cls}.0.0`} ${oneLine(text)}` };
}
