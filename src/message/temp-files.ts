/**
 * Private temporary folders that never outlive the process: each is made by
 * mkdtemp with mode 0700 and removed by its owner. This module only keeps
 * the register of those still there; removing them when the process ends is
 * the CLI's job (cli/temp-cleanup.ts), since only src/cli touches the
 * process's exit and signal handlers. The CLI is told when the first folder
 * is made and when the last one is gone, so that its handlers exist only
 * while there is something to remove.
 */
import { mkdtemp, chmod } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** Told when the register stops being empty (`first`) and when it is empty again (`last`). */
export interface PrivateDirWatcher {
  first(): void;
  last(): void;
}

const live = new Set<string>();
let watcher: PrivateDirWatcher | undefined;

/** Who to tell about the register; one at a time (the CLI). */
export function watchPrivateDirs(next: PrivateDirWatcher): void {
  watcher = next;
}

/** Makes `<parent>/outbox-XXXXXX` with mode 0700 and registers it for removal at exit. */
export async function makePrivateDir(parent: string): Promise<string> {
  const dir = await mkdtemp(join(parent, 'outbox-'));
  live.add(dir);
  if (live.size === 1) watcher?.first();
  await chmod(dir, 0o700);
  return dir;
}

/** Removes the folder and everything in it, now, and forgets it. Never throws. */
export function removePrivateDir(dir: string): void {
  removeQuietly(dir);
  live.delete(dir);
  if (live.size === 0) watcher?.last();
}

/** Removes every folder still registered (at exit, on a signal). Never throws. */
export function removeAllPrivateDirs(): void {
  for (const dir of live) removeQuietly(dir);
  live.clear();
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
