/**
 * Writing to standard output and error without creating process.stdout or
 * process.stderr: for a pipe or a terminal, Node makes those sockets, which
 * loads node:net and the streams (~5 ms that `--version`, `--help` and a
 * failing send would pay; issue 17). A blocking write(2) of the whole text
 * is what Node's own streams do for pipes, files and terminals on Linux.
 * Should the descriptor be non-blocking and full (EAGAIN), the rest and
 * everything after it goes through Node's stream, which waits, so the order
 * of the output is kept. A reader that went away (EPIPE: `mailq | head -1`)
 * is not an error of ours: the rest of the output is dropped.
 */
import { writeSync } from 'node:fs';

type WriteSync = (fd: number, buffer: Uint8Array, offset: number, length: number) => number;

export function fdWriter(fd: 1 | 2, stream: () => NodeJS.WritableStream, write: WriteSync = writeSync): (text: string) => void {
  let via: 'fd' | 'stream' | 'closed' = 'fd';
  return (text) => {
    if (via === 'stream') stream().write(text);
    if (via !== 'fd') return;
    const bytes = Buffer.from(text);
    let written = 0;
    try {
      // Bounded: each write(2) on a blocking descriptor moves at least one byte or throws.
      while (written < bytes.length) written += write(fd, bytes, written, bytes.length - written);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') {
        via = 'closed';
        return;
      }
      if (code !== 'EAGAIN') throw error;
      via = 'stream';
      stream().write(bytes.subarray(written));
    }
  };
}
