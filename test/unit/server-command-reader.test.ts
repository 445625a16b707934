import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommandReader, type ReaderEvent } from '../../src/server/command-reader.js';

/** What a reader made of some input, with adjacent data events merged (their split is not meaningful). */
type Seen = { line: string } | 'too-long' | { data: string } | { end: boolean } | 'chunk-end';

/**
 * Feeds `chunks` to a reader the way the session does: pulling events after
 * each push and switching to data mode right after a "DATA" line, to a
 * counted chunk right after "BDAT n".
 */
function read(chunks: readonly Buffer[], maxLineLength?: number): Seen[] {
  const reader = new CommandReader(maxLineLength);
  const seen: Seen[] = [];
  const note = (event: ReaderEvent): void => {
    if (event.type === 'line') {
      const line = event.line.toString('latin1');
      seen.push({ line });
      if (line === 'DATA') reader.startData();
      const bdat = /^BDAT (\d+)/.exec(line);
      if (bdat) reader.startChunk(Number(bdat[1]));
    } else if (event.type === 'line-too-long') {
      seen.push('too-long');
    } else if (event.type === 'data') {
      const last = seen[seen.length - 1];
      const text = event.bytes.toString('latin1');
      if (last && typeof last === 'object' && 'data' in last) last.data += text;
      else seen.push({ data: text });
    } else if (event.type === 'data-end') {
      seen.push({ end: event.bareLineEnding });
    } else {
      seen.push('chunk-end');
    }
  };
  for (const chunk of chunks) {
    reader.push(chunk);
    for (let event = reader.next(); event; event = reader.next()) note(event);
  }
  return seen;
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Every way of cutting `input` into two pieces, and into three. */
function* splits(input: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= input.length; i++) yield [input.subarray(0, i), input.subarray(i)];
  for (let i = 1; i < input.length; i++) {
    for (let j = i + 1; j < input.length; j++) {
      yield [input.subarray(0, i), input.subarray(i, j), input.subarray(j)];
    }
  }
}

function expectSameAtEverySplit(input: string, expected: Seen[], maxLineLength?: number): void {
  const whole = bytes(input);
  expect(read([whole], maxLineLength)).toEqual(expected);
  for (const chunks of splits(whole)) {
    expect(read(chunks, maxLineLength), JSON.stringify(chunks.map((c) => c.toString('latin1')))).toEqual(
      expected,
    );
  }
  const oneByOne = [...whole].map((byte) => Buffer.from([byte]));
  expect(read(oneByOne, maxLineLength)).toEqual(expected);
}

describe('command mode', () => {
  it('yields CRLF-terminated lines, several from one chunk', () => {
    expect(read([bytes('EHLO a.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@c>\r\n')])).toEqual([
      { line: 'EHLO a.example' },
      { line: 'MAIL FROM:<>' },
      { line: 'RCPT TO:<b@c>' },
    ]);
  });

  it('accepts a bare LF as a line end and yields empty lines', () => {
    expect(read([bytes('NOOP\n\r\nQUIT\n')])).toEqual([{ line: 'NOOP' }, { line: '' }, { line: 'QUIT' }]);
  });

  it('keeps an unfinished line until its end arrives', () => {
    const reader = new CommandReader();
    reader.push(bytes('NO'));
    expect(reader.next()).toBeUndefined();
    reader.push(bytes('OP\r'));
    expect(reader.next()).toBeUndefined();
    reader.push(bytes('\n'));
    expect(reader.next()).toEqual({ type: 'line', line: bytes('NOOP') });
    expect(reader.next()).toBeUndefined();
  });

  it('gives the same lines at every split point', () => {
    expectSameAtEverySplit('EHLO x\r\nRSET\nNOOP\r\n\r\nQUIT\r\n', [
      { line: 'EHLO x' },
      { line: 'RSET' },
      { line: 'NOOP' },
      { line: '' },
      { line: 'QUIT' },
    ]);
  });
});

