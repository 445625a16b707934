/**
 * What the server is told about the mail before it is sent, going beyond
 * msmtp (which tells it nothing): the size (RFC 1870), 8-bit content
 * (RFC 6152) and internationalised addresses (RFC 6531). Decided from the
 * server's capabilities and facts about the spooled message, before MAIL, so
 * that a mail the server cannot take is refused before anything is sent.
 */
import { OutboxError } from '../errors.js';
import type { Capabilities } from '../smtp/capabilities.js';
import type { EsmtpParams } from '../smtp/command.js';
import { xtext } from '../smtp/xtext.js';
import { asciiHost } from '../net/idn.js';
import type { DsnRequest, Envelope, MessageFacts } from './envelope.js';

export interface PreparedEnvelope {
  readonly reversePath: string;
  readonly recipients: readonly string[];
  readonly mailParams: EsmtpParams;
  /** The parameters of the RCPT for the recipient at the same index. */
  readonly rcptParams: readonly EsmtpParams[];
}

export function prepareEnvelope(capabilities: Capabilities, envelope: Envelope, facts: MessageFacts | undefined, dsn?: DsnRequest): PreparedEnvelope {
  const prepared = prepareAddresses(capabilities, envelope, facts);
  if (!dsn || (dsn.notify === undefined && dsn.ret === undefined && dsn.envid === undefined)) return prepared;
  if (!capabilities.has('DSN')) {
    throw new OutboxError('E_CAPABILITY', 'delivery status notifications were asked for (dsn_notify, dsn_return or -V), but the server does not offer DSN');
  }
  return {
    ...prepared,
    mailParams: [...prepared.mailParams, ...(dsn.ret ? [['RET', dsn.ret] as const] : []), ...(dsn.envid !== undefined ? [['ENVID', xtext(dsn.envid)] as const] : [])],
    rcptParams: prepared.recipients.map((address, i) => [...prepared.rcptParams[i]!, ...notifyParams(dsn, envelope.recipients[i] ?? address)]),
  };
}

/** NOTIFY=, and ORCPT= with the address as given (RFC 3461 §4.2), so a DSN names the recipient the sender used. */
function notifyParams(dsn: DsnRequest, original: string): EsmtpParams {
  if (dsn.notify === undefined) return [];
  // ORCPT's rfc822 type carries an ASCII address; a UTF-8 one would need RFC 6533's utf-8 type.
  const orcpt = /^[\x21-\x7e]+$/.test(original) ? [['ORCPT', `rfc822;${xtext(original)}`] as const] : [];
  return [['NOTIFY', dsn.notify], ...orcpt];
}

function prepareAddresses(capabilities: Capabilities, envelope: Envelope, facts: MessageFacts | undefined): PreparedEnvelope {
  const params: Array<readonly [string, string | true]> = [];
  const none = envelope.recipients.map(() => []);
  if (facts) {
    checkSize(capabilities, facts.octets);
    if (capabilities.has('SIZE')) params.push(['SIZE', String(facts.octets)]);
    // RFC 6152: declared when there is 8-bit data, or the caller says so (-B 8BITMIME); never after -B 7BIT.
    const eightBit = facts.body === '8BITMIME' || (facts.has8bit && facts.body !== '7BIT');
    if (eightBit && capabilities.has('8BITMIME')) params.push(['BODY', '8BITMIME']);
  }
  const addresses = [envelope.reversePath, ...envelope.recipients];
  if (addresses.some(isNonAscii)) {
    if (capabilities.has('SMTPUTF8')) {
      params.push(['SMTPUTF8', true]);
      return { reversePath: envelope.reversePath, recipients: envelope.recipients, mailParams: params, rcptParams: none };
    }
    return {
      reversePath: asciiAddress(envelope.reversePath),
      recipients: envelope.recipients.map(asciiAddress),
      mailParams: params,
      rcptParams: none,
    };
  }
  return { reversePath: envelope.reversePath, recipients: envelope.recipients, mailParams: params, rcptParams: none };
}

/** RFC 1870 §4: a client should not send a message larger than the server's declared maximum. */
function checkSize(capabilities: Capabilities, octets: number): void {
  const limit = capabilities.maxSize;
  if (limit !== undefined && limit > 0 && octets > limit) {
    throw new OutboxError('E_SIZE_EXCEEDED', `the mail is ${octets} octets, more than the server's limit of ${limit} octets (SIZE); nothing was sent`);
  }
}

function isNonAscii(address: string): boolean {
  return /[^\x00-\x7f]/.test(address);
}

/**
 * Without SMTPUTF8 a domain can still travel as punycode (RFC 5891), but a
 * local part cannot be rewritten: that address cannot be used with this server.
 */
function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = at === -1 ? address : address.slice(0, at);
  const domain = at === -1 ? '' : address.slice(at + 1);
  if (isNonAscii(local)) {
    throw new OutboxError('E_BAD_DATA', `the address ${address} has a non-ASCII local part and the server does not offer SMTPUTF8; nothing was sent`);
  }
  if (at === -1 || !isNonAscii(domain)) return address;
  const ascii = asciiHost(domain);
  if (!ascii) throw new OutboxError('E_BAD_DATA', `the address ${address} has a domain that is not a valid internationalised name; nothing was sent`);
  return `${local}@${ascii}`;
}
