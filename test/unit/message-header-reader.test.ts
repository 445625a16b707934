import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import type { HeaderEnd } from '../../src/message/header-block.js';
import { HeaderScanner, readHeader } from '../../src/message/header-reader.js';
import { LineEndingNormalizer } from '../../src/message/line-endings.js';
import { splits } from '../helpers/splits.js';


interface Scanned {
  fields: Array<[name: string, raw: string, value: string, line: number]>;
  end: HeaderEnd;
  body: string;
  mbox: string | undefined;
  bodyStartLine: number;
}

/** Runs the scanner over latin1 chunks; the chunks after the one that ended the header are body. */
function scan(chunks: readonly string[], maxHeaderBytes?: number): Scanned {
  const scanner = new HeaderScanner({ maxHeaderBytes });
  let body = '';
  let result;
  for (const chunk of chunks) {
    if (result) body += chunk;
    else {
      result = scanner.push(Buffer.from(chunk, 'latin1'));
      if (result) body = result.bodyHead.map((b) => b.toString('latin1')).join('');
    }
  }
  if (!result) {
    result = scanner.end();
    body = result.bodyHead.map((b) => b.toString('latin1')).join('');
  }
  const { header } = result;
  return {
    fields: header.fields.map((f) => [f.name, f.raw.toString('latin1'), f.value, f.line]),
    end: header.end,
    body,
    mbox: header.mboxFromLine?.toString('latin1'),
    bodyStartLine: header.bodyStartLine,
  };
}

type Case = [title: string, input: string, expected: Omit<Scanned, 'mbox' | 'bodyStartLine'> & { mbox?: string; bodyStartLine?: number }];

