/**
 * The spool's private temporary folders (message/temp-files.ts) go away with
 * the process: at exit and on SIGINT, SIGTERM and SIGHUP. The handlers are
 * installed while at least one folder exists and removed with the last one,
 * so a mail small enough for memory leaves the process's signals alone.
 *
 * Signals: a listener on SIGINT replaces Node's default (exit), so the
 * handler removes the folders, takes its listeners away and, when no one
 * else listens for that signal, sends it again: the process then dies of it
 * as it would have, with the shell seeing the signal.
 */
import { removeAllPrivateDirs, watchPrivateDirs } from '../message/temp-files.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type CleanupSignal = (typeof SIGNALS)[number];

const signalHandlers = new Map<CleanupSignal, () => void>();
let exitHandler: (() => void) | undefined;

/** From now on, temporary folders are removed when the process exits or is killed by one of SIGNALS. */
export function removeTempFilesOnExit(): void {
  watchPrivateDirs({ first: install, last: uninstall });
}

function install(): void {
  if (exitHandler) return;
  exitHandler = removeAllPrivateDirs;
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
  removeAllPrivateDirs();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