describe('line length limit', () => {
  it('accepts a line of exactly the limit, with CRLF or LF', () => {
    expect(read([bytes(`${'a'.repeat(8)}\r\n${'b'.repeat(8)}\n`)], 8)).toEqual([
      { line: 'aaaaaaaa' },
      { line: 'bbbbbbbb' },
    ]);
  });

  it('reports a longer line once and discards it up to the next LF', () => {
    expect(read([bytes(`${'a'.repeat(9)}\r\nNOOP\r\n${'b'.repeat(30)}\nQUIT\r\n`)], 8)).toEqual([
      'too-long',
      { line: 'NOOP' },
      'too-long',
      { line: 'QUIT' },
    ]);
  });

  it('reports it as soon as the unfinished part is too long, holding no more of it', () => {
    const reader = new CommandReader(8);
    reader.push(bytes('a'.repeat(8) + '\r'));
    expect(reader.next()).toBeUndefined(); // the CR may still be the line ending
    reader.push(bytes('x'));
    expect(reader.next()).toEqual({ type: 'line-too-long' });
    reader.push(bytes('y'.repeat(100_000)));
    expect(reader.next()).toBeUndefined();
    reader.push(bytes('z\r\nNOOP\r\n'));
    expect(reader.next()).toEqual({ type: 'line', line: bytes('NOOP') });
  });

  it('reports the same at every split point', () => {
    expectSameAtEverySplit(`NOOP\r\n${'x'.repeat(10)}\r\nRSET\r\n${'y'.repeat(9)}\r\n`, [
      { line: 'NOOP' },
      'too-long',
      { line: 'RSET' },
      'too-long',
    ], 8);
  });

  it('defaults to 4096 octets', () => {
    expect(read([bytes(`${'a'.repeat(4096)}\r\n${'a'.repeat(4097)}\r\n`)])).toEqual([
      { line: 'a'.repeat(4096) },
      'too-long',
    ]);
  });
});

describe('data mode', () => {
  it('reads a message up to CRLF.CRLF and returns to command mode in the same chunk', () => {
    expect(read([bytes('DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n')])).toEqual([
      { line: 'DATA' },
      { data: 'Subject: x\r\n\r\nbody\r\n' },
      { end: false },
      { line: 'QUIT' },
    ]);
  });

  it('treats "." CRLF right after 354 as an empty message', () => {
    expect(read([bytes('DATA\r\n.\r\nNOOP\r\n')])).toEqual([{ line: 'DATA' }, { end: false }, { line: 'NOOP' }]);
  });

  it('removes one leading dot from each line (RFC 5321 §4.5.2)', () => {
    expect(read([bytes('DATA\r\n..\r\n...x\r\n.y\r\nz.\r\n. \r\n.\r\n')])).toEqual([
      { line: 'DATA' },
      { data: '.\r\n..x\r\ny\r\nz.\r\n \r\n' },
      { end: false },
    ]);
  });

  it('gives the same message at every split point, dots and terminator included', () => {
    expectSameAtEverySplit('DATA\r\n..a\r\n.\r\n', [{ line: 'DATA' }, { data: '.a\r\n' }, { end: false }]);
    expectSameAtEverySplit('DATA\r\nx\r\n..\r\n\r\n.\r\nQUIT\r\n', [
      { line: 'DATA' },
      { data: 'x\r\n.\r\n\r\n' },
      { end: false },
      { line: 'QUIT' },
    ]);
    expectSameAtEverySplit('DATA\r\n.\r\nDATA\r\n..\r\n.\r\n', [
      { line: 'DATA' },
      { end: false },
      { line: 'DATA' },
      { data: '.\r\n' },
      { end: false },
    ]);
  });

  it('does not end the data at LF.LF, CRLF.LF or LF.CRLF, and reports the bare LF', () => {
    const cases: Array<[sneaky: string, data: string]> = [
      ['x\n.\n', 'x\n.\n'],
      // Under CRLF rules the line is "." LF "MAIL...": a leading dot with more after it, so it goes.
      ['x\r\n.\n', 'x\r\n\n'],
      ['x\n.\r\n', 'x\n.\r\n'],
    ];
    for (const [sneaky, data] of cases) {
      expectSameAtEverySplit(`DATA\r\n${sneaky}MAIL FROM:<>\r\n.\r\n`, [
        { line: 'DATA' },
        { data: `${data}MAIL FROM:<>\r\n` },
        { end: true },
      ]);
    }
  });

  it('reports a bare CR, also one after a leading dot', () => {
    expect(read([bytes('DATA\r\na\rb\r\n.\r\n')])).toEqual([{ line: 'DATA' }, { data: 'a\rb\r\n' }, { end: true }]);
    expectSameAtEverySplit('DATA\r\n.\rb\r\n.\r\n', [{ line: 'DATA' }, { data: '\rb\r\n' }, { end: true }]);
    expectSameAtEverySplit('DATA\r\n.\r\r\n.\r\n', [{ line: 'DATA' }, { data: '\r\r\n' }, { end: true }]);
  });

  it('passes 8-bit and NUL octets through untouched', () => {
    const body = Buffer.from([0x00, 0xff, 0xc3, 0xa9, 0x0d, 0x0a]);
    const reader = new CommandReader();
    reader.startData();
    reader.push(Buffer.concat([body, bytes('.\r\n')]));
    expect(reader.next()).toEqual({ type: 'data', bytes: body });
    expect(reader.next()).toEqual({ type: 'data-end', bareLineEnding: false });
    expect(reader.readingData).toBe(false);
  });

  it('refuses to start data mode twice', () => {
    const reader = new CommandReader();
    reader.startData();
    expect(() => reader.startData()).toThrow();
  });
});

