/**
 * `mda mbox:PATH`: the mail appended to an mbox file, as dma and Debian's
 * local delivery write /var/mail/USER:
 *
 * - under the dot-lock (dotlock.ts), the file opened for appending (made
 *   0600 when missing), its size noted;
 * - a `From SENDER DATE` separator line (asctime date, local time), a
 *   `Return-Path:` line, the mail with LF line endings and mboxrd quoting
 *   (`>From `), and an empty line;
 * - fsync; on any error the file is truncated back to the size it had, so a
 *   reader never finds half a mail (or a mail without its end) in it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { takeDotLock, type LockOptions } from './dotlock.js';
import { mailboxError } from './exit-status.js';
import { withLocalLineEnds } from './line-ends.js';
import { writeAll } from './maildir.js';
import { MboxrdQuoter } from './mboxrd.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** asctime(3): `Sat Dec  5 08:34:27 2026`. */
export function asctime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  return `${DAYS[date.getDay()]} ${MONTHS[date.getMonth()]} ${String(date.getDate()).padStart(2, ' ')} ${time} ${date.getFullYear()}`;
}

/** The separator line; a blank in the sender (a quoted local part) would break it, so it becomes `_`. */
export function fromLine(reversePath: string, date: Date): string {
  const sender = reversePath === '' ? 'MAILER-DAEMON' : reversePath.replace(/\s/g, '_');
  return `From ${sender} ${asctime(date)}\n`;
}

export interface MboxOptions {
  readonly now?: Date;
  readonly lock?: LockOptions;
  /** Tests: a write that fails partway, to see the rollback. */
  readonly write?: (file: FileHandle, bytes: Buffer) => Promise<void>;
}

export async function deliverToMbox(path: string, reversePath: string, message: AsyncIterable<Uint8Array>, options: MboxOptions = {}): Promise<void> {
  let lock;
  try {
    lock = await takeDotLock(path, options.lock);
  } catch (error) {
    throw mailboxError('mbox', error);
  }
  try {
    await append(path, reversePath, message, options);
  } finally {
    await lock.release();
  }
}

async function append(path: string, reversePath: string, message: AsyncIterable<Uint8Array>, options: MboxOptions): Promise<void> {
  let file: FileHandle;
  try {
    file = await open(path, 'a', 0o600);
  } catch (error) {
    throw mailboxError('mbox', error);
  }
  const write = options.write ?? ((f: FileHandle, bytes: Buffer) => writeAll(f, bytes));
  let size: number | undefined;
  try {
    size = (await file.stat()).size;
    await write(file, Buffer.from(fromLine(reversePath, options.now ?? new Date()) + `Return-Path: <${reversePath}>\n`));
    const quoter = new MboxrdQuoter();
    let last = 0x0a;
    for await (const chunk of withLocalLineEnds(message)) {
      const quoted = quoter.push(chunk);
      if (quoted.length > 0) last = quoted[quoted.length - 1]!;
      await write(file, quoted);
    }
    const tail = quoter.end();
    if (tail.length > 0) last = tail[tail.length - 1]!;
    // The mail ends with a line end, then an empty line separates it from the next one.
    await write(file, Buffer.concat([tail, Buffer.from(last === 0x0a ? '\n' : '\n\n')]));
    await file.sync();
  } catch (error) {
    if (size !== undefined) await file.truncate(size).catch(() => {});
    throw mailboxError('mbox', error);
  } finally {
    await file.close().catch(() => {});
  }
}
