/**
 * The queue on disk. Each mail is a folder holding `message` (its bytes, CRLF,
 * headers already rewritten) and `envelope.json` (record.ts). Where the folder
 * is says what state the mail is in; a rename moves it, atomically:
 *
 *   tmp/ID@OWNER     being written by an enqueue (removed if OWNER died)
 *   queue/ID         waiting
 *   active/ID@OWNER  being delivered by a flush (back to queue/ if OWNER died)
 *   failed/ID        given up without a bounce, kept for the administrator
 *   corrupt/ID       unreadable, set aside
 *
 * An enqueue builds the folder in tmp/, fsyncs both files and the folder, and
 * renames it into queue/: after a crash there is either no entry or a whole
 * one. A flush claims a mail by renaming it into active/ under its own name
 * (owner.ts); two flushes cannot both win that rename, so a mail is never
 * delivered twice at once, and a crashed flush needs no timeout to recover.
 */
import { randomBytes } from '../message/random.js';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutboxError } from '../errors.js';
import { fsyncDir, storageError, writeFileDurably, writeStreamSynced } from './durable-fs.js';
import { currentOwner, isAlive, ownerTag, parseOwnerTag, type Owner } from './owner.js';
import { CorruptRecord, parseRecord, RECORD_VERSION, serializeRecord, type QueueRecord } from './record.js';

export const MESSAGE_FILE = 'message';
export const ENVELOPE_FILE = 'envelope.json';
const FOLDERS = ['tmp', 'queue', 'active', 'failed', 'corrupt'] as const;
export const ID_PATTERN = /^[0-9A-Z]{15}$/;
/** How many envelope files a listing reads at once. */
const READ_PARALLELISM = 32;

/** What an enqueue supplies; the store adds the id and the version. */
export type NewRecord = Omit<QueueRecord, 'id' | 'version' | 'size'>;

export interface QueueEntry {
  readonly id: string;
  readonly state: 'queued' | 'active';
  readonly record: QueueRecord;
}

export interface CorruptEntry {
  readonly id: string;
  readonly folder: string;
  readonly reason: string;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly claim: Claim }
  | { readonly kind: 'gone' }
  | { readonly kind: 'corrupt'; readonly reason: string; readonly movedTo: string };

export interface Listing {
  readonly entries: readonly QueueEntry[];
  readonly corrupt: readonly CorruptEntry[];
}

/** A new id: the time in base 36 (so ids sort by age) and 24 random bits. */
export function newId(now = Date.now()): string {
  return (now.toString(36).padStart(9, '0') + randomBytes(3).toString('hex')).toUpperCase();
}

export class QueueStore {
  private constructor(readonly dir: string, private readonly owner: Owner) {}

