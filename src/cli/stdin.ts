/**
 * The mail on standard input, read without moving a regular file's offset.
 *
 * Why: bsd-mailx (and other callers) give sendmail a temporary file as fd 0
 * and, when sendmail exits non-zero, save "what is left" of that file —
 * from the file offset they share with us — to ~/dead.letter. A normal read
 * moves the shared offset to the end (we spool the whole mail before
 * connecting), so a failed send left the user an empty dead.letter and the
 * mail was lost. When fd 0 is a regular file we therefore read it with
 * positional reads (pread), starting at its current offset, which the
 * kernel tells us in /proc/self/fdinfo/0; the offset itself never moves.
 *
 * Anything else (a pipe, a terminal, a socket, a platform without
 * /proc/self/fdinfo) is read through process.stdin as before. process.stdin
 * is only touched then: Node opens a stream on fd 0 when it is first read,
 * and for a file that stream would read, and move, the offset.
 */
import { fstatSync, read, readFileSync } from 'node:fs';

/** Big enough to keep system calls few, small enough that memory stays flat for any size of mail. */
const CHUNK_BYTES = 64 * 1024;

/** Standard input as the CLI's message source: decided on first use, so --version never looks at fd 0. */
export function standardInput(): AsyncIterable<Uint8Array> {
  let source: AsyncIterable<Uint8Array> | undefined;
  return {
    [Symbol.asyncIterator]: () => {
      source ??= chooseSource(0, () => readFileSync('/proc/self/fdinfo/0', 'utf8')) ?? process.stdin;
      return source[Symbol.asyncIterator]();
    },
  };
}

/**
 * A positional reader for `fd` when it is a regular file whose offset can be
 * learnt; undefined otherwise (the caller streams as before).
 */
export function chooseSource(fd: number, fdinfo: () => string): AsyncIterable<Uint8Array> | undefined {
  let isFile: boolean;
  try {
    isFile = fstatSync(fd).isFile();
  } catch {
    return undefined; // fd 0 closed or unusable: let the stream report it as today
  }
  if (!isFile) return undefined;
  let offset: number | undefined;
  try {
    offset = offsetFromFdinfo(fdinfo());
  } catch {
    return undefined; // no /proc (not Linux, or not mounted)
  }
  return offset === undefined ? undefined : new PositionalReader(fd, offset);
}

/** The `pos:` line of a /proc/<pid>/fdinfo/<fd> file: the file offset in bytes. */
export function offsetFromFdinfo(text: string): number | undefined {
  const match = /^pos:\s*(\d+)\s*$/m.exec(text);
  if (!match) return undefined;
  const offset = Number(match[1]);
  return Number.isSafeInteger(offset) ? offset : undefined;
}

/**
 * Reads `fd` from `start` to its end with pread, in fresh chunks (callers may
 * keep them). The position is the reader's own and carries over to a second
 * iteration, as a stream's would; the file's offset is never used or moved.
 */
export class PositionalReader implements AsyncIterable<Uint8Array> {
  private position: number;

  constructor(private readonly fd: number, start: number, private readonly chunkBytes = CHUNK_BYTES) {
    this.position = start;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const buffer = Buffer.allocUnsafe(this.chunkBytes);
      const count = await readAt(this.fd, buffer, this.position);
      if (count === 0) return; // end of file (a file that grows while we read is read to its new end)
      this.position += count;
      yield buffer.subarray(0, count);
    }
  }
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, buffer.length, position, (error, count) => (error ? reject(error) : resolve(count)));
  });
}
