/**
 * Private temporary folders that never outlive the process: each is made by
 * mkdtemp with mode 0700 and removed by its owner, and whatever is still
 * there is removed when the process exits and on SIGINT, SIGTERM and SIGHUP.
 *
 * Signals: a listener on SIGINT replaces Node's default (exit), so the
 * handler removes the folders, takes its listeners away and, when no one
 * else listens for that signal, sends it again: the process then dies of it
 * as it would have, with the shell seeing the signal. The handlers are
 * installed while at least one folder exists and removed with the last one.
 */
import { mkdtemp, chmod } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type CleanupSignal = (typeof SIGNALS)[number];

const live = new Set<string>();
const signalHandlers = new Map<CleanupSignal, () => void>();
let exitHandler: (() => void) | undefined;

/** Makes `<parent>/outbox-XXXXXX` with mode 0700 and registers it for removal at exit. */
export async function makePrivateDir(parent: string): Promise<string> {
  const dir = await mkdtemp(join(parent, 'outbox-'));
  live.add(dir);
  install();
  await chmod(dir, 0o700);
  return dir;
}

/** Removes the folder and everything in it, now, and forgets it. Never throws. */
export function removePrivateDir(dir: string): void {
  removeQuietly(dir);
  live.delete(dir);
  if (live.size === 0) uninstall();
}

/** The folders not yet removed (for tests). */
export function livePrivateDirs(): string[] {
  return [...live];
}

function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // at exit there is nobody left to tell; a later tmp cleaner will see it
  }
}

function removeAll(): void {
  for (const dir of live) removeQuietly(dir);
  live.clear();
}

function install(): void {
  if (exitHandler) return;
  exitHandler = removeAll;
  process.on('exit', exitHandler);
  for (const signal of SIGNALS) {
    const handler = (): void => onSignal(signal);
    signalHandlers.set(signal, handler);
    process.on(signal, handler);
  }
}

function uninstall(): void {
  if (exitHandler) process.removeListener('exit', exitHandler);
  exitHandler = undefined;
  for (const [signal, handler] of signalHandlers) process.removeListener(signal, handler);
  signalHandlers.clear();
}

function onSignal(signal: CleanupSignal): void {
  removeAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
