/**
 * `outbox serve --queue`: each accepted mail goes into outbox's durable
 * queue, as `outbox -f SENDER` with `queue always` would put it there (the
 * account chosen by the envelope-from, its header rewriting applied, the
 * client's DSN request kept), and the client is told 250 only once the
 * entry is on disk (enqueue fsyncs the files and the folder). A full disk or
 * any other local failure is 451: the client keeps the mail and retries.
 * After a commit a background `outbox --queue-run` starts, as queue-enqueue
 * does for `queue always` (OUTBOX_BACKGROUND_FLUSH=off leaves it to a timer),
 * but at most one per queue folder every FLUSH_INTERVAL_MS: a server taking
 * hundreds of mails a second must not start hundreds of processes. A mail
 * that arrives inside the interval gets a run at its end, so none waits for
 * a timer.
 */
import type { Backend, Delivery, Envelope } from '../server/backend.js';
import type { OutboxError } from '../errors.js';
import type { Spool } from '../message/spool.js';
import { enqueueMail, queueDirOf, startBackgroundFlush } from './queue-enqueue.js';
import { accountForMail, deliveryForError, dsnFor, prepareForAccount, sendOptionsFor, type RelaySettings } from './serve-account.js';
import { spoolingBackend } from './serve-spool.js';
import type { CliOptions } from './options.js';
import type { Stdio } from './stdio.js';

const FLUSH_INTERVAL_MS = 2000;

/** Per queue folder: when the last run started, and whether one is due at the end of the interval. */
const flushes = new Map<string, { last: number; trailing: NodeJS.Timeout | undefined }>();

export function requestFlush(dir: string, options: CliOptions, io: ServeIo): void {
  const state = flushes.get(dir) ?? { last: 0, trailing: undefined };
  flushes.set(dir, state);
  if (state.trailing) return;
  const wait = state.last + FLUSH_INTERVAL_MS - Date.now();
  const run = (): void => {
    state.trailing = undefined;
    state.last = Date.now();
    startBackgroundFlush(dir, options, io);
  };
  if (wait <= 0) return run();
  // Unref'd: at shutdown the mail is safe in the queue; the next run takes it.
  state.trailing = setTimeout(run, wait);
  state.trailing.unref();
}

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
      if (flush) requestFlush(queueDirOf(account, io.env), options, io);
      return { kind: 'delivered', id: record.id };
    } finally {
      await prepared.spool.dispose();
    }
  } catch (error) {
    return deliveryForError(error, envelope.recipients);
  }
}
