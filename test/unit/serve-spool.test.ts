import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery, Envelope } from '../../src/server/backend.js';
import type { Spool } from '../../src/message/spool.js';
import { spoolingBackend } from '../../src/cli/serve-spool.js';

const connection = { protocol: 'smtp' as const, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 25 };
const envelope: Envelope = { protocol: 'smtp', helo: 'c.test', mailFrom: 'a@b.test', mailParams: {}, recipients: ['c@d.test'], rcptParams: [{}] };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-serve-spool-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('spooling backend', () => {
  it('hands the handler the whole message with its facts, then disposes of the spool', async () => {
    let seen: { text: string; octets: number; has8bit: boolean; spool: Spool } | undefined;
    const backend = spoolingBackend(async (spool) => {
      const parts: Buffer[] = [];
      for await (const chunk of spool.chunks()) parts.push(Buffer.from(chunk));
      seen = { text: Buffer.concat(parts).toString('latin1'), octets: spool.octets, has8bit: spool.has8bit, spool };
      return { kind: 'delivered', id: 'x' };
    });
    const sink = await backend.newSession(connection).open();
    await sink.write(Buffer.from('Subject: x\r\n\r\n'));
    await sink.write(Buffer.from([0xc3, 0xa9, 0x0d, 0x0a]));
    expect(await sink.commit(envelope)).toEqual({ kind: 'delivered', id: 'x' });
    expect(seen).toMatchObject({ text: 'Subject: x\r\n\r\n\xc3\xa9\r\n', octets: 18, has8bit: true });
  });

  it('a mail larger than memory goes to a private file that is gone after commit', async () => {
    let path: string | undefined;
    const backend = spoolingBackend(async (spool): Promise<Delivery> => {
      path = spool.path;
      return { kind: 'delivered', id: 'x' };
    }, {}, { tmpDir: dir });
    const sink = await backend.newSession(connection).open();
    const line = Buffer.from(`${'x'.repeat(998)}\r\n`);
    for (let i = 0; i < 3000; i++) await sink.write(line);
    await sink.commit(envelope);
    expect(path?.startsWith(dir)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('abort before commit leaves nothing behind and never calls the handler', async () => {
    let called = false;
    const backend = spoolingBackend(async (): Promise<Delivery> => {
      called = true;
      return { kind: 'delivered', id: 'x' };
    }, {}, { tmpDir: dir });
    const sink = await backend.newSession(connection).open();
    const line = Buffer.from(`${'y'.repeat(998)}\r\n`);
    for (let i = 0; i < 2000; i++) await sink.write(line);
    expect(await readdir(dir)).toHaveLength(1);
    await sink.abort();
    await sink.abort();
    expect(called).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('passes the MAIL and RCPT checks it is given to the session', async () => {
    const backend = spoolingBackend(async () => ({ kind: 'delivered', id: 'x' }), { rcpt: (to) => (to.startsWith('-') ? { code: 553, text: 'no' } : undefined) });
    expect(await backend.newSession(connection).rcpt?.('-x@y', {})).toEqual({ code: 553, text: 'no' });
  });
});