describe('properties', () => {
  const line = fc.uint8Array({ maxLength: 12 }).map((array) =>
    Buffer.from(array.filter((byte) => byte !== 0x0d && byte !== 0x0a)),
  );
  const dotty = fc.oneof(line, line.map((rest) => Buffer.concat([bytes('.'), rest])));
  const body = fc.array(dotty, { maxLength: 8 }).map((lines) => Buffer.concat(lines.flatMap((l) => [l, bytes('\r\n')])));

  /** The client's half of RFC 5321 §4.5.2: double each leading dot, then the end marker. */
  const stuff = (message: Buffer): Buffer => {
    const text = message.toString('latin1').replace(/^\./gm, '..');
    return Buffer.concat([bytes(text), bytes('.\r\n')]);
  };

  const cutPoints = fc.array(fc.nat(), { maxLength: 6 });
  const cut = (input: Buffer, points: number[]): Buffer[] => {
    const at = [...new Set(points.map((p) => p % (input.length + 1)))].sort((a, b) => a - b);
    return [0, ...at].map((start, i) => input.subarray(start, at[i] ?? input.length));
  };

  it('recovers any CRLF message from its stuffed form, however the bytes are split', () => {
    fc.assert(
      fc.property(body, cutPoints, (message, points) => {
        const wire = Buffer.concat([bytes('DATA\r\n'), stuff(message), bytes('QUIT\r\n')]);
        const expected: Seen[] = [{ line: 'DATA' }];
        if (message.length > 0) expected.push({ data: message.toString('latin1') });
        expected.push({ end: false }, { line: 'QUIT' });
        expect(read(cut(wire, points))).toEqual(expected);
      }),
    );
  });

  it('reads any input the same way whatever the split', () => {
    const noise = fc.array(fc.constantFrom('.', '\r', '\n', 'a', 'DATA', '\r\n.\r\n'), { maxLength: 40 });
    fc.assert(
      fc.property(noise, cutPoints, (parts, points) => {
        const wire = bytes(parts.join(''));
        expect(read(cut(wire, points), 6)).toEqual(read([wire], 6));
      }),
    );
  });
});

describe('counted chunks (BDAT)', () => {
  it('yields exactly n octets unchanged, whatever they hold, then reads commands again', () => {
    expectSameAtEverySplit('BDAT 9\r\n.\r\nQUIT\nNOOP\r\n', [
      { line: 'BDAT 9' },
      { data: '.\r\nQUIT\nN' },
      'chunk-end',
      { line: 'OOP' },
    ]);
  });

  it('ends a chunk of 0 octets at once, and takes chunks back to back', () => {
    expectSameAtEverySplit('BDAT 0\r\nBDAT 2\r\n\r\nBDAT 1 LAST\r\n.', [
      { line: 'BDAT 0' },
      'chunk-end',
      { line: 'BDAT 2' },
      { data: '\r\n' },
      'chunk-end',
      { line: 'BDAT 1 LAST' },
      { data: '.' },
      'chunk-end',
    ]);
  });

  it('forgets buffered bytes on discardBuffered (STARTTLS)', () => {
    const reader = new CommandReader();
    reader.push(bytes('STARTTLS\r\nMAIL FROM:<evil@x>\r\n'));
    expect(reader.next()).toEqual({ type: 'line', line: bytes('STARTTLS') });
    reader.discardBuffered();
    expect(reader.next()).toBeUndefined();
    reader.push(bytes('EHLO a\r\n'));
    expect(reader.next()).toEqual({ type: 'line', line: bytes('EHLO a') });
  });
});
