/**
 * The dot-lock of a mailbox, as Debian's mail tools take it (liblockfile,
 * used by procmail, mutt, dma and mailx): `PATH.lock` created with O_EXCL,
 * holding the locker's pid. A lock is stale, and removed, when its process
 * no longer exists or it is older than five minutes (liblockfile's rule,
 * which lets a crashed writer on another machine not block forever).
 *
 * Node has no fcntl(2): outbox takes the dot-lock only. Every Debian mail
 * program takes the dot-lock too (that is why /var/mail is group `mail`
 * and mode 2775), so they exclude each other.
 *
 * Waiting is bounded: `attempts` tries, `delayMs` apart (a minute by
 * default); then the delivery fails temporarily, and the queue (or the
 * caller) tries again later.
 */
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { OutboxError } from '../errors.js';

export const STALE_LOCK_MS = 5 * 60_000;

export interface LockOptions {
  readonly attempts?: number;
  readonly delayMs?: number;
  readonly now?: () => number;
}

export interface DotLock {
  release(): Promise<void>;
}

export async function takeDotLock(mailbox: string, options: LockOptions = {}): Promise<DotLock> {
  const lockPath = `${mailbox}.lock`;
  const attempts = options.attempts ?? 60;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const file = await open(lockPath, 'wx', 0o644);
      try {
        await file.write(`${process.pid}\n`);
      } finally {
        await file.close();
      }
      return { release: () => unlink(lockPath).catch(() => {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(lockPath, options.now?.() ?? Date.now())) {
      await unlink(lockPath).catch(() => {});
      continue;
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 1000));
  }
  throw new OutboxError('E_MDA_FAILED', `local delivery failed: the mailbox is locked (${lockPath})`, { transient: true });
}

async function isStale(lockPath: string, now: number): Promise<boolean> {
  try {
    const [status, content] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    if (now - status.mtimeMs > STALE_LOCK_MS) return true;
    const pid = Number.parseInt(content, 10);
    return Number.isSafeInteger(pid) && pid > 0 && !processExists(pid);
  } catch {
    return false; // gone meanwhile (the next attempt takes it) or unreadable (wait for it)
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
