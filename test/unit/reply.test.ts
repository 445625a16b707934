import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { ReplyParser, makeReply, type Reply } from '../../src/smtp/reply.js';

/** Feeds the input split at every possible point and checks each split yields the same replies. */
function parseAtEverySplit(input: string): Reply[] {
  const bytes = Buffer.from(input, 'utf8');
  const whole = new ReplyParser().push(bytes);
  for (let i = 0; i <= bytes.length; i++) {
    const parser = new ReplyParser();
    const split = [...parser.push(bytes.subarray(0, i)), ...parser.push(bytes.subarray(i))];
    expect(split, `split at ${i}`).toEqual(whole);
  }
  for (let i = 0; i < bytes.length; i++) {
    // and byte by byte
  }
  const parser = new ReplyParser();
  const byByte = [...bytes].flatMap((b) => parser.push(Buffer.from([b])));
  expect(byByte).toEqual(whole);
  return whole;
}

function failure(input: string): OutboxError {
  try {
    new ReplyParser({ maxLineLength: 64, maxLines: 3 }).push(Buffer.from(input, 'latin1'));
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    return error as OutboxError;
  }
  throw new Error(`no error for ${JSON.stringify(input)}`);
}

describe('ReplyParser', () => {
  it('parses a single-line reply at every split point', () => {
    expect(parseAtEverySplit('220 mx.example ESMTP ready\r\n')).toEqual([{ code: 220, lines: ['mx.example ESMTP ready'] }]);
  });

  it('parses a multi-line EHLO reply at every split point', () => {
    const replies = parseAtEverySplit('250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n');
    expect(replies).toEqual([{ code: 250, lines: ['mx.example', 'PIPELINING', 'SIZE 10240000', '8BITMIME'] }]);
  });

  it('parses several pipelined replies in one chunk, in order', () => {
    const replies = parseAtEverySplit('250 2.1.0 ok\r\n550 5.1.1 no such user\r\n354 go\r\n');
    expect(replies.map((r) => r.code)).toEqual([250, 550, 354]);
    expect(replies[1]!.enhanced).toBe('5.1.1');
  });

  it('accepts a code without text and bare LF line endings', () => {
    expect(parseAtEverySplit('250\n220-\n220 x\r\n')).toEqual([{ code: 250, lines: [''] }, { code: 220, lines: ['', 'x'] }]);
  });

  it('takes an enhanced status code only when its class matches the reply code', () => {
    expect(makeReply(550, ['5.7.1 denied']).enhanced).toBe('5.7.1');
    expect(makeReply(550, ['4.7.1 denied']).enhanced).toBeUndefined();
    expect(makeReply(250, ['2.0.0']).enhanced).toBe('2.0.0');
    expect(makeReply(250, ['2.0.0x']).enhanced).toBeUndefined();
    expect(makeReply(250, ['1.2.3 x']).enhanced).toBeUndefined();
  });

  it('keeps 8-bit text as UTF-8', () => {
    expect(parseAtEverySplit('250 grüße\r\n')[0]!.lines).toEqual(['grüße']);
  });

  it('rejects what is not an SMTP reply', () => {
    expect(failure('HTTP/1.1 400 Bad Request\r\n').code).toBe('E_PROTOCOL');
    expect(failure('25 short\r\n').code).toBe('E_PROTOCOL');
    expect(failure('250xok\r\n').code).toBe('E_PROTOCOL');
    expect(failure('650 bad class\r\n').code).toBe('E_PROTOCOL');
    expect(failure('\r\n').code).toBe('E_PROTOCOL');
    expect(failure('\x00\x01\x02\n').message).toContain('\\x00');
  });

  it('rejects a multi-line reply that mixes codes', () => {
    expect(failure('250-a\r\n251 b\r\n').message).toMatch(/mixes codes 250 and 251/);
  });

  it('enforces the line length and line count limits, also before a line ends', () => {
    expect(failure(`250 ${'x'.repeat(100)}\r\n`).message).toMatch(/longer than 64 octets/);
    expect(failure(`250 ${'x'.repeat(100)}`).message).toMatch(/longer than 64 octets/);
    expect(failure('250-a\r\n250-b\r\n250-c\r\n250 d\r\n').message).toMatch(/longer than 3 lines/);
  });

  it('reports midReply while a reply is incomplete', () => {
    const parser = new ReplyParser();
    parser.push(Buffer.from('250-a\r\n'));
    expect(parser.midReply).toBe(true);
    parser.push(Buffer.from('250 b\r\n'));
    expect(parser.midReply).toBe(false);
  });

  it('property: any valid reply sequence parses the same under any chunking', () => {
    const line = fc.stringMatching(/^[ -~]{0,40}$/);
    const reply = fc.record({ code: fc.integer({ min: 200, max: 559 }).filter((c) => c % 100 < 60 && Math.floor(c / 10) % 10 <= 5), lines: fc.array(line, { minLength: 1, maxLength: 5 }) });
    fc.assert(
      fc.property(fc.array(reply, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (replies, cuts) => {
        const wire = replies.map(({ code, lines }) => lines.map((t, i) => `${code}${i === lines.length - 1 ? ' ' : '-'}${t}\r\n`).join('')).join('');
        const bytes = Buffer.from(wire);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parser = new ReplyParser();
        const parsed: Reply[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          parsed.push(...parser.push(bytes.subarray(from, p)));
          from = p;
        }
        expect(parsed.map((r) => [r.code, r.lines])).toEqual(replies.map((r) => [r.code, r.lines.map((t) => t)]));
      }),
    );
  });

  it('property: arbitrary bytes either parse or throw OutboxError, never anything else', () => {
    // Random bytes alone almost never hold a CRLF, so the parser only buffers them and neither
    // path runs: lines of random or reply-like bytes with assorted endings reach both, and the
    // counts below show they were reached.
    const text = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc.constantFrom('250 ok', '250-more', '550 5.1.1 no', '25O x', '2500 x', '250x', '', '250-', '354 ', '999 odd', '250 \0').map((t) => Buffer.from(t, 'latin1')),
    );
    const ending = fc.constantFrom('\r\n', '\n', '\r', '');
    const lines = fc.array(fc.tuple(text, ending), { maxLength: 8 })
      .map((parts) => Buffer.concat(parts.flatMap(([t, e]) => [t, Buffer.from(e)])));
    let parsed = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), lines), (bytes) => {
        try {
          if (new ReplyParser().push(bytes).length > 0) parsed += 1;
        } catch (error) {
          refused += 1;
          expect(error).toBeInstanceOf(OutboxError);
        }
      }),
      { numRuns: 1000 },
    );
    expect(parsed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
