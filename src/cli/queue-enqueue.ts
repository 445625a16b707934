/**
 * `queue always` and `queue on_failure` in sendmail mode: the prepared mail
 * (headers already rewritten, exactly as a direct send would send them) is
 * stored with its envelope, durably, and the caller is told success. With
 * `always` a detached `outbox --queue-run` starts at once, so the mail goes
 * out without the caller waiting for the network.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMMAND_LINE_ACCOUNT, ENVIRONMENT_ACCOUNT, type ReadyAccount } from '../config/index.js';
import type { PartialDeliveryError } from '../delivery/transaction.js';
import type { OutboxError } from '../errors.js';
import type { Spool } from '../message/spool.js';
import { retryDelayMs } from '../queue/schedule.js';
import { storedReply, type QueueRecord, type RecipientRecord } from '../queue/record.js';
import { QueueStore } from '../queue/store.js';
import type { CliOptions } from './options.js';
import { defaultQueueDir } from './queue-dir.js';
import type { Stdio } from './stdio.js';

export interface EnqueueRequest {
  readonly account: ReadyAccount;
  readonly options: CliOptions;
  /** The From read from the mail for `%F`, when the account needed it. */
  readonly mailFrom: string | undefined;
  readonly reversePath: string;
  readonly recipients: readonly string[];
  readonly spool: Spool;
  readonly now: Date;
  /** `on_failure`: the temporary failure of the attempt just made. */
  readonly failure?: OutboxError;
  /** A part for the account's MDA (issue 15): the flush delivers it locally, not over SMTP. */
  readonly via?: 'mda';
}

export function queueDirOf(account: ReadyAccount, env: NodeJS.ProcessEnv): string {
  return account.queue_dir ?? defaultQueueDir(env);
}

/**
 * The queue folders are made once per folder and process: `outbox serve
 * --queue` enqueues many mails, and making the six folders again for each
 * was a fifth of its CPU per mail (bench/serve.mjs). A failed enqueue forgets
 * the store; when its folders were removed meanwhile they are made again.
 */
const stores = new Map<string, Promise<QueueStore>>();

function openStore(dir: string): Promise<QueueStore> {
  let store = stores.get(dir);
  if (!store) {
    store = QueueStore.open(dir);
    stores.set(dir, store);
    store.catch(() => stores.delete(dir));
  }
  return store;
}

export async function enqueueMail(request: EnqueueRequest, env: NodeJS.ProcessEnv): Promise<QueueRecord> {
  const dir = queueDirOf(request.account, env);
  const reused = stores.has(dir);
  try {
    return await enqueueInto(await openStore(dir), request);
  } catch (error) {
    stores.delete(dir);
    // Made for an earlier mail, and the folders are gone since (removed by hand): make them
    // again and try once more. Only then: an entry may already be in place after another failure.
    if (!reused || existsSync(join(dir, 'tmp'))) throw error;
    return enqueueInto(await openStore(dir), request);
  }
}

async function enqueueInto(store: QueueStore, request: EnqueueRequest): Promise<QueueRecord> {
  const { account, options, failure, now } = request;
  const name = account.name === COMMAND_LINE_ACCOUNT || account.name === ENVIRONMENT_ACCOUNT ? '' : account.name;
  return store.enqueue(request.spool.chunks(), {
    account: {
      name,
      ...(options.file !== undefined ? { configFile: resolve(options.file) } : {}),
      ...(options.host !== undefined ? { host: options.host } : {}),
      settings: options.settings.map(({ command, argument, option }) => ({ command, argument, option })),
      ...(request.mailFrom !== undefined ? { mailFrom: request.mailFrom } : {}),
    },
    from: request.reversePath,
    ...(request.via === 'mda' ? { via: 'mda' as const } : {}),
    recipients: recipientStates(request.recipients, failure),
    has8bit: request.spool.has8bit,
    ...(options.bodyType !== undefined ? { body: options.bodyType } : {}),
    ...(options.envid !== undefined ? { envid: options.envid } : {}),
    chunking: options.chunking,
    queued_at: now.toISOString(),
    attempts: failure ? 1 : 0,
    next_attempt: new Date(now.getTime() + (failure ? retryDelayMs(1) : 0)).toISOString(),
    last_attempt: failure ? now.toISOString() : null,
    last_error: failure ? failure.message : null,
  });
}

/** After a failed attempt: LMTP's delivered recipients are done, a refused one keeps the server's reply. */
function recipientStates(recipients: readonly string[], failure: OutboxError | undefined): RecipientRecord[] {
  // By code, not instanceof: the delivery modules need not be loaded to queue a mail.
  const results = failure?.code === 'E_PARTIAL_DELIVERY' ? (failure as PartialDeliveryError).results : [];
  return recipients.map((address): RecipientRecord => {
    const result = results.find((r) => r.recipient === address);
    if (result) return { address, state: result.delivered ? 'delivered' : 'pending', reply: storedReply(result.reply) };
    const reply = failure?.reply && (failure.recipient === undefined || failure.recipient === address) ? storedReply(failure.reply) : null;
    return { address, state: 'pending', reply };
  });
}

/**
 * `queue always`: a detached `outbox --queue-run` for this queue folder, its
 * output discarded (the log file records what it does). OUTBOX_BACKGROUND_FLUSH=off
 * leaves the mail for a timer (and for tests that count processes).
 */
export function startBackgroundFlush(dir: string, options: CliOptions, io: Pick<Stdio, 'env' | 'self'>): void {
  if (io.env['OUTBOX_BACKGROUND_FLUSH'] === 'off' || !io.self) return;
  const args = [io.self.script, '--queue-run', `--queue-dir=${dir}`, ...(options.file !== undefined ? ['-C', options.file] : [])];
  try {
    spawn(io.self.execPath, args, { detached: true, stdio: 'ignore', env: io.env }).unref();
  } catch {
    // The mail is safe in the queue; the next flush (a timer, -q) sends it.
  }
}
