/**
 * A test client for the server: writes exactly what it is told on any
 * stream (a socket, a TLS socket, a pipe) and hands back complete replies
 * as they arrive, each with its CRLFs.
 */
import type { Duplex } from 'node:stream';

export class ReplyReader {
  private pending = '';
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(readonly stream: Duplex | NodeJS.ReadableStream) {
    stream.on('data', (chunk: Buffer | string) => {
      this.pending += chunk.toString();
      this.wake?.();
    });
    const end = (): void => {
      this.ended = true;
      this.wake?.();
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', () => undefined);
  }

  /** The next `count` complete replies. */
  async replies(count: number): Promise<string[]> {
    for (;;) {
      const found = completeReplies(this.pending);
      if (found.length >= count) {
        const taken = found.slice(0, count);
        this.pending = this.pending.slice(taken.join('').length);
        return taken;
      }
      if (this.ended) throw new Error(`stream ended; had ${JSON.stringify(this.pending)}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async reply(): Promise<string> {
    return (await this.replies(1))[0]!;
  }

  /** Resolves when the other side has closed; returns what came that was not yet taken. */
  async closed(): Promise<string> {
    while (!this.ended) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.pending;
  }
}

function completeReplies(text: string): string[] {
  const replies: string[] = [];
  let start = 0;
  for (let end = text.indexOf('\r\n'); end !== -1; end = text.indexOf('\r\n', end + 2)) {
    const lineStart = text.lastIndexOf('\n', end - 1) + 1;
    if (/^\d{3}(?: |$)/.test(text.slice(lineStart, end))) {
      replies.push(text.slice(start, end + 2));
      start = end + 2;
    }
  }
  return replies;
}
