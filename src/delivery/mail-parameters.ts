/**
 * What the server is told about the mail before it is sent, going beyond
 * msmtp (which tells it nothing): the size (RFC 1870), 8-bit content
 * (RFC 6152) and internationalised addresses (RFC 6531). Decided from the
 * server's capabilities and facts about the spooled message, before MAIL, so
 * that a mail the server cannot take is refused before anything is sent.
 */
import punycode from 'punycode/punycode.js';
import { OutboxError } from '../errors.js';
import type { Capabilities } from '../smtp/capabilities.js';
import type { EsmtpParams } from '../smtp/command.js';
import type { Envelope } from './transaction.js';

export interface MessageFacts {
  /** Octets after CRLF normalisation, without dot-stuffing: RFC 1870's message size. */
  readonly octets: number;
  /** Any byte ≥ 0x80 in the message. */
  readonly has8bit: boolean;
}

export interface PreparedEnvelope {
  readonly reversePath: string;
  readonly recipients: readonly string[];
  readonly mailParams: EsmtpParams;
}

export function prepareEnvelope(capabilities: Capabilities, envelope: Envelope, facts: MessageFacts | undefined): PreparedEnvelope {
  const params: Array<readonly [string, string | true]> = [];
  if (facts) {
    checkSize(capabilities, facts.octets);
    if (capabilities.has('SIZE')) params.push(['SIZE', String(facts.octets)]);
    if (facts.has8bit && capabilities.has('8BITMIME')) params.push(['BODY', '8BITMIME']);
  }
  const addresses = [envelope.reversePath, ...envelope.recipients];
  if (addresses.some(isNonAscii)) {
    if (capabilities.has('SMTPUTF8')) {
      params.push(['SMTPUTF8', true]);
      return { reversePath: envelope.reversePath, recipients: envelope.recipients, mailParams: params };
    }
    return {
      reversePath: asciiAddress(envelope.reversePath),
      recipients: envelope.recipients.map(asciiAddress),
      mailParams: params,
    };
  }
  return { reversePath: envelope.reversePath, recipients: envelope.recipients, mailParams: params };
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
  return `${local}@${punycode.toASCII(domain.normalize('NFC').toLowerCase())}`;
}
