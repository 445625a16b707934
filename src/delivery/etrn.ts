/**
 * ETRN (RFC 1985, msmtp's `--rmqs`): ask the server to start delivering the
 * mail it queues for a host (`host`), a domain (`@domain`) or a queue
 * (`#queue`). The session is opened as for sending, TLS and AUTH included.
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import type { Reply } from '../smtp/reply.js';
import { authenticateWithRefresh, type AuthSetup } from './auth.js';
import { openSession, type SessionOptions } from './session.js';

export async function remoteQueueStart(options: SessionOptions, auth: AuthSetup | undefined, node: string): Promise<Reply> {
  if (node.trim() === '' || /\s/.test(node)) throw new OutboxError('E_USAGE', `invalid --rmqs argument ${JSON.stringify(node)}: use host, @domain or #queue`);
  const session = await openSession(options);
  let failure: unknown;
  try {
    if (!session.capabilities.has('ETRN')) {
      throw new OutboxError('E_CAPABILITY', 'the server does not offer ETRN (Remote Message Queue Starting)');
    }
    if (auth) await authenticateWithRefresh(session, auth);
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
 * RFC 1985 §5: 250–253 the queue is being started; anything else is a
 * refusal, temporary when 4xx (458, 459). The exit status of each refusal is
 * decided in src/cli/exit-status.ts from the reply.
 */
function checkEtrnReply(reply: Reply): void {
  if (reply.code >= 250 && reply.code <= 253) return;
  throw new OutboxError('E_ETRN_REFUSED', `the server refused ETRN: ${describeReply(reply)}`, { transient: isTransientReply(reply), reply, command: 'ETRN' });
}
