/** Reading a regular file on stdin by position (src/cli/stdin.ts); the end-to-end side is test/e2e/stdin-file.test.ts. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseSource, offsetFromFdinfo, PositionalReader } from '../../src/cli/stdin.js';

let dir: string;
const open: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-stdin-unit-'));
});

afterEach(() => {
  for (const fd of open.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function fileWith(content: string): number {
  const path = join(dir, `f${open.length}`);
  writeFileSync(path, content);
  const fd = openSync(path, 'r');
  open.push(fd);
  return fd;
}

async function collect(source: AsyncIterable<Uint8Array>, limit = Infinity): Promise<{ text: string; chunks: number }> {
  let text = '';
  let chunks = 0;
  for await (const chunk of source) {
    text += Buffer.from(chunk).toString('latin1');
    if (++chunks >= limit) break;
  }
  return { text, chunks };
}

describe('offsetFromFdinfo', () => {
  it.each([
    ['pos:\t0\nflags:\t0100000\nmnt_id:\t25\nino:\t42\n', 0],
    ['pos:\t1234\nflags:\t02\n', 1234],
    ['flags:\t02\npos:   99\n', 99],
  ])('reads the pos line of %j', (text, offset) => {
    expect(offsetFromFdinfo(text)).toBe(offset);
  });

  it.each(['', 'flags:\t02\n', 'pos:\t-1\n', 'pos:\tabc\n', `pos:\t${'9'.repeat(30)}\n`, 'xpos:\t5\n'])('no offset in %j', (text) => {
    expect(offsetFromFdinfo(text)).toBeUndefined();
  });
});

describe('PositionalReader', () => {
  it('reads from its start to the end of the file in chunks of the given size', async () => {
    const fd = fileWith('0123456789abcdefghij');
    expect(await collect(new PositionalReader(fd, 3, 4))).toEqual({ text: '3456789abcdefghij', chunks: 5 });
  });

  it('starting at or past the end: nothing', async () => {
    const fd = fileWith('abc');
    expect(await collect(new PositionalReader(fd, 3))).toEqual({ text: '', chunks: 0 });
    expect(await collect(new PositionalReader(fd, 10))).toEqual({ text: '', chunks: 0 });
  });

  it('a second iteration goes on where the first stopped, as a stream does', async () => {
    const fd = fileWith('abcdefgh');
    const reader = new PositionalReader(fd, 0, 3);
    expect((await collect(reader, 1)).text).toBe('abc');
    expect((await collect(reader)).text).toBe('defgh');
  });

  it('chunks are fresh buffers: keeping one does not see it overwritten by the next read', async () => {
    const fd = fileWith('aaaabbbb');
    const kept: Uint8Array[] = [];
    for await (const chunk of new PositionalReader(fd, 0, 4)) kept.push(chunk);
    expect(kept.map((c) => Buffer.from(c).toString())).toEqual(['aaaa', 'bbbb']);
  });

  it('never moves the file offset: the descriptor reads on from where it was', async () => {
    const fd = fileWith('abcdef');
    await collect(new PositionalReader(fd, 2, 2));
    expect(readFileSync(fd, 'latin1')).toBe('abcdef');
  });
});

describe('chooseSource', () => {
  it('a regular file with a known offset: read by position from that offset', async () => {
    const fd = fileWith('skipped|the mail');
    const source = chooseSource(fd, () => 'pos:\t8\nflags:\t0\n');
    expect(source).toBeInstanceOf(PositionalReader);
    expect((await collect(source!)).text).toBe('the mail');
  });

  it('no /proc, or no pos line: undefined (the caller streams as before)', () => {
    const fd = fileWith('x');
    expect(chooseSource(fd, () => { throw new Error('ENOENT'); })).toBeUndefined();
    expect(chooseSource(fd, () => 'flags:\t0\n')).toBeUndefined();
  });

  it('not a regular file (a directory here; a pipe or terminal alike), or a closed descriptor: undefined', () => {
    const fd = openSync(dir, 'r');
    open.push(fd);
    expect(chooseSource(fd, () => 'pos:\t0\n')).toBeUndefined();
    expect(chooseSource(123_456, () => 'pos:\t0\n')).toBeUndefined();
  });
});
