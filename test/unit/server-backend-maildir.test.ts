import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/server/backend.js';
import { createMaildir, MaildirBackend, maildirUniqueName } from '../../src/server/backends/maildir.js';

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'outbox-maildir-')), 'Maildir');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

const envelope: Envelope = { protocol: 'smtp', helo: 'c.test', mailFrom: 'a@b.test', mailParams: {}, recipients: ['c@d.test'], rcptParams: [{}] };
const connection = { protocol: 'smtp' as const, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 25 };

describe('maildir backend', () => {
  it('creates tmp, new and cur with mode 0700', async () => {
    await createMaildir(dir);
    for (const sub of ['tmp', 'new', 'cur']) expect((await stat(join(dir, sub))).mode & 0o777).toBe(0o700);
  });

  it('writes into tmp/ and renames into new/ on commit; the id is the file name', async () => {
    await createMaildir(dir);
    const session = new MaildirBackend(dir).newSession(connection);
    const sink = await session.open();
    await sink.write(Buffer.from('Subject: x\r\n\r\n'));
    await sink.write(Buffer.from('body\r\n'));
    expect(await readdir(join(dir, 'tmp'))).toHaveLength(1);
    expect(await readdir(join(dir, 'new'))).toEqual([]);
    const delivery = await sink.commit(envelope);
    expect(delivery.kind).toBe('delivered');
    const id = delivery.kind === 'delivered' ? delivery.id : '';
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'new'))).toEqual([id]);
    expect(await readFile(join(dir, 'new', id), 'utf8')).toBe('Subject: x\r\n\r\nbody\r\n');
    expect((await stat(join(dir, 'new', id))).mode & 0o777).toBe(0o600);
    await sink.abort(); // after commit: nothing to do
  });

  it('abort removes the temporary file', async () => {
    await createMaildir(dir);
    const sink = await new MaildirBackend(dir).newSession(connection).open();
    await sink.write(Buffer.from('x\r\n'));
    await sink.abort();
    await sink.abort();
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'new'))).toEqual([]);
  });

  it('makes unique names in the modern form, with / and : in the host escaped', () => {
    const a = maildirUniqueName(1_700_000_000_123, 'host/x:y');
    const b = maildirUniqueName(1_700_000_000_123, 'host/x:y');
    expect(a).toMatch(/^1700000000\.M123000P\d+Q\d+R[0-9a-f]{16}\.host\\057x\\072y$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(':');
  });
});
