/**
 * The greeting and the hello (RFC 5321 §3.1–3.2, RFC 2033 §4.1): read the
 * 220, then EHLO (HELO if EHLO is refused) or LHLO; the reply becomes the
 * capabilities.
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import { Capabilities } from '../smtp/capabilities.js';
import type { SmtpConnection } from '../smtp/connection.js';
import type { Reply } from '../smtp/reply.js';

export type Protocol = 'smtp' | 'lmtp';

export async function readGreeting(connection: SmtpConnection, protocol: Protocol, host: string): Promise<Reply> {
  const greeting = await connection.readGreeting();
  if (greeting.code === 220) return greeting;
  const server = protocol === 'lmtp' ? 'LMTP server' : 'SMTP server';
  throw new OutboxError('E_GREETING', `the ${server} at ${host} refused the session: ${describeReply(greeting)}`, {
    transient: isTransientReply(greeting),
    reply: greeting,
    command: 'greeting',
  });
}

/** EHLO, then HELO if EHLO is refused; LHLO alone for LMTP. */
export async function hello(connection: SmtpConnection, protocol: Protocol, domain: string): Promise<Capabilities> {
  if (protocol === 'lmtp') {
    const reply = await connection.command({ verb: 'LHLO', domain });
    if (reply.code === 250) return Capabilities.fromEhloReply(reply);
    throw helloError('LHLO', reply);
  }
  const ehlo = await connection.command({ verb: 'EHLO', domain });
  if (ehlo.code === 250) return Capabilities.fromEhloReply(ehlo);
  if (isTransientReply(ehlo)) throw helloError('EHLO', ehlo);
  const helo = await connection.command({ verb: 'HELO', domain });
  if (helo.code === 250) return Capabilities.none(helo.lines[0]?.split(' ')[0] ?? '');
  throw helloError('HELO', helo, ehlo);
}

function helloError(verb: string, reply: Reply, ehlo?: Reply): OutboxError {
  const both = ehlo ? `EHLO and HELO were refused: ${describeReply(ehlo)}; ${describeReply(reply)}` : `${verb} was refused: ${describeReply(reply)}`;
  return new OutboxError('E_HELLO_REJECTED', `the server does not accept us: ${both}`, {
    transient: isTransientReply(reply),
    reply,
    command: verb,
  });
}
