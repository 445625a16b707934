import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatReply, formatSpec, replyLines } from '../../src/smtp/reply-format.js';
import { ReplyParser, makeReply } from '../../src/smtp/reply.js';

describe('formatReply', () => {
  it('formats one-line and multi-line replies', () => {
    expect(formatReply(250, '2.0.0 Ok')).toBe('250 2.0.0 Ok\r\n');
    expect(formatReply(250, ['mx.example', 'PIPELINING', 'SIZE'])).toBe('250-mx.example\r\n250-PIPELINING\r\n250 SIZE\r\n');
  });

  it('refuses codes and text that would not be a reply', () => {
    expect(() => formatReply(99, 'x')).toThrow(RangeError);
    expect(() => formatReply(600, 'x')).toThrow(RangeError);
    expect(() => formatReply(250, 'a\r\n250 forged')).toThrow(RangeError);
    expect(() => formatReply(250, 'a\n250 forged')).toThrow(RangeError);
    expect(() => formatReply(250, [])).toThrow(RangeError);
  });

  it('is what the parser reads back, for any code and lines (the writer and the parser share no code but the enhanced-code grammar)', () => {
    const line = fc.stringMatching(/^[ -~]{0,60}$/);
    const code = fc.integer({ min: 200, max: 559 }).filter((c) => c % 100 < 60 && Math.floor(c / 10) % 10 <= 5);
    fc.assert(
      fc.property(code, fc.array(line, { minLength: 1, maxLength: 6 }), (c, lines) => {
        const [parsed, ...more] = new ReplyParser().push(Buffer.from(formatReply(c, lines)));
        expect(more).toEqual([]);
        expect(parsed).toEqual(makeReply(c, lines));
      }),
    );
  });
});

describe('formatSpec', () => {
  it('adds an enhanced code to stated replies that lack one, keeping those that have one', () => {
    expect(formatSpec({ code: 550, text: '5.1.1 No such user' })).toBe('550 5.1.1 No such user\r\n');
    expect(formatSpec({ code: 450, text: 'Try later' })).toBe('450 4.0.0 Try later\r\n');
    expect(formatSpec({ code: 550, text: 'one\n5.7.1 two' })).toBe('550-5.0.0 one\r\n550 5.7.1 two\r\n');
    expect(formatSpec({ code: 334, text: 'VXNlcm5hbWU6' })).toBe('334 VXNlcm5hbWU6\r\n');
  });

  it('gives every line of a 2xx/4xx/5xx reply an enhanced code the parser finds on the first (RFC 2034 §3)', () => {
    const text = fc.stringMatching(/^[ -~]{0,40}(?:\n[ -~]{0,40}){0,3}$/);
    const code = fc.constantFrom(250, 251, 421, 451, 452, 550, 553, 554);
    fc.assert(
      fc.property(code, text, (c, t) => {
        const [parsed] = new ReplyParser().push(Buffer.from(formatSpec({ code: c, text: t })));
        expect(parsed!.code).toBe(c);
        for (const line of parsed!.lines) expect(line).toMatch(/^[245]\.\d{1,3}\.\d{1,3}(?: |$)/);
      }),
    );
  });
});

describe('replyLines', () => {
  it('splits formatted replies back into lines for the transcript', () => {
    expect(replyLines('250-a\r\n250 b\r\n')).toEqual(['250-a', '250 b']);
  });
});
