import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENVELOPE_FILE, ID_PATTERN, MESSAGE_FILE, newId, QueueStore, type Claim, type NewRecord } from '../../src/queue/store.js';
import { processStart } from '../../src/queue/owner.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-queue-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fields(overrides: Partial<NewRecord> = {}): NewRecord {
  return {
    account: { name: 'work', settings: [] },
    from: 'me@example.org',
    recipients: [{ address: 'you@example.net', state: 'pending', reply: null }],
    has8bit: false,
    chunking: true,
    queued_at: '2026-12-05T04:00:00.000Z',
    attempts: 0,
    next_attempt: '2026-12-05T04:00:00.000Z',
    last_attempt: null,
    last_error: null,
    ...overrides,
  };
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

/** An owner that is certainly dead: this pid with another start time (as after pid reuse). */
const deadOwner = { pid: process.pid, start: '1' };

describe('QueueStore', () => {
  it('makes the queue folder and its sub-folders private', async () => {
    const store = await QueueStore.open(join(dir, 'q'));
    expect((await stat(store.dir)).mode & 0o777).toBe(0o700);
    expect((await readdir(store.dir)).sort()).toEqual(['active', 'corrupt', 'failed', 'queue', 'tmp']);
  });

  it('stores the bytes and the record, and lists them', async () => {
    const store = await QueueStore.open(dir);
    const record = await store.enqueue(chunks('Subject: a\r\n', '\r\nbody\r\n'), fields());
    expect(record.id).toMatch(ID_PATTERN);
    expect(record.size).toBe(20);
    expect(await readFile(join(dir, 'queue', record.id, MESSAGE_FILE), 'utf8')).toBe('Subject: a\r\n\r\nbody\r\n');
    expect((await stat(join(dir, 'queue', record.id, MESSAGE_FILE))).mode & 0o777).toBe(0o600);
    const listing = await store.list();
    expect(listing.corrupt).toEqual([]);
    expect(listing.entries).toEqual([{ id: record.id, state: 'queued', record }]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('leaves no entry when the mail cannot be read', async () => {
    const store = await QueueStore.open(dir);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('Subject: a\r\n');
      throw new Error('stdin went away');
    }
    await expect(store.enqueue(failing(), fields())).rejects.toThrow(/stdin went away/);
    expect(await readdir(join(dir, 'queue'))).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('lets only one claim win, and puts a released mail back', async () => {
    const store = await QueueStore.open(dir);
    const { id } = await store.enqueue(chunks('x\r\n'), fields());
    const results = await Promise.all([store.claim(id), store.claim(id)]);
    const [first, second] = results.map((r) => (r.kind === "claimed" ? r.claim : undefined));
    expect([first, second].filter(Boolean)).toHaveLength(1);
    const claim = (first ?? second)!;
    expect((await store.list()).entries.map((e) => e.state)).toEqual(['active']);
    expect(await store.queuedIds()).toEqual([]);
    await claim.update({ ...claim.record, attempts: 1 });
    await claim.release();
    expect(await store.queuedIds()).toEqual([id]);
    expect((await store.list()).entries[0]!.record.attempts).toBe(1);
  });

  it('removes a delivered mail, and keeps a failed one in failed/', async () => {
    const store = await QueueStore.open(dir);
    const a = await store.enqueue(chunks('a\r\n'), fields());
    const b = await store.enqueue(chunks('b\r\n'), fields());
    await (await claimed(store, a.id)).delivered();
    const where = await (await claimed(store, b.id)).fail();
    expect(where).toBe(join(dir, 'failed', b.id));
    expect((await store.list()).entries).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readFile(join(where, MESSAGE_FILE), 'utf8')).toBe('b\r\n');
  });

  it("recovers a crashed flush's mails and a crashed enqueue's leftovers, not a live owner's", async () => {
    const crashed = await QueueStore.open(dir, deadOwner);
    const { id } = await crashed.enqueue(chunks('a\r\n'), fields());
    await crashed.claim(id);
    const live = await QueueStore.open(dir);
    const other = await live.enqueue(chunks('b\r\n'), fields());
    await live.claim(other.id);
    await writeFile(join(dir, 'tmp', `${newId()}@${deadOwner.pid}.${deadOwner.start}`), '');
    expect(await live.recover()).toEqual([id]);
    expect(await live.queuedIds()).toEqual([id]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect((await readdir(join(dir, 'active'))).map((n) => n.split('@')[0])).toEqual([other.id]);
  });

  it('sets a corrupt entry aside and reports it, without failing the listing', async () => {
    const store = await QueueStore.open(dir);
    const good = await store.enqueue(chunks('a\r\n'), fields());
    const bad = await store.enqueue(chunks('b\r\n'), fields());
    await writeFile(join(dir, 'queue', bad.id, ENVELOPE_FILE), '{"version":1');
    const listing = await store.list();
    expect(listing.entries.map((e) => e.id)).toEqual([good.id]);
    expect(listing.corrupt).toEqual([expect.objectContaining({ id: bad.id, reason: expect.stringMatching(/not JSON/) })]);
    expect(await store.claim(bad.id)).toEqual({ kind: 'corrupt', reason: expect.stringMatching(/not JSON/), movedTo: join(dir, 'corrupt', bad.id) });
    expect(await readdir(join(dir, 'corrupt'))).toEqual([bad.id]);
  });

  it('removes waiting and active mails by id, and nothing for an unknown or malformed id', async () => {
    const store = await QueueStore.open(dir);
    const a = await store.enqueue(chunks('a\r\n'), fields());
    const b = await store.enqueue(chunks('b\r\n'), fields());
    const claim = await claimed(store, b.id);
    expect(await store.remove(a.id)).toBe(true);
    expect(await store.remove(b.id)).toBe(true);
    expect(await store.remove(a.id)).toBe(false);
    expect(await store.remove('../../etc')).toBe(false);
    expect((await store.list()).entries).toEqual([]);
    await claim.release(); // the flush that held it finds it gone, quietly
    expect(await store.queuedIds()).toEqual([]);
  });

  it('gives ids that sort by age', () => {
    expect(newId(1000) < newId(2000)).toBe(true);
    expect(newId()).toMatch(ID_PATTERN);
  });
});

describe('processStart', () => {
  it('reads field 22 even when the command name holds spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    const stat = `42 (a) b (c)) ${fields.join(' ')}`;
    expect(processStart(42, () => stat)).toBe('22');
    expect(processStart(42, () => { throw new Error('no /proc'); })).toBe('');
  });
});

async function claimed(store: QueueStore, id: string): Promise<Claim> {
  const result = await store.claim(id);
  if (result.kind !== 'claimed') throw new Error(`${id} not claimed: ${result.kind}`);
  return result.claim;
}
