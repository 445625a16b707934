/**
 * `outbox serve --queue`: each accepted mail goes into outbox's durable
 * queue, as `outbox -f SENDER` with `queue always` would put it there (the
 * account chosen by the envelope-from, its header rewriting applied, the
 * client's DSN request kept), and the client is told 250 only once the
 * entry is on disk (enqueue fsyncs the files and the folder). A full disk or
 * any other local failure is 451: the client keeps the mail and retries.
 * After a commit a background `outbox --queue-run` starts, as queue-enqueue
 * does for `queue always` (OUTBOX_BACKGROUND_FLUSH=off leaves it to a timer).
 */
import type { Backend, Delivery, Envelope } from '../server/backend.js';
import type { OutboxError } from '../errors.js';
import type { Spool } from '../message/spool.js';
import { enqueueMail, queueDirOf, startBackgroundFlush } from './queue-enqueue.js';
import { accountForMail, deliveryForError, dsnFor, prepareForAccount, sendOptionsFor, type RelaySettings } from './serve-account.js';
import { spoolingBackend } from './serve-spool.js';
import type { Stdio } from './stdio.js';

export type ServeIo = Pick<Stdio, 'env' | 'self' | 'writeOut' | 'writeErr'>;

export function queueBackend(settings: RelaySettings, io: ServeIo): Backend {
  return spoolingBackend((spool, envelope) => queueOne(settings, io, spool, envelope, true));
}

/** Enqueues one mail durably; `flush` starts the background queue run. The relay uses it for `queue always`, and for `on_failure` with the attempt's `failure`. */
export async function queueOne(settings: RelaySettings, io: ServeIo, spool: Spool, envelope: Envelope, flush: boolean, failure?: OutboxError): Promise<Delivery> {
  try {
    const options = sendOptionsFor(settings, envelope);
    const account = await accountForMail(options, io.env);
    const prepared = await prepareForAccount(spool, account, envelope.mailFrom);
    try {
      const envid = dsnFor(account, options, envelope).dsn?.envid;
      const record = await enqueueMail(
        {
          account,
          options: envid !== undefined ? { ...options, envid } : options,
          mailFrom: undefined,
          reversePath: envelope.mailFrom,
          recipients: envelope.recipients,
          spool: prepared.spool,
          now: new Date(),
          ...(failure ? { failure } : {}),
        },
        io.env,
      );
      if (flush) startBackgroundFlush(queueDirOf(account, io.env), options, io);
      return { kind: 'delivered', id: record.id };
    } finally {
      await prepared.spool.dispose();
    }
  } catch (error) {
    return deliveryForError(error, envelope.recipients);
  }
}
