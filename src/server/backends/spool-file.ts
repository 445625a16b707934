/**
 * A message spooled to a private file while the data arrives, for the
 * backends that can act only once the whole message and its envelope are
 * known (command, filter): a folder made by mkdtemp (0700) holding one file
 * (0600), so no other local user can read or swap the mail. Memory holds
 * one chunk at a time. `remove()` always runs (commit, abort, failure);
 * it is safe to call more than once.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Delivery, Envelope, MessageSink } from '../backend.js';

export class SpoolFile {
  private file: FileHandle | undefined;
  private removed = false;
  octets = 0;

  private constructor(
    private readonly dir: string,
    readonly path: string,
    file: FileHandle,
  ) {
    this.file = file;
  }

  static async create(parent = tmpdir()): Promise<SpoolFile> {
    const dir = await mkdtemp(join(parent, 'outbox-serve-'));
    const path = join(dir, 'message');
    try {
      return new SpoolFile(dir, path, await open(path, 'wx', 0o600));
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async write(bytes: Buffer): Promise<void> {
    const file = this.file;
    if (!file) throw new Error('spool file is closed');
    for (let offset = 0; offset < bytes.length; ) {
      const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset, null);
      offset += bytesWritten;
    }
    this.octets += bytes.length;
  }

  /** The data is complete: close the file so a program can read (and rewrite) it. */
  async finish(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.close();
  }

  /** The file as it is now (a filter may have rewritten it), in chunks. */
  chunks(): AsyncIterable<Buffer> {
    return createReadStream(this.path, { highWaterMark: 64 * 1024 });
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * A sink that keeps the message in a SpoolFile until commit and then hands
 * the finished file and the envelope to `deliver`; the file is removed
 * whatever happens (delivered, refused, thrown, aborted).
 */
export class SpooledSink implements MessageSink {
  constructor(
    private readonly spool: SpoolFile,
    private readonly deliver: (envelope: Envelope, spool: SpoolFile) => Promise<Delivery>,
  ) {}

  write(bytes: Buffer): Promise<void> {
    return this.spool.write(bytes);
  }

  async commit(envelope: Envelope): Promise<Delivery> {
    try {
      await this.spool.finish();
      return await this.deliver(envelope, this.spool);
    } finally {
      await this.spool.remove();
    }
  }

  abort(): Promise<void> {
    return this.spool.remove();
  }
}
