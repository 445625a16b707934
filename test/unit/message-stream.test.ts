/**
 * The spool normalises line endings on the way in; the send path must not
 * normalise them again, and the bytes on the wire must be what a second
 * normaliser would have let through.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { sendChunks, smallMessage } from '../../src/delivery/bdat.js';
import { streamMessage } from '../../src/delivery/message-stream.js';
import { LineEndingNormalizer } from '../../src/message/line-endings.js';
import { spoolMessage, type Spool } from '../../src/message/spool.js';
import { SmtpConnection } from '../../src/smtp/connection.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import type { Transport } from '../../src/transport.js';

/** Records every write; answers each read with a 250 (the replies to BDAT chunks). */
class Recorder implements Transport {
  readonly peer = 'recorder';
  readonly writes: Buffer[] = [];
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    this.writes.push(Buffer.concat(chunks));
  }
  async read(): Promise<Uint8Array | null> {
    return Buffer.from('250 ok\r\n');
  }
  end(): void {}
  destroy(): void {}
}

/** The same chunks, no longer declared CRLF: the send path normalises them as it did before. */
async function* undeclared(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function onTheWire(send: (connection: SmtpConnection) => Promise<unknown>): Promise<Buffer> {
  const transport = new Recorder();
  await send(new SmtpConnection(transport, { timeouts: timeoutsFor(5) }));
  return Buffer.concat(transport.writes);
}

/** The BDAT chunks' data without their command lines. */
function bdatData(wire: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < wire.length;) {
    const lineEnd = wire.indexOf('\r\n', at);
    const size = Number(/^BDAT (\d+)/.exec(wire.subarray(at, lineEnd).toString('latin1'))![1]);
    parts.push(wire.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size;
  }
  return Buffer.concat(parts);
}

// Mixed line endings, a line to dot-stuff, no newline at the end, and (past 64 KiB) a CRLF that a
// read of the spool's file splits: its CR ends one chunk, its LF starts the next.
const MAIL = Buffer.concat([
  Buffer.from('Subject: x\n\n'),
  Buffer.from(`${'a'.repeat(65_536 - 'Subject: x\r\n\r\n'.length - 1)}\n`),
  Buffer.from('.dot\rbare CR\r\nCRLF\nLF\n'.repeat(3)),
  Buffer.from('last line'),
]);

let scratch: string;
const normalizers = new Set<LineEndingNormalizer>();
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'outbox-stream-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(() => {
  vi.restoreAllMocks();
  normalizers.clear();
});

/** Counts the LineEndingNormalizer objects that see any bytes. */
function countNormalizers(): void {
  const push = LineEndingNormalizer.prototype.push;
  vi.spyOn(LineEndingNormalizer.prototype, 'push').mockImplementation(function (this: LineEndingNormalizer, input: Buffer) {
    normalizers.add(this);
    return push.call(this, input);
  });
}

describe.each([
  ['in memory', 1 << 20],
  ['in a file', 1024],
])('a spooled mail %s', (_, memoryLimit) => {
  let spool: Spool;
  beforeAll(async () => {
    spool = await spoolMessage([MAIL], { memoryLimit, tmpDir: scratch });
  });
  afterAll(() => spool.dispose());

  it('goes through one normaliser, the spool\'s, on its way to the wire', async () => {
    countNormalizers();
    const spooled = await spoolMessage([MAIL], { memoryLimit, tmpDir: scratch });
    expect(normalizers.size).toBe(1);
    await onTheWire((c) => streamMessage(c, spooled.chunks()));
    await onTheWire((c) => sendChunks(c, spooled.chunks(), true));
    await smallMessage(spooled.chunks(), { octets: spooled.octets, has8bit: false });
    expect(normalizers.size).toBe(1);
    await spooled.dispose();
  });

  it('DATA: the bytes on the wire are those a second normaliser let through', async () => {
    const direct = await onTheWire((c) => streamMessage(c, spool.chunks()));
    const normalizedAgain = await onTheWire((c) => streamMessage(c, undeclared(spool.chunks())));
    expect(direct.equals(normalizedAgain)).toBe(true);
    expect(direct.toString('latin1').endsWith('\r\n..dot\r\nbare CR\r\nCRLF\r\nLF\r\nlast line\r\n.\r\n')).toBe(true);
  });

  it('BDAT: the data in the chunks is the same, in one chunk or many', async () => {
    const direct = bdatData(await onTheWire((c) => sendChunks(c, spool.chunks(), true)));
    const normalizedAgain = bdatData(await onTheWire((c) => sendChunks(c, undeclared(spool.chunks()), true)));
    expect(direct.equals(normalizedAgain)).toBe(true);
    expect(direct.length).toBe(spool.octets);
    const whole = await smallMessage(spool.chunks(), { octets: spool.octets, has8bit: false });
    expect(whole?.equals(direct)).toBe(true);
  });
});
