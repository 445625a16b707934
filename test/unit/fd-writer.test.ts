import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fdWriter } from '../../src/cli/fd-writer.js';

/** A write(2) that takes at most `max` bytes per call and follows a script of failures. */
function fakeFd(max: number, failures: Record<number, string> = {}) {
  const out: string[] = [];
  let call = 0;
  const write = (_fd: number, buffer: Uint8Array, offset: number, length: number): number => {
    const code = failures[call++];
    if (code) throw Object.assign(new Error(code), { code });
    const n = Math.min(max, length);
    out.push(Buffer.from(buffer.subarray(offset, offset + n)).toString());
    return n;
  };
  return { out, write };
}

function fakeStream() {
  const chunks: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { chunks.push(chunk.toString()); done(); } });
  return { chunks, stream: () => stream };
}

describe('fdWriter', () => {
  it('writes the whole text through short writes, in order', () => {
    const fd = fakeFd(3);
    const writer = fdWriter(1, fakeStream().stream, fd.write);
    writer('hello, ');
    writer('wörld\n');
    expect(fd.out.join('')).toBe('hello, wörld\n');
  });

  it('EAGAIN: the rest, and all that follows, goes through the stream', async () => {
    const fd = fakeFd(4, { 1: 'EAGAIN' });
    const s = fakeStream();
    const writer = fdWriter(1, s.stream, fd.write);
    writer('abcdefgh');
    writer('ijk');
    await new Promise((resolve) => setImmediate(resolve));
    expect(fd.out.join('')).toBe('abcd');
    expect(s.chunks.join('')).toBe('efghijk');
  });

  it('EPIPE: the reader is gone; the output is dropped, silently', () => {
    const fd = fakeFd(100, { 0: 'EPIPE' });
    const writer = fdWriter(1, fakeStream().stream, fd.write);
    expect(() => writer('one')).not.toThrow();
    expect(() => writer('two')).not.toThrow();
    expect(fd.out).toEqual([]);
  });

  it('any other error is thrown', () => {
    const fd = fakeFd(100, { 0: 'EIO' });
    expect(() => fdWriter(2, fakeStream().stream, fd.write)('x')).toThrow('EIO');
  });
});
