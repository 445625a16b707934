/**
 * The maildir backend (`outbox serve --maildir=DIR`): each accepted message
 * becomes one file in a Maildir, delivered as the Maildir specification
 * (D. J. Bernstein, "Using maildir format") says so that a reader (mutt,
 * Dovecot, a test) never sees half a message:
 *
 *   1. write to tmp/<unique>, fsync the file;
 *   2. rename it into new/<unique>, fsync new/ so the rename survives a crash.
 *
 * Unique names follow the modern spec: `<seconds>.M<usec>P<pid>Q<n>R<random>.<host>`,
 * with "/" and ":" in the host name written as \057 and \072 (":" starts a
 * maildir flag suffix). The delivered id the client sees is that file name.
 * The data goes to disk as it arrives; nothing holds a whole message.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { uniqueName as maildirUniqueName } from '../../local/maildir.js';
import { fsyncDir } from '../../queue/durable-fs.js';
import type { Backend, BackendSession, ConnectionInfo, Delivery, MessageSink } from '../backend.js';

// One unique-name rule and one folder layout for every Maildir outbox writes (mda maildir: and this backend).
export { createMaildir, uniqueName as maildirUniqueName } from '../../local/maildir.js';

export class MaildirBackend implements Backend {
  constructor(readonly dir: string) {}

  newSession(_connection?: ConnectionInfo): BackendSession {
    return { open: () => this.open() };
  }

  async open(): Promise<MessageSink> {
    const name = maildirUniqueName();
    const tmpPath = join(this.dir, 'tmp', name);
    // 'wx': a name already there means the uniqueness failed; never write into another delivery.
    const file = await open(tmpPath, 'wx', 0o600);
    return new MaildirSink(this.dir, name, tmpPath, file);
  }
}

class MaildirSink implements MessageSink {
  private file: FileHandle | undefined;

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly tmpPath: string,
    file: FileHandle,
  ) {
    this.file = file;
  }

  async write(bytes: Buffer): Promise<void> {
    const file = this.file;
    if (!file) throw new Error('maildir sink is closed');
    for (let offset = 0; offset < bytes.length; ) {
      const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset, null);
      offset += bytesWritten;
    }
  }

  async commit(): Promise<Delivery> {
    const file = this.file;
    if (!file) throw new Error('maildir sink is closed');
    this.file = undefined;
    try {
      await file.sync();
      await file.close();
      await rename(this.tmpPath, join(this.dir, 'new', this.name));
      await fsyncDir(join(this.dir, 'new'));
    } catch (error) {
      await file.close().catch(() => undefined);
      await unlink(this.tmpPath).catch(() => undefined);
      throw error;
    }
    return { kind: 'delivered', id: this.name };
  }

  async abort(): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    await file.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}