  /** Opens the queue folder, making it (0700) and its sub-folders when missing. */
  static async open(dir: string, owner: Owner = currentOwner()): Promise<QueueStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const folder of FOLDERS) await mkdir(join(dir, folder), { mode: 0o700 }).catch(ignoreExists);
    } catch (error) {
      throw storageError(`create the queue folder ${dir}`, error);
    }
    return new QueueStore(dir, owner);
  }

  /** Stores the mail durably; when this returns, a crash cannot lose it. */
  async enqueue(message: AsyncIterable<Uint8Array>, fields: NewRecord): Promise<QueueRecord> {
    const id = newId();
    const building = join(this.dir, 'tmp', `${id}@${ownerTag(this.owner)}`);
    try {
      await mkdir(building, { mode: 0o700 });
      const size = await writeStreamSynced(join(building, MESSAGE_FILE), message);
      const record: QueueRecord = { version: RECORD_VERSION, id, ...fields, size };
      await writeFileDurably(join(building, ENVELOPE_FILE), serializeRecord(record));
      await rename(building, join(this.dir, 'queue', id));
      await fsyncDir(join(this.dir, 'queue'));
      return record;
    } catch (error) {
      await rm(building, { recursive: true, force: true });
      throw storageError('store the mail', error);
    }
  }

  /** Every queued and active mail, oldest first, and the entries that could not be read. */
  async list(): Promise<Listing> {
    const entries: QueueEntry[] = [];
    const corrupt: CorruptEntry[] = [];
    const names = [
      ...(await this.names('queue')).map((name) => ({ folder: 'queue', name, id: name, state: 'queued' as const })),
      ...(await this.names('active')).map((name) => ({ folder: 'active', name, id: name.split('@')[0]!, state: 'active' as const })),
    ];
    for (let i = 0; i < names.length; i += READ_PARALLELISM) {
      await Promise.all(
        names.slice(i, i + READ_PARALLELISM).map(async ({ folder, name, id, state }) => {
          try {
            entries.push({ id, state, record: await this.readRecord(join(this.dir, folder, name), id) });
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // delivered or removed meanwhile
            corrupt.push({ id, folder: `${folder}/${name}`, reason: (error as Error).message });
          }
        }),
      );
    }
    entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { entries, corrupt };
  }

  /** The ids waiting in queue/, oldest first. */
  async queuedIds(): Promise<string[]> {
    return (await this.names('queue')).filter((name) => ID_PATTERN.test(name)).sort();
  }

  /** Takes a waiting mail for delivery: another flush may have it (or it is gone), or it may be unreadable. */
  async claim(id: string): Promise<ClaimResult> {
    const path = join(this.dir, 'active', `${id}@${ownerTag(this.owner)}`);
    try {
      await rename(join(this.dir, 'queue', id), path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
      throw storageError(`claim ${id}`, error);
    }
    try {
      return { kind: 'claimed', claim: new Claim(this, id, path, await this.readRecord(path, id)) };
    } catch (error) {
      if (!(error instanceof CorruptRecord) && !(error instanceof SyntaxError)) throw storageError(`read ${id}`, error);
      const movedTo = await this.moveToFolder(path, 'corrupt', id);
      return { kind: 'corrupt', reason: error.message, movedTo };
    }
  }

  /**
   * Recovers from crashed processes: half-written entries in tmp/ are
   * removed, entries in active/ whose owner died go back to queue/.
   * Returns the ids put back.
   */
  async recover(): Promise<string[]> {
    for (const name of await this.names('tmp')) {
      const owner = parseOwnerTag(name.slice(name.indexOf('@') + 1));
      if (owner && !isAlive(owner)) await rm(join(this.dir, 'tmp', name), { recursive: true, force: true });
    }
    const returned: string[] = [];
    for (const name of await this.names('active')) {
      const [id, tag] = name.split('@');
      const owner = parseOwnerTag(tag ?? '');
      if (!id || !owner || isAlive(owner)) continue;
      try {
        await rename(join(this.dir, 'active', name), join(this.dir, 'queue', id));
        returned.push(id);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // another flush recovered it first
        await this.moveToFolder(join(this.dir, 'active', name), 'corrupt', id);
      }
    }
    if (returned.length > 0) await fsyncDir(join(this.dir, 'queue'));
    return returned;
  }

  /** Removes a mail, waiting or being delivered; false when there is none with that id. */
  async remove(id: string): Promise<boolean> {
    if (!ID_PATTERN.test(id)) return false;
    const candidates = [join(this.dir, 'queue', id), ...(await this.names('active')).filter((n) => n.startsWith(`${id}@`)).map((n) => join(this.dir, 'active', n))];
    for (const path of candidates) {
      const doomed = join(this.dir, 'tmp', `${id}.removed@${ownerTag(this.owner)}`);
      try {
        await rename(path, doomed);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw storageError(`remove ${id}`, error);
      }
      await rm(doomed, { recursive: true, force: true });
      return true;
    }
    return false;
  }

  /** @internal Moves a folder to failed/ or corrupt/, durably. */
  async moveToFolder(path: string, folder: 'failed' | 'corrupt', id: string): Promise<string> {
    let target = join(this.dir, folder, id);
    try {
      await rename(path, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw storageError(`move ${id} to ${folder}/`, error);
      target = join(this.dir, folder, `${id}.${randomBytes(3).toString('hex')}`);
      await rename(path, target);
    }
    await fsyncDir(join(this.dir, folder));
    return target;
  }

  private async readRecord(path: string, id: string): Promise<QueueRecord> {
    // An envelope is a few hundred bytes: read synchronously it costs microseconds, through
    // fs/promises four thread-pool round trips (open, fstat, read, close) and the garbage of
    // their promises, which made listing 10,000 mails take ~2 s.
    return parseRecord(readFileSync(join(path, ENVELOPE_FILE), 'utf8'), id);
  }

  private async names(folder: string): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, folder))).filter((name) => !name.startsWith('.'));
    } catch (error) {
      throw storageError(`read ${join(this.dir, folder)}`, error);
    }
  }
}

/** A mail taken for delivery by this process; exactly one of release, delivered, fail ends it. */
export class Claim {
  constructor(
    private readonly store: QueueStore,
    readonly id: string,
    readonly path: string,
    public record: QueueRecord,
  ) {}

  get messagePath(): string {
    return join(this.path, MESSAGE_FILE);
  }

  /** Saves the record (each recipient's state, attempts, next attempt) durably. */
  async update(record: QueueRecord): Promise<void> {
    this.record = record;
    try {
      await writeFileDurably(join(this.path, ENVELOPE_FILE), serializeRecord(record));
    } catch (error) {
      // Removed (--queue-remove) while it was being delivered: nothing is left to update.
      if ((error as OutboxError).cause && ((error as OutboxError).cause as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
  }

  /** Puts the mail back in queue/ to wait for its next attempt. */
  async release(): Promise<void> {
    await rename(this.path, join(this.store.dir, 'queue', this.id)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageError(`put ${this.id} back`, error);
    });
  }

  /** Every recipient is done: the mail leaves the queue. */
  async delivered(): Promise<void> {
    // Out of active/ in one rename, so a crash while removing the files
    // cannot leave half an entry for recover() to put back in the queue.
    const done = join(this.store.dir, 'tmp', `${this.id}.sent@${this.path.slice(this.path.lastIndexOf('@') + 1)}`);
    try {
      await rename(this.path, done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile
      throw storageError(`remove ${this.id} after delivery`, error);
    }
    await fsyncDir(join(this.store.dir, 'active'));
    await rm(done, { recursive: true, force: true });
  }

  /** Given up without a bounce: kept in failed/ for the administrator. Returns where. */
  async fail(): Promise<string> {
    return this.store.moveToFolder(this.path, 'failed', this.id);
  }
}

function ignoreExists(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
}
