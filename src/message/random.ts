/**
 * Random bytes for identifiers (Message-ID, MIME boundaries, queue ids):
 * read from /dev/urandom, the kernel's generator, which is what
 * crypto.randomBytes ends up using too. Loading node:crypto costs a few
 * milliseconds of start-up, paid by every send that adds a Message-ID
 * (issue 17); where /dev/urandom cannot be read, node:crypto is used.
 */
import { randomBytes as cryptoRandomBytes } from 'node:crypto'; // loaded on first use in bin/outbox
import { closeSync, openSync, readSync } from 'node:fs';

export function randomBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    let filled = 0;
    // A read from /dev/urandom of up to 256 bytes is never short; the loop is for larger ones (bounded by size).
    while (filled < size) {
      const got = readSync(fd, bytes, filled, size - filled, null);
      if (got <= 0) throw new Error('short read from /dev/urandom');
      filled += got;
    }
    return bytes;
  } catch {
    return cryptoRandomBytes(size);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
