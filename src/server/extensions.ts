/**
 * The service extensions the server offers, in one place, so that what EHLO
 * advertises and what MAIL accepts cannot drift apart. A parameter that is
 * not advertised is refused with 555 (RFC 5321 §4.1.1.11) rather than
 * ignored: a client that sends one has a bug its tests should see.
 */
import type { EsmtpParams } from './envelope-syntax.js';
import type { ReplySpec } from './reply.js';

export const TOO_BIG: ReplySpec = { code: 552, text: '5.3.4 Message size exceeds fixed maximum message size' };

/** The EHLO/LHLO keywords after the first line. `sizeLimit` 0 is advertised as bare "SIZE" (no fixed maximum). */
export function advertisedExtensions(sizeLimit: number): string[] {
  const size = sizeLimit > 0 ? `SIZE ${sizeLimit}` : 'SIZE';
  return ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES', 'SMTPUTF8', size];
}

/**
 * Checks MAIL's parameters: SIZE (RFC 1870), BODY (RFC 6152) and SMTPUTF8
 * (RFC 6531), and none at all after HELO. Returns the refusal, if any.
 */
export function checkMailParams(params: EsmtpParams, extended: boolean, sizeLimit: number): ReplySpec | undefined {
  const entries = Object.entries(params);
  if (entries.length > 0 && !extended) {
    return { code: 555, text: '5.5.4 Error: no MAIL parameters after HELO, use EHLO' };
  }
  for (const [keyword, value] of entries) {
    if (keyword === 'SIZE') {
      if (value === true || !/^\d{1,20}$/.test(value)) return { code: 501, text: '5.5.4 Bad SIZE value' };
      if (sizeLimit > 0 && Number(value) > sizeLimit) return TOO_BIG;
    } else if (keyword === 'BODY') {
      if (value === true || !/^(?:7BIT|8BITMIME)$/i.test(value)) {
        return { code: 501, text: '5.5.4 Bad BODY value, use 7BIT or 8BITMIME' };
      }
    } else if (keyword === 'SMTPUTF8') {
      if (value !== true) return { code: 501, text: '5.5.4 SMTPUTF8 takes no value' };
    } else {
      return { code: 555, text: `5.5.4 Unsupported parameter ${keyword}` };
    }
  }
  return undefined;
}

/** No RCPT extension (such as DSN) is advertised, so every RCPT parameter is refused. */
export function checkRcptParams(params: EsmtpParams): ReplySpec | undefined {
  const keyword = Object.keys(params)[0];
  return keyword === undefined ? undefined : { code: 555, text: `5.5.4 Unsupported parameter ${keyword}` };
}
