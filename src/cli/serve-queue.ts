/**
 * The background queue runs `outbox serve` starts after it queued mail
 * (`--queue`, and the relay's `queue always` / `on_failure` parts; the
 * backends are in serve-relay.ts): as queue-enqueue does for `queue always`
 * (OUTBOX_BACKGROUND_FLUSH=off leaves it to a timer), but at most one per
 * queue folder every FLUSH_INTERVAL_MS: a server taking hundreds of mails a
 * second must not start hundreds of processes. A mail that arrives inside
 * the interval gets a run at its end, so none waits for a timer.
 */
import { startBackgroundFlush } from './queue-enqueue.js';
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