const cases: Case[] = [
  ['CRLF', 'Subject: hi\r\nTo: a@b\r\n\r\nbody\r\n', {
    fields: [['Subject', 'Subject: hi', 'hi', 1], ['To', 'To: a@b', 'a@b', 2]], end: 'empty-line', body: 'body\r\n', bodyStartLine: 4 }],
  ['LF', 'Subject: hi\nTo: a@b\n\nbody\n', {
    fields: [['Subject', 'Subject: hi', 'hi', 1], ['To', 'To: a@b', 'a@b', 2]], end: 'empty-line', body: 'body\n' }],
  ['bare CR', 'Subject: hi\rTo: a@b\r\rbody\r', {
    fields: [['Subject', 'Subject: hi', 'hi', 1], ['To', 'To: a@b', 'a@b', 2]], end: 'empty-line', body: 'body\r' }],
  ['CR CR LF is one line end, as the normaliser reads it', 'A: 1\r\r\nbody', { fields: [['A', 'A: 1', '1', 1]], end: 'body-line', body: 'body' }],
  ['a mail with CR CR LF throughout keeps its header block', 'A: 1\r\r\nB: 2\r\r\r\n c\r\r\n\r\r\nbody\r\r\n', {
    fields: [['A', 'A: 1', '1', 1], ['B', 'B: 2\r\r\r\n c', '2 c', 2]], end: 'empty-line', body: 'body\r\r\n', bodyStartLine: 5 }],
  ['CR CR then anything else is two line ends (an empty line)', 'A: 1\r\rbody', { fields: [['A', 'A: 1', '1', 1]], end: 'empty-line', body: 'body' }],
  ['three CRs: the header ends at the second, the third is body', 'A: 1\r\r\rbody', {
    fields: [['A', 'A: 1', '1', 1]], end: 'empty-line', body: '\rbody' }],
  ['CRs at EOF', 'A: 1\r\r\r', { fields: [['A', 'A: 1', '1', 1]], end: 'empty-line', body: '\r' }],
  ['LF then CR is two line ends', 'A: 1\n\rbody', { fields: [['A', 'A: 1', '1', 1]], end: 'empty-line', body: 'body' }],
  ['folded with space and tab, mixed endings', 'Subject: a\r\n b\n\tc\nX: y\n\nz', {
    fields: [['Subject', 'Subject: a\r\n b\n\tc', 'a b\tc', 1], ['X', 'X: y', 'y', 4]], end: 'empty-line', body: 'z' }],
  ['a blank-only continuation line', 'A: 1\n \nB: 2\n\n', {
    fields: [['A', 'A: 1\n ', '1', 1], ['B', 'B: 2', '2', 3]], end: 'empty-line', body: '' }],
  ['obsolete blanks before the colon', 'Subject \t: x\nFrom : a@b\n\n', {
    fields: [['Subject', 'Subject \t: x', 'x', 1], ['From', 'From : a@b', 'a@b', 2]], end: 'empty-line', body: '' }],
  ['empty value and no blank after the colon', 'A:\nB:x\n\n', {
    fields: [['A', 'A:', '', 1], ['B', 'B:x', 'x', 2]], end: 'empty-line', body: '' }],
  ['only headers, ending with a newline', 'Subject: x\n', { fields: [['Subject', 'Subject: x', 'x', 1]], end: 'eof', body: '' }],
  ['only headers, no final newline', 'Subject: x', { fields: [['Subject', 'Subject: x', 'x', 1]], end: 'eof', body: '' }],
  ['only headers, final bare CR', 'Subject: x\r', { fields: [['Subject', 'Subject: x', 'x', 1]], end: 'eof', body: '' }],
  ['a folded last field at EOF', 'A: 1\n 2', { fields: [['A', 'A: 1\n 2', '1 2', 1]], end: 'eof', body: '' }],
  ['empty input', '', { fields: [], end: 'eof', body: '' }],
  ['an empty first line: no headers, then the body', '\nbody\n', { fields: [], end: 'empty-line', body: 'body\n', bodyStartLine: 2 }],
  ['no headers at all: the first line is body', 'hello world\n\nmore\n', {
    fields: [], end: 'body-line', body: 'hello world\n\nmore\n', bodyStartLine: 1 }],
  ['a first line starting with a blank is body', ' x\nA: b\n\n', { fields: [], end: 'body-line', body: ' x\nA: b\n\n' }],
  ['a line that is not a field ends the header', 'A: 1\nnot a header\nB: 2\n\nx', {
    fields: [['A', 'A: 1', '1', 1]], end: 'body-line', body: 'not a header\nB: 2\n\nx', bodyStartLine: 2 }],
  ['a name with a non-ASCII byte is not a field', 'A: 1\nN\xe4me: x\n\n', {
    fields: [['A', 'A: 1', '1', 1]], end: 'body-line', body: 'N\xe4me: x\n\n' }],
  ['a line starting with a colon is not a field', 'A: 1\n: x\n', { fields: [['A', 'A: 1', '1', 1]], end: 'body-line', body: ': x\n' }],
  ['the last line, not a field, without newline', 'A: 1\nbody', { fields: [['A', 'A: 1', '1', 1]], end: 'body-line', body: 'body' }],
  ['an mbox From line first is dropped', 'From me@x Mon Jan  1 00:00:00 2024\nSubject: x\n\nb', {
    fields: [['Subject', 'Subject: x', 'x', 2]], end: 'empty-line', body: 'b', mbox: 'From me@x Mon Jan  1 00:00:00 2024', bodyStartLine: 4 }],
  ['an mbox From line later is body', 'A: 1\nFrom me@x Mon\n\n', { fields: [['A', 'A: 1', '1', 1]], end: 'body-line', body: 'From me@x Mon\n\n' }],
  ['8-bit UTF-8 in a value', 'Subject: Gr\xc3\xbc\xc3\x9fe\n\n', {
    fields: [['Subject', 'Subject: Gr\xc3\xbc\xc3\x9fe', 'Grüße', 1]], end: 'empty-line', body: '' }],
  ['8-bit latin1 in a value', 'Subject: Gr\xfc\xdfe\n\n', {
    fields: [['Subject', 'Subject: Gr\xfc\xdfe', 'Grüße', 1]], end: 'empty-line', body: '' }],
  ['NUL in the body is the body\'s business', 'A: 1\n\nx\0y', { fields: [['A', 'A: 1', '1', 1]], end: 'empty-line', body: 'x\0y' }],
];

describe('HeaderScanner at every chunk split', () => {
  for (const [title, input, expected] of cases) {
    it(title, () => {
      const want = { mbox: undefined, ...expected };
      for (const chunks of splits(input)) {
        const got = scan(chunks);
        expect({ ...got, bodyStartLine: want.bodyStartLine ?? got.bodyStartLine }, JSON.stringify(chunks)).toEqual({
          ...want,
          bodyStartLine: want.bodyStartLine ?? got.bodyStartLine,
        });
      }
    });
  }
});

function normalize(text: string): string {
  const n = new LineEndingNormalizer();
  return n.push(Buffer.from(text, 'latin1')).toString('latin1') + n.end().toString('latin1');
}

describe('serialize', () => {
  it('gives back the normalised input for every case that ends with an empty line or EOF', () => {
    for (const [, input] of cases) {
      const scanner = new HeaderScanner();
      const result = scanner.push(Buffer.from(input, 'latin1')) ?? scanner.end();
      const body = result.bodyHead.map((b) => b.toString('latin1')).join('');
      const head = result.header.serialize().toString('latin1');
      const withoutMbox = result.header.mboxFromLine ? input.slice(input.indexOf('\n') + 1) : input;
      if (result.header.end === 'body-line') {
        expect(head.endsWith('\r\n')).toBe(true);
        expect(head.slice(0, -2) + normalize(body)).toBe(normalize(withoutMbox));
      } else expect(head + normalize(body)).toBe(normalize(withoutMbox));
    }
  });

  it('writes CRLF line endings inside folded fields', () => {
    const result = new HeaderScanner().push(Buffer.from('Subject: a\n b\r c\n\n'))!;
    expect(result.header.serialize().toString()).toBe('Subject: a\r\n b\r\n c\r\n\r\n');
  });
});

