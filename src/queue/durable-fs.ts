/**
 * Writes that survive a crash or a power cut: a file is built under a
 * temporary name, flushed with fsync, renamed into place, and the folder that
 * holds it is flushed too, so after a crash the name points either to nothing
 * or to the whole file (the model is nullmailer's and Postfix's queue).
 */
import { randomBytes } from '../message/random.js';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { OutboxError } from '../errors.js';

/** Makes the entries of a folder (creations, renames, removals) durable. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A name beside `path` that no other writer picks. */
function temporaryBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `path` atomically and durably (mode 0600). */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = temporaryBeside(path);
  try {
    await writeAndSync(temporary, async (handle) => {
      await handle.writeFile(data);
    });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw storageError(`write ${path}`, error);
  }
  await fsyncDir(dirname(path));
}

/**
 * Writes a stream of chunks to a new file and flushes it; returns the octets
 * written. The caller renames the folder holding it into place, so this file
 * needs no rename of its own. Memory holds one chunk at a time.
 */
export async function writeStreamSynced(path: string, chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let octets = 0;
  try {
    await writeAndSync(path, async (handle) => {
      for await (const chunk of chunks) {
        await handle.write(chunk);
        octets += chunk.length;
      }
    });
  } catch (error) {
    throw storageError(`write ${path}`, error);
  }
  return octets;
}

async function writeAndSync(path: string, fill: (handle: FileHandle) => Promise<void>): Promise<void> {
  const handle = await open(path, 'wx', 0o600);
  try {
    await fill(handle);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A failed write names the file and what went wrong; a full disk says so
 * plainly, because that is what an administrator has to act on.
 */
export function storageError(what: string, error: unknown): OutboxError {
  if (error instanceof OutboxError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === 'ENOSPC' ? 'no space left on the device' : code === 'EDQUOT' ? 'disk quota exceeded' : (error as Error).message;
  return new OutboxError('E_IO', `queue: cannot ${what}: ${reason}`, { cause: error });
}
