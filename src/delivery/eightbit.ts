/**
 * 8-bit mail and a server without 8BITMIME (RFC 6152): what the account's
 * `eightbit` setting and sendmail's `-B` say to do, decided once the
 * server's capabilities are known and before MAIL, so that a refusal sends
 * nothing. `convert` (the default) makes the mail 7-bit
 * (message/seven-bit.ts) and tells SIZE the converted size; `send` sends it
 * as it is, undeclared, as msmtp does; `refuse` fails with E_CONVERSION
 * (exit 69, or a 5.6.3 refusal in the queue). `-B 7BIT` is the caller's
 * promise of a 7-bit body: BODY=8BITMIME is never declared, and 8-bit data
 * found anyway is treated as for a server without 8BITMIME.
 */
import { OutboxError } from '../errors.js';
import type { MessageSource } from '../message/header-reader.js';
import { declareCrlf } from '../message/line-endings.js';
import { analyse, convertChunks, convertedSize } from '../message/seven-bit.js';
import type { Capabilities } from '../smtp/capabilities.js';
import type { MessageFacts } from './envelope.js';

export type EightBitPolicy = 'convert' | 'send' | 'refuse';

export interface EightBitOptions {
  readonly policy: EightBitPolicy;
  /** The spooled mail again from its start, CRLF throughout: each pass of the conversion reads it once. */
  readonly reread: () => AsyncIterable<Buffer>;
}

/** Whether the mail's 8-bit data must not go to this server as it is (and the policy does not say to send it anyway). */
export function needsSevenBit(capabilities: Capabilities, facts: MessageFacts | undefined, policy: EightBitPolicy | undefined): boolean {
  if (!facts?.has8bit || policy === undefined || policy === 'send') return false;
  return !capabilities.has('8BITMIME') || facts.body === '7BIT';
}

/**
 * The message and facts to send: the same ones, or the mail made 7-bit with
 * its converted size. Throws E_CONVERSION for `eightbit refuse` and for a
 * mail that cannot be converted (a signed part with 8-bit data, an address
 * with 8-bit octets).
 */
export async function sevenBitFor(
  capabilities: Capabilities,
  message: MessageSource,
  facts: MessageFacts | undefined,
  options: EightBitOptions | undefined,
): Promise<{ message: MessageSource; facts: MessageFacts | undefined }> {
  if (!options || !needsSevenBit(capabilities, facts, options.policy)) return { message, facts };
  const why = facts!.body === '7BIT' ? 'it was declared 7-bit (-B 7BIT)' : 'the server does not offer 8BITMIME';
  if (options.policy === 'refuse') {
    throw new OutboxError('E_CONVERSION', `the mail has 8-bit data and ${why}; eightbit refuse says not to convert it; nothing was sent`);
  }
  const plan = await analyse(options.reread());
  // SIZE must be the size of what is sent (RFC 1870 §3); CHUNKING's small-mail path reads it too.
  const counted = capabilities.has('SIZE') || capabilities.has('CHUNKING');
  const octets = counted ? await convertedSize(options.reread(), plan) : facts!.octets;
  return { message: declareCrlf(convertChunks(options.reread(), plan)), facts: { octets, has8bit: false, body: '7BIT' } };
}
