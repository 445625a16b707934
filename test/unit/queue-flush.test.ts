import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerReply } from '../../src/errors.js';
import { flushQueue, type Bouncer, type Courier, type CourierSession, type FlushEvent, type OutgoingMail } from '../../src/queue/flush.js';
import { ENVELOPE_FILE, QueueStore, type NewRecord } from '../../src/queue/store.js';

let dir: string;
let store: QueueStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-flush-'));
  store = await QueueStore.open(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const T0 = new Date('2026-12-05T04:00:00Z');
const reply = (code: number, text = 'ok'): ServerReply => ({ code, lines: [text] });

function fields(recipients: string[], overrides: Partial<NewRecord> = {}): NewRecord {
  return {
    account: { name: 'work', settings: [] },
    from: 'me@example.org',
    recipients: recipients.map((address) => ({ address, state: 'pending', reply: null })),
    has8bit: false,
    chunking: true,
    queued_at: T0.toISOString(),
    attempts: 0,
    next_attempt: T0.toISOString(),
    last_attempt: null,
    last_error: null,
    ...overrides,
  };
}

async function enqueue(recipients: string[], overrides: Partial<NewRecord> = {}): Promise<string> {
  async function* body(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('Subject: test\r\n\r\nhello\r\n');
  }
  return (await store.enqueue(body(), fields(recipients, overrides))).id;
}

/** A server, as the flush sees it: each recipient's reply decided by `answer`, every session and transaction counted. */
class FakeServer implements Courier {
  sessions = 0;
  transactions: { from: string; recipients: readonly string[] }[] = [];
  /** For each send, the id of the mail named as coming next (or null). */
  upcomingIds: (string | null)[] = [];
  openError: Error | undefined;
  /** Sessions that break (throw) on their n-th transaction. */
  breakAfter = Infinity;

  constructor(public answer: (recipient: string, mail: OutgoingMail) => ServerReply = () => reply(250)) {}

  async route() {
    return {
      key: 'the-server',
      open: async (): Promise<CourierSession> => {
        if (this.openError) throw this.openError;
        this.sessions++;
        let sent = 0;
        let usable = true;
        return {
          get usable() {
            return usable;
          },
          send: async (mail, upcoming) => {
            this.upcomingIds.push(upcoming?.record.id ?? null);
            if (sent++ >= this.breakAfter) {
              usable = false;
              throw new Error('421 4.4.2 closing connection');
            }
            this.transactions.push({ from: mail.record.from, recipients: mail.recipients });
            return mail.recipients.map((address) => {
              const r = this.answer(address, mail);
              return { address, reply: r, delivered: r.code === 250 };
            });
          },
          close: async () => {},
        };
      },
    };
  }
}

const bounceToSender: Bouncer = async (record, _path, now) =>
  record.from === ''
    ? undefined
    : {
        message: (async function* () {
          yield Buffer.from('Subject: Undelivered Mail Returned to Sender\r\n\r\nsorry\r\n');
        })(),
        record: fields([record.from], { from: '', queued_at: now.toISOString(), next_attempt: now.toISOString() }),
      };

async function flush(server: Courier, extra: { which?: 'all' | 'due'; now?: Date; lifetime?: number; events?: FlushEvent[] } = {}) {
  return flushQueue({
    store,
    courier: server,
    which: extra.which ?? 'all',
    lifetimeSeconds: () => extra.lifetime ?? 5 * 86400,
    bounce: bounceToSender,
    now: () => extra.now ?? T0,
    random: () => 0.5,
    ...(extra.events ? { onEvent: (e: FlushEvent) => extra.events!.push(e) } : {}),
  });
}

describe('flushQueue', () => {
  it('sends every mail for one server over one session and empties the queue', async () => {
    await enqueue(['a@example.net']);
    await enqueue(['b@example.net', 'c@example.net']);
    const server = new FakeServer();
    const report = await flush(server);
    expect(server.sessions).toBe(1);
    expect(server.transactions.map((t) => t.recipients)).toEqual([['a@example.net'], ['b@example.net', 'c@example.net']]);
    expect(report).toEqual({ attempted: 2, delivered: 2, deferred: 0, failed: 0, remaining: 0 });
    expect(await readdir(join(dir, 'active'))).toEqual([]);
  });

  it('names the next mail of the session to each send, so its envelope can be pipelined', async () => {
    const ids = [await enqueue(['a@example.net']), await enqueue(['b@example.net']), await enqueue(['c@example.net'])];
    const server = new FakeServer();
    await flush(server);
    expect(server.upcomingIds).toEqual([ids[1], ids[2], null]);
  });

  it('retries a greylisted mail after its back-off, and only then with --queue-run', async () => {
    const id = await enqueue(['a@example.net']);
    const server = new FakeServer(() => reply(450, '4.7.1 greylisted'));
    expect(await flush(server)).toMatchObject({ deferred: 1, remaining: 1 });
    const [entry] = (await store.list()).entries;
    expect(entry!.record).toMatchObject({ id, attempts: 1, next_attempt: '2026-12-05T04:01:00.000Z' });
    expect(entry!.record.recipients[0]).toEqual({ address: 'a@example.net', state: 'pending', reply: { code: 450, text: '4.7.1 greylisted' } });

    server.answer = () => reply(250);
    expect(await flush(server, { which: 'due', now: new Date('2026-12-05T04:00:59Z') })).toMatchObject({ attempted: 0, remaining: 1 });
    expect(await flush(server, { which: 'due', now: new Date('2026-12-05T04:01:00Z') })).toMatchObject({ delivered: 1, remaining: 0 });
  });

  it('sends nothing for a mail whose outcome was written but which was not removed (a crash in between)', async () => {
    const done = await enqueue(['a@example.net', 'b@example.net']);
    await enqueue(['c@example.net']);
    // As a flush killed after claim.update() and before claim.delivered() leaves it, once recovered.
    const path = join(dir, 'queue', done, ENVELOPE_FILE);
    const record = JSON.parse(await readFile(path, 'utf8')) as { recipients: { state: string }[] };
    await writeFile(path, JSON.stringify({ ...record, recipients: record.recipients.map((r) => ({ ...r, state: 'delivered' })) }));
    const server = new FakeServer();
    const report = await flush(server);
    expect(server.transactions.map((t) => t.recipients)).toEqual([['c@example.net']]);
    expect(report.remaining).toBe(0);
  });

  it('never sends again to a recipient that accepted', async () => {
    await enqueue(['a@example.net', 'b@example.net']);
    const server = new FakeServer((r) => (r === 'a@example.net' ? reply(250) : reply(451)));
    await flush(server);
    server.answer = () => reply(250);
    await flush(server);
    expect(server.transactions.map((t) => t.recipients)).toEqual([['a@example.net', 'b@example.net'], ['b@example.net']]);
    expect((await store.list()).entries).toEqual([]);
  });

  it('fails a permanently refused recipient, delivers to the others, and bounces to the sender with the null path', async () => {
    await enqueue(['good@example.net', 'bad@example.net']);
    const server = new FakeServer((r) => (r === 'bad@example.net' ? reply(550, '5.1.1 no such user') : reply(250)));
    const events: FlushEvent[] = [];
    const report = await flush(server, { events });
    expect(report).toMatchObject({ delivered: 1, failed: 1, remaining: 0 });
    expect(server.transactions).toEqual([
      { from: 'me@example.org', recipients: ['good@example.net', 'bad@example.net'] },
      { from: '', recipients: ['me@example.org'] },
    ]);
    expect(events.map((e) => e.kind)).toEqual(['failed', 'delivered']);
    expect(await readdir(join(dir, 'failed'))).toEqual([]);
    // The bounce went over the session the mail used: one login per server and run.
    expect(server.sessions).toBe(1);
  });

  it('never bounces a bounce: a failing mail with the null sender is kept in failed/', async () => {
    const id = await enqueue(['me@example.org'], { from: '' });
    const server = new FakeServer(() => reply(550, '5.1.1 gone'));
    expect(await flush(server)).toMatchObject({ failed: 1, remaining: 0 });
    expect(server.transactions).toHaveLength(1);
    expect(await readdir(join(dir, 'failed'))).toEqual([id]);
  });

  it('asks a server that is down once per run, and defers every mail', async () => {
    await enqueue(['a@example.net']);
    await enqueue(['b@example.net']);
    const server = new FakeServer();
    server.openError = new Error('connection refused');
    const events: FlushEvent[] = [];
    expect(await flush(server, { events })).toMatchObject({ attempted: 2, deferred: 2, remaining: 2 });
    expect(events.map((e) => e.kind === 'deferred' && e.record.last_error)).toEqual(['connection refused', 'connection refused']);
  });

  it('opens a new session when one breaks, and keeps the mail it was sending', async () => {
    await enqueue(['a@example.net']);
    await enqueue(['b@example.net']);
    await enqueue(['c@example.net']);
    const server = new FakeServer();
    server.breakAfter = 1;
    const report = await flush(server);
    expect(server.sessions).toBe(2);
    expect(report).toMatchObject({ delivered: 2, deferred: 1, remaining: 1 });
    expect((await store.list()).entries[0]!.record.recipients[0]!.address).toBe('b@example.net');
  });

  it('gives up when the lifetime is over, with the last error, and bounces', async () => {
    await enqueue(['a@example.net']);
    const server = new FakeServer(() => reply(451, '4.3.0 try later'));
    await flush(server);
    const events: FlushEvent[] = [];
    server.answer = (r) => (r === 'me@example.org' ? reply(250) : reply(451, '4.3.0 try later'));
    const report = await flush(server, { now: new Date('2026-12-10T04:00:00Z'), events });
    expect(report).toMatchObject({ failed: 1, delivered: 1, remaining: 0 });
    const failed = events.find((e) => e.kind === 'failed')!;
    expect(failed.record.last_error).toMatch(/queue lifetime \(5d\)/);
    expect(failed.record.recipients[0]).toMatchObject({ state: 'failed', reply: { code: 451 } });
  });

  it('sets a corrupt entry aside and delivers the rest', async () => {
    const bad = await enqueue(['a@example.net']);
    await enqueue(['b@example.net']);
    await writeFile(join(dir, 'queue', bad, ENVELOPE_FILE), 'garbage');
    const events: FlushEvent[] = [];
    const report = await flush(new FakeServer(), { events });
    expect(report).toMatchObject({ delivered: 1, remaining: 0 });
    expect(events.filter((e) => e.kind === 'corrupt').map((e) => e.kind === 'corrupt' && e.id)).toEqual([bad]);
  });
});
