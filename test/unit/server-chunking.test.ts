/**
 * BDAT (RFC 3030) in the product session: counted chunks, passed on byte
 * for byte, pipelined with the envelope, and refused chunks still read so
 * their octets are never taken for commands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startSession, withoutReceivedId } from '../helpers/memory-backend.js';
import { splits } from '../helpers/splits.js';

const ENVELOPE = 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n';

function body(data: string): string {
  return withoutReceivedId(data).replace(/^Received: [^]*?\+0000\r\n/, '');
}

describe('BDAT', () => {
  it('takes a message in chunks, pipelined, and answers each chunk', async () => {
    const { backend, say } = startSession();
    await say(ENVELOPE);
    expect(await say('BDAT 5\r\nhelloBDAT 8 LAST\r\n, world\nNOOP\r\n')).toBe(
      '250 2.0.0 5 octets received\r\n250 2.0.0 Ok: queued as M1\r\n250 2.0.0 Ok\r\n',
    );
    expect(body(backend.committed[0]!.data)).toBe('hello, world\n');
  });

  it('passes the octets on unchanged: dots, bare LF, CR, NUL and command-like text', async () => {
    const { backend, say } = startSession();
    const data = '.\r\n.\r\nQUIT\r\n\n\r\0';
    expect(await say(`${ENVELOPE}BDAT ${Buffer.byteLength(data)} LAST\r\n${data}`)).toMatch(/250 2\.0\.0 Ok: queued as M1\r\n$/);
    expect(body(backend.committed[0]!.data)).toBe(data);
  });

  it('reads a chunk however it is split', async () => {
    const input = `${ENVELOPE}BDAT 11 LAST\r\nabc\r\n.\r\nxyzNOOP\r\n`;
    for (const parts of splits(input)) {
      const { backend, say } = startSession();
      let output = '';
      for (const part of parts) output += await say(part);
      expect(output).toMatch(/250 2\.0\.0 Ok: queued as M1\r\n250 2\.0\.0 Ok\r\n$/);
      expect(body(backend.committed[0]!.data)).toBe('abc\r\n.\r\nxyz');
    }
  });

  it('takes BDAT 0 LAST as the end of the message', async () => {
    const { backend, say } = startSession();
    expect(await say(`${ENVELOPE}BDAT 2\r\nhiBDAT 0 LAST\r\n`)).toMatch(/250 2\.0\.0 2 octets received\r\n250 2\.0\.0 Ok: queued as M1\r\n$/);
    expect(body(backend.committed[0]!.data)).toBe('hi');
  });

  it('refuses BDAT without MAIL or recipients but still reads (and drops) the chunk', async () => {
    const { say } = startSession();
    expect(await say('EHLO c.test\r\nBDAT 6 LAST\r\nNOOP\r\nNOOP\r\n')).toMatch(
      /503 5\.5\.1 Error: need MAIL command\r\n250 2\.0\.0 Ok\r\n$/,
    );
    expect(await say('MAIL FROM:<>\r\nBDAT 4\r\nRSETNOOP\r\n')).toBe(
      '250 2.1.0 Ok\r\n554 5.5.1 Error: no valid recipients\r\n250 2.0.0 Ok\r\n',
    );
    expect(await say('BDAT 1 LAST\r\nx')).toBe('554 5.5.1 Error: no valid recipients\r\n');
  });

  it('refuses BDAT without a size (what follows is read as commands) and DATA after BDAT', async () => {
    const { say } = startSession();
    await say(ENVELOPE);
    expect(await say('BDAT\r\nBDAT x\r\nBDAT 3 NOW\r\nBDAT 1\r\nxDATA\r\n')).toBe(
      '501 5.5.4 Syntax: BDAT chunk-size [LAST]\r\n'.repeat(3) +
        '250 2.0.0 1 octets received\r\n503 5.5.1 Error: DATA after BDAT\r\n',
    );
  });

  it('refuses a message over the size limit at the chunk that passes it, and ends the transaction', async () => {
    const { backend, say } = startSession({ sizeLimit: 4 });
    await say(ENVELOPE);
    expect(await say('BDAT 3\r\nabcBDAT 3\r\ndefBDAT 1 LAST\r\ng')).toBe(
      '250 2.0.0 3 octets received\r\n552 5.3.4 Message size exceeds fixed maximum message size\r\n' +
        '503 5.5.1 Error: need MAIL command\r\n',
    );
    expect(backend.committed).toEqual([]);
    expect(backend.calls).toContain('abort');
  });

  it('answers LMTP per recipient after BDAT LAST', async () => {
    const { say } = startSession({ protocol: 'lmtp' });
    expect(await say('LHLO c.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@d.test>\r\nRCPT TO:<b@d.test>\r\nBDAT 2 LAST\r\nhi')).toMatch(
      /250 2\.0\.0 <a@d\.test> Ok: queued as M1\r\n250 2\.0\.0 <b@d\.test> Ok: queued as M1\r\n$/,
    );
  });

  it('forgets a half-sent BDAT message on RSET', async () => {
    const { backend, say } = startSession();
    await say(`${ENVELOPE}BDAT 2\r\nhiRSET\r\n`);
    expect(backend.calls.slice(-3)).toEqual(['open', 'abort', 'reset']);
    expect(await say('BDAT 1 LAST\r\nx')).toBe('503 5.5.1 Error: need MAIL command\r\n');
  });

  it('is not offered by the capture server (502, as before)', async () => {
    const { say } = startSession({ full: false, received: false });
    expect(await say('EHLO c.test\r\nBDAT 1 LAST\r\n')).toMatch(/502 5\.5\.1 Error: command not implemented\r\n$/);
  });
});

describe('BDAT, property', () => {
  it('any octets, cut into any chunks, sent in any pieces, arrive unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 8 }),
        async (chunks, cuts) => {
          const { backend, say } = startSession();
          const wire = Buffer.concat([
            Buffer.from(ENVELOPE),
            ...chunks.flatMap((chunk, i) => [
              Buffer.from(`BDAT ${chunk.length}${i === chunks.length - 1 ? ' LAST' : ''}\r\n`),
              Buffer.from(chunk),
            ]),
            Buffer.from('NOOP\r\n'),
          ]);
          let output = '';
          let at = 0;
          for (const cut of [...cuts, wire.length]) {
            output += await say(wire.subarray(at, Math.min(wire.length, at + cut)));
            at = Math.min(wire.length, at + cut);
          }
          if (at < wire.length) output += await say(wire.subarray(at));
          expect(output).toMatch(/250 2\.0\.0 Ok: queued as M1\r\n250 2\.0\.0 Ok\r\n$/);
          expect(Buffer.from(body(backend.committed[0]!.data), 'latin1')).toEqual(Buffer.concat(chunks.map((c) => Buffer.from(c))));
        },
      ),
      { numRuns: 200 },
    );
  });
});
