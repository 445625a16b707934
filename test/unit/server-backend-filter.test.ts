import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Delivery, Envelope, MessageSink } from '../../src/server/backend.js';
import { filterBackend } from '../../src/server/backends/filter.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-filter-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const connection = { protocol: 'smtp' as const, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 25 };
const envelope: Envelope = { protocol: 'smtp', helo: 'c.test', mailFrom: 'a@b.test', mailParams: {}, recipients: ['c@d.test'], rcptParams: [{}] };

/** An inner backend that keeps what it is given, in memory (test-sized mails). */
function recordingBackend(): Backend & { received: string[]; rcpts: string[] } {
  const received: string[] = [];
  const rcpts: string[] = [];
  return {
    received,
    rcpts,
    newSession: () => ({
      rcpt: (to: string) => {
        rcpts.push(to);
        return undefined;
      },
      open: async (): Promise<MessageSink> => {
        const parts: Buffer[] = [];
        return {
          write: async (bytes) => void parts.push(Buffer.from(bytes)),
          commit: async (): Promise<Delivery> => {
            received.push(Buffer.concat(parts).toString());
            return { kind: 'delivered', id: 'inner-1' };
          },
          abort: async () => undefined,
        };
      },
    }),
  };
}

async function run(backend: Backend, message = 'Subject: x\r\n\r\nhello\r\n'): Promise<Delivery> {
  const sink = await backend.newSession(connection).open();
  await sink.write(Buffer.from(message));
  return sink.commit(envelope);
}

describe('filter backend (E-MailRelay --filter)', () => {
  it('exit 0 passes the file, as the program rewrote it, to the inner backend', async () => {
    const inner = recordingBackend();
    const delivery = await run(filterBackend(inner, { command: `sed -i 's/hello/HELLO/'`, tmpDir: dir }));
    expect(delivery).toEqual({ kind: 'delivered', id: 'inner-1' });
    expect(inner.received).toEqual(['Subject: x\r\n\r\nHELLO\r\n']);
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives the path as an argument, a private file', async () => {
    const inner = recordingBackend();
    const delivery = await run(filterBackend(inner, { command: `test "$(stat -c %a "$1")" = 600 && test -f`, tmpDir: dir }));
    expect(delivery.kind).toBe('delivered');
  });

  it('exit 75 is 451', async () => {
    const inner = recordingBackend();
    const delivery = await run(filterBackend(inner, { command: 'echo busy; exit 75 #', tmpDir: dir }));
    expect(delivery).toEqual({ kind: 'refused', reply: { code: 451, text: '4.3.0 busy' } });
    expect(inner.received).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('another exit is 550 with the first line the program printed', async () => {
    const inner = recordingBackend();
    const delivery = await run(filterBackend(inner, { command: 'printf "\\nspam detected\\nmore\\n"; exit 1 #', tmpDir: dir }));
    expect(delivery).toEqual({ kind: 'refused', reply: { code: 550, text: '5.3.0 spam detected' } });
    expect(await readdir(dir)).toEqual([]);
  });

  it('the inner backend still judges RCPT', async () => {
    const inner = recordingBackend();
    const session = filterBackend(inner, { command: 'true', tmpDir: dir }).newSession(connection);
    await session.rcpt?.('c@d.test', {});
    expect(inner.rcpts).toEqual(['c@d.test']);
  });

  it('abort removes the spooled file', async () => {
    const sink = await filterBackend(recordingBackend(), { command: 'true', tmpDir: dir }).newSession(connection).open();
    await sink.write(Buffer.from('x\r\n'));
    expect(await readdir(dir)).toHaveLength(1);
    await sink.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
