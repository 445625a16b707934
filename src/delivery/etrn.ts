/**
 * ETRN (RFC 1985, msmtp's `--rmqs`): ask the server to start delivering the
 * mail it queues for a host (`host`), a domain (`@domain`) or a queue
 * (`#queue`). The session is opened as for sending, TLS and AUTH included.
 */
import { OutboxError, describeReply } from '../errors.js';
import type { Reply } from '../smtp/reply.js';
import { authenticate, prepareAuthentication, type AuthSetup } from './auth.js';
import { openSession, type SessionOptions } from './session.js';

export async function remoteQueueStart(options: SessionOptions, auth: AuthSetup | undefined, node: string): Promise<Reply> {
  if (node.trim() === '' || /\s/.test(node)) throw new OutboxError('E_USAGE', `invalid --rmqs argument ${JSON.stringify(node)}: use host, @domain or #queue`);
  const session = await openSession(options);
  let failure: unknown;
  try {
    if (!session.capabilities.has('ETRN')) {
      throw new OutboxError('E_CAPABILITY', 'the server does not offer ETRN (Remote Message Queue Starting)');
    }
    if (auth) await authenticate(session, await prepareAuthentication(session, auth));
    const reply = await session.connection.command({ verb: 'ETRN', node });
    checkEtrnReply(reply);
    return reply;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await session.close(failure);
  }
}

/**
 * RFC 1985 §5: 250–253 the queue is being started; 458 and 459 a temporary
 * refusal (75); 500/501 a syntax error (65, as msmtp); anything else is not
 * what the RFC allows (76, as msmtp).
 */
function checkEtrnReply(reply: Reply): void {
  if (reply.code >= 250 && reply.code <= 253) return;
  const text = `the server refused ETRN: ${describeReply(reply)}`;
  if (reply.code === 458 || reply.code === 459 || (reply.code >= 400 && reply.code < 500)) {
    throw new OutboxError('E_ENVELOPE_REJECTED', text, { transient: true, reply, command: 'ETRN' });
  }
  if (reply.code === 500 || reply.code === 501) throw new OutboxError('E_BAD_DATA', text, { reply, command: 'ETRN' });
  throw new OutboxError('E_PROTOCOL', text, { reply, command: 'ETRN' });
}
