/**
 * `outbox serve`'s default backend, relay: each mail is sent in-process as
 * `outbox -f SENDER RCPT…` would send it (with --account, as `outbox -a NAME
 * -f SENDER`): the account chosen by the envelope-from, its header
 * rewriting, its server, TLS and authentication, and its `queue` mode:
 * `always` enqueues durably (store-and-forward, E-MailRelay's --as-server),
 * `on_failure` enqueues what would have exited 75. The client's RET, ENVID
 * and NOTIFY are passed on (see serve-account.ts).
 *
 * The message is spooled while it arrives (serve-spool.ts), never held
 * whole. The outcome becomes the client's reply: sent → 250; a temporary
 * failure → 451 with the next server's reply text; a permanent one → its
 * 55x (or 554); LMTP's partial delivery → one reply per recipient.
 */
import { systemSecretDeps } from '../config/index.js';
import { deliver } from '../delivery/deliver.js';
import { OutboxError } from '../errors.js';
import type { Spool } from '../message/spool.js';
import type { Backend, Delivery, Envelope } from '../server/backend.js';
import { EX_TEMPFAIL, exitStatusFor } from './exit-status.js';
import { logMail } from './mail-log.js';
import { accountForMail, deliveryForError, dsnFor, prepareForAccount, sendOptionsFor, type RelaySettings } from './serve-account.js';
import { queueOne, type ServeIo } from './serve-queue.js';
import { spoolingBackend } from './serve-spool.js';
import { authSetupFor, sessionOptionsFor } from './session-options.js';

export function relayBackend(settings: RelaySettings, io: ServeIo): Backend {
  return spoolingBackend((spool, envelope) => relayOne(settings, io, spool, envelope));
}

async function relayOne(settings: RelaySettings, io: ServeIo, spool: Spool, envelope: Envelope): Promise<Delivery> {
  const options = sendOptionsFor(settings, envelope);
  let account;
  try {
    account = await accountForMail(options, io.env);
  } catch (error) {
    return deliveryForError(error, envelope.recipients);
  }
  if (account.queue === 'always') return queueOne(settings, io, spool, envelope, true);
  const startedAt = new Date();
  const reversePath = envelope.mailFrom;
  const recipients = envelope.recipients;
  let outcome: { result: Awaited<ReturnType<typeof deliver>> } | { error: unknown };
  let mailsize = 0;
  try {
    const prepared = await prepareForAccount(spool, account, reversePath);
    try {
      mailsize = prepared.spool.octets - prepared.spool.lines;
      // No prompt: a server must not stop a session to ask its terminal (and under --inetd stdin is the SMTP stream).
      const auth = await authSetupFor(account, { ...systemSecretDeps(io.env), prompt: undefined });
      outcome = await deliver({
        session: sessionOptionsFor(account, options, io),
        ...(auth ? { auth } : {}),
        envelope: { reversePath, recipients, ...dsnFor(account, options, envelope) },
        message: prepared.spool.chunks(),
        facts: { octets: prepared.spool.octets, has8bit: prepared.spool.has8bit, body: options.bodyType },
        eightbit: { policy: account.eightbit, reread: () => prepared.spool.chunks() },
      }).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      );
    } finally {
      await prepared.spool.dispose();
    }
  } catch (error) {
    outcome = { error };
  }
  await logMail({ account, reversePath, recipients, mailsize, startedAt, ...outcome }, io).catch(() => undefined);
  if ('result' in outcome) return { kind: 'delivered', id: 'relayed' };
  const error = outcome.error;
  // on_failure: what would exit 75 is queued, and the client is told it is taken care of.
  if (account.queue === 'on_failure' && error instanceof OutboxError && exitStatusFor(error) === EX_TEMPFAIL) {
    return queueOne(settings, io, spool, envelope, false, error);
  }
  return deliveryForError(error, recipients);
}
