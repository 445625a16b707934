/**
 * Internationalised host names (IDNA): the form DNS, SNI and certificates
 * use. UTS #46 mapping (case folding, compatibility forms such as "ﬁ" → "fi",
 * full-width dots) and then punycode A-labels, as Node's WHATWG URL
 * implementation does it (`url.domainToASCII`, nontransitional: "ß" stays
 * "ß"). The punycode package alone encodes labels but does not map them.
 */
import { domainToASCII } from 'node:url';

/** The ASCII form of a host name; ASCII names are returned as given. Undefined when the name is not valid IDNA. */
export function asciiHost(host: string): string | undefined {
  if (/^[\x00-\x7f]*$/.test(host)) return host;
  return domainToASCII(host) || undefined;
}