describe('bad input', () => {
  it('refuses NUL in a header with its line number, at every split', () => {
    for (const chunks of splits('A: 1\nB: x\0y\n\n')) {
      expect(() => scan(chunks), JSON.stringify(chunks)).toThrow(/NUL byte in its header, line 2/);
    }
  });

  it('refuses NUL in a continuation line and in an mbox line', () => {
    expect(() => scan(['A: 1\n \0\n\n'])).toThrow(/line 2/);
    expect(() => scan(['From x\0y z\nA: 1\n\n'])).toThrow(/line 1/);
  });

  it('is E_BAD_DATA', () => {
    try {
      scan(['A: \0\n\n']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(OutboxError);
      expect((error as OutboxError).code).toBe('E_BAD_DATA');
    }
  });

  it('refuses a header block over the limit, at every split', () => {
    const input = 'A: 123456789\nB: 123456789\n\nbody';
    for (const chunks of splits(input)) expect(() => scan(chunks, 20), JSON.stringify(chunks)).toThrow(/larger than 20 bytes/);
  });

  it('accepts a header block exactly at the limit (the separator is not counted)', () => {
    expect(scan(['A: 1234567\nB: 1234567\n\nbody'], 22).fields).toHaveLength(2);
    expect(() => scan(['A: 1234567\nB: 12345678\n\nbody'], 22)).toThrow(OutboxError);
  });

  it('refuses one endless header line before holding more than the limit', () => {
    const scanner = new HeaderScanner({ maxHeaderBytes: 1000 });
    scanner.push(Buffer.from('X-Long: '));
    expect(() => {
      for (let i = 0; i < 100; i++) scanner.push(Buffer.alloc(100, 0x61));
    }).toThrow(/larger than 1000 bytes/);
  });

  it('keeps header lines over 998 octets as they are (rewrite folds them)', () => {
    const long = `X-Long: ${'a '.repeat(600)}`;
    expect(scan([`${long}\n\n`]).fields[0]![1]).toBe(long);
  });

  it('starts the body early when the first line of a headerless mail is huge', () => {
    const scanner = new HeaderScanner({ maxHeaderBytes: 2000 });
    const result = scanner.push(Buffer.alloc(100_000, 0x61));
    expect(result?.header.end).toBe('body-line');
    expect(result?.bodyHead[0]?.length).toBe(100_000);
  });

  it('starts the body early at the first byte that cannot be in a field name', () => {
    const scanner = new HeaderScanner();
    expect(scanner.push(Buffer.from('A: 1\nHello'))).toBeUndefined();
    const result = scanner.push(Buffer.from(' world, no colon in sight'));
    expect(result?.bodyHead.map(String).join('')).toBe('Hello world, no colon in sight');
  });
});

async function* asyncChunks(chunks: readonly (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
}

async function collect(body: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of body) text += chunk.toString('latin1');
  return text;
}

describe('readHeader', () => {
  it('returns the header and the body as a stream, bytes read past the header included', async () => {
    const { header, body } = await readHeader(asyncChunks(['Subject: x\n', '\nbo', 'dy\n', 'more\n']));
    expect(header.get('subject')?.value).toBe('x');
    expect(await collect(body)).toBe('body\nmore\n');
  });

  it('reads sync iterables and plain Uint8Arrays', async () => {
    const { header, body } = await readHeader([new Uint8Array(Buffer.from('A: 1\n\nx')), new Uint8Array([0x79])]);
    expect(header.fields).toHaveLength(1);
    expect(await collect(body)).toBe('xy');
  });

  it('handles a mail that is only headers', async () => {
    const { header, body } = await readHeader(asyncChunks(['A: 1\n', 'B: 2']));
    expect(header.end).toBe('eof');
    expect(await collect(body)).toBe('');
  });

  it('turns a failing source into E_IO', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('A: 1\n');
      throw new Error('EIO: stdin went away');
    }
    await expect(readHeader(failing())).rejects.toMatchObject({ code: 'E_IO', message: /stdin went away/ });
    const { body } = await readHeader(failingAfterHeader());
    await expect(collect(body)).rejects.toMatchObject({ code: 'E_IO' });
  });

  it('closes the source when the header is refused', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield Buffer.from('A: \0\n');
        yield Buffer.from('\n');
      } finally {
        closed = true;
      }
    }
    await expect(readHeader(source())).rejects.toMatchObject({ code: 'E_BAD_DATA' });
    expect(closed).toBe(true);
  });
});

async function* failingAfterHeader(): AsyncGenerator<Uint8Array> {
  yield Buffer.from('A: 1\n\nbody');
  throw new Error('reset');
}
