/**
 * The trace field the server prepends to every message it accepts
 * (RFC 5321 §4.4), written to the backend's sink before the first octet of
 * the data, in Postfix's layout:
 *
 *   Received: from client.example (unknown [192.0.2.1])
 *   	by mx.example (outbox) with ESMTPSA id 4F2A0C9B1E7D
 *   	for <rcpt@example.org>; Sat, 05 Dec 2026 06:50:00 +0000
 *
 * "for" only when the message has exactly one recipient: naming several
 * would disclose Bcc recipients to each other. The protocol word is RFC
 * 3848's (with RFC 6531's UTF8SMTP for an SMTPUTF8 transaction).
 */
import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';

export interface ReceivedFacts {
  readonly helo: string;
  /** The client's host name, if known (we do no DNS lookup). */
  readonly remoteHost?: string | undefined;
  /** '' on a pipe (--inetd): no TCP-info at all. */
  readonly remoteAddress: string;
  readonly hostname: string;
  readonly protocol: string;
  readonly id: string;
  readonly recipients: readonly string[];
  readonly date: Date;
}

export interface ProtocolFacts {
  readonly lmtp: boolean;
  /** EHLO/LHLO rather than HELO. */
  readonly extended: boolean;
  readonly smtputf8: boolean;
  readonly tls: boolean;
  readonly authenticated: boolean;
}

/** RFC 3848 §1 (ESMTPA, ESMTPS, ESMTPSA, LMTPA, LMTPS, LMTPSA) and RFC 6531 §3.7.3 (UTF8SMTP…). */
export function protocolWord({ lmtp, extended, smtputf8, tls, authenticated }: ProtocolFacts): string {
  if (!extended) return 'SMTP';
  const base = lmtp ? (smtputf8 ? 'UTF8LMTP' : 'LMTP') : smtputf8 ? 'UTF8SMTP' : 'ESMTP';
  return `${base}${tls ? 'S' : ''}${authenticated ? 'A' : ''}`;
}

/** An id for the trace field, chosen before the backend gives the message its own. */
export function receivedId(): string {
  return randomBytes(6).toString('hex').toUpperCase();
}

export function receivedField(facts: ReceivedFacts): string {
  const from = `from ${facts.helo}${tcpInfo(facts.remoteHost, facts.remoteAddress)}`;
  const by = `by ${facts.hostname} (outbox) with ${facts.protocol} id ${facts.id}`;
  const date = rfc5322Date(facts.date);
  const only = facts.recipients.length === 1 ? facts.recipients[0] : undefined;
  // A recipient that could break the field (a CR or LF cannot come through RCPT, but be sure) is left out.
  const tail = only !== undefined && /^[^\r\n]+$/.test(only) ? `\r\n\tfor <${only}>; ${date}` : `;\r\n\t${date}`;
  return `Received: ${from}\r\n\t${by}${tail}\r\n`;
}

function tcpInfo(host: string | undefined, address: string): string {
  if (address === '') return '';
  const literal = isIPv6(address) ? `IPv6:${address}` : address;
  return ` (${host ?? 'unknown'} [${literal}])`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 §3.3 date-time in UTC: "Sat, 05 Dec 2026 06:50:00 +0000". */
export function rfc5322Date(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const time = `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}`;
  return `${DAYS[date.getUTCDay()]}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${time} +0000`;
}
