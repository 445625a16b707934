/**
 * The queue's modes: `mailq` / `-bp` / `--queue-list` (with `--json`),
 * `--queue-remove ID…`, and the flushes `-q` / `--queue-flush` (every mail,
 * whatever its back-off) and `--queue-run` (only what is due; for a timer).
 */
import { existsSync } from 'node:fs';
import { OutboxError } from '../errors.js';
import { queueListing } from '../queue/listing.js';
import { QueueStore } from '../queue/store.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import { queueDirFor } from './queue-dir.js';
import { renderQueueListing } from './queue-render.js';
import type { Stdio } from './stdio.js';

export async function runQueueMode(options: CliOptions, io: Stdio): Promise<number> {
  const dir = queueDirFor(options, io.env);
  switch (options.mode) {
    case 'queue-list':
      return listQueue(dir, options, io);
    case 'queue-remove':
      return removeFromQueue(dir, options.queueIds ?? [], io);
    case 'queue-flush':
    case 'queue-run': {
      const { runFlush } = await import('./queue-flush.js');
      return runFlush(dir, options, io);
    }
    default:
      throw new Error(`not a queue mode: ${options.mode}`);
  }
}

async function listQueue(dir: string, options: CliOptions, io: Stdio): Promise<number> {
  // Listing never makes the folder: a queue that was never used is simply empty.
  const listing = existsSync(dir) ? queueListing(await (await QueueStore.open(dir)).list()) : { mails: [], corrupt: [] };
  io.writeOut(options.json ? `${JSON.stringify(listing.mails, null, 2)}\n` : renderQueueListing(listing, new Date()));
  for (const entry of listing.corrupt) io.writeErr(`outbox: ${entry.folder}: corrupt entry (${entry.reason})\n`);
  return EX_OK;
}

async function removeFromQueue(dir: string, ids: readonly string[], io: Stdio): Promise<number> {
  const store = existsSync(dir) ? await QueueStore.open(dir) : undefined;
  const missing: string[] = [];
  for (const id of ids) {
    if (store && (await store.remove(id))) io.writeOut(`${id}: removed\n`);
    else missing.push(id);
  }
  if (missing.length > 0) throw new OutboxError('E_NOT_QUEUED', `no queued mail with the id ${missing.join(', ')} in ${dir}`);
  return EX_OK;
}
