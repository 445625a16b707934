/**
 * `mda maildir:PATH`: the mail as one file of a Maildir (D. J. Bernstein,
 * "Using maildir format"), so that no reader ever sees half a mail:
 *
 *   1. write tmp/UNIQUE (created exclusively), fsync it;
 *   2. rename it to new/UNIQUE, fsync new/ so the rename survives a crash.
 *
 * The folder and its tmp/, new/, cur/ are made (0700) when missing. The
 * mail gets a `Return-Path:` line first, as a final delivery does (RFC
 * 5321 §4.4), and LF line endings. On any failure the file in tmp/ is
 * removed: a Maildir never keeps a partial mail.
 */
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '../message/random.js';
import { fsyncDir } from '../queue/durable-fs.js';
import { mailboxError } from './exit-status.js';
import { withLocalLineEnds } from './line-ends.js';

let deliveries = 0;

/** The modern unique name (the server's --maildir uses it too): `<seconds>.M<usec>P<pid>Q<n>R<random>.<host>`, "/" and ":" of the host escaped. */
export function uniqueName(now = Date.now(), host = hostname()): string {
  deliveries += 1;
  const safeHost = host.replace(/\//g, '\\057').replace(/:/g, '\\072');
  return `${Math.floor(now / 1000)}.M${(now % 1000) * 1000}P${process.pid}Q${deliveries}R${randomBytes(8).toString('hex')}.${safeHost}`;
}

/** Makes DIR/tmp, DIR/new and DIR/cur (mode 0700: mail is private); `outbox serve --maildir` uses it too. */
export async function createMaildir(dir: string): Promise<void> {
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
}

/** Delivers into the Maildir at `dir`; returns the new file's name. Throws E_MDA_FAILED. */
export async function deliverToMaildir(dir: string, reversePath: string, message: AsyncIterable<Uint8Array>): Promise<string> {
  let tmpPath: string | undefined;
  let file: FileHandle | undefined;
  try {
    await createMaildir(dir);
    const name = uniqueName();
    tmpPath = join(dir, 'tmp', name);
    // 'wx': a name already there means uniqueness failed; never write into another delivery.
    file = await open(tmpPath, 'wx', 0o600);
    await writeAll(file, Buffer.from(`Return-Path: <${reversePath}>\n`));
    for await (const chunk of withLocalLineEnds(message)) await writeAll(file, chunk);
    await file.sync();
    await file.close();
    file = undefined;
    await rename(tmpPath, join(dir, 'new', name));
    tmpPath = undefined;
    await fsyncDir(join(dir, 'new'));
    return name;
  } catch (error) {
    await file?.close().catch(() => {});
    if (tmpPath !== undefined) await unlink(tmpPath).catch(() => {});
    throw mailboxError('maildir', error);
  }
}

export async function writeAll(file: FileHandle, bytes: Buffer, position: number | null = null): Promise<void> {
  // Bounded: each pass writes at least one byte or throws.
  for (let offset = 0; offset < bytes.length; ) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset, position === null ? null : position + offset);
    if (bytesWritten <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    offset += bytesWritten;
  }
}
