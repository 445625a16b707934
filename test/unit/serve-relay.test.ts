/**
 * The relay and queue backends of `outbox serve`, driven directly (no
 * listening server of ours): the next hop is the capture server, an
 * independent oracle, and the account comes from a test msmtprc.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Delivery, Envelope } from '../../src/server/backend.js';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { QueueStore } from '../../src/queue/store.js';
import type { ServeIo } from '../../src/cli/serve-queue.js';
import { queueBackend, relayBackend } from '../../src/cli/serve-relay.js';

let dir: string;
let next: CaptureServer;
let io: ServeIo;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-serve-relay-'));
  next = await startCaptureServer({
    folder: join(dir, 'captured'),
    refuseRecipient: (address) =>
      address.startsWith('busy@') ? { code: 450, text: '4.2.1 mailbox busy' } : address.startsWith('nobody@') ? { code: 550, text: '5.1.1 no such user' } : undefined,
  });
  io = { env: { HOME: dir, OUTBOX_SYSTEM_CONFIG: join(dir, 'none'), OUTBOX_BACKGROUND_FLUSH: 'off' }, writeOut: () => {}, writeErr: () => {} };
});
afterEach(async () => {
  await next.close();
  await rm(dir, { recursive: true, force: true });
});

async function config(extra = ''): Promise<string> {
  const file = join(dir, 'msmtprc');
  await writeFile(file, `account default\nhost 127.0.0.1\nport ${next.port}\ntls off\nqueue_dir ${join(dir, 'queue')}\n${extra}`, { mode: 0o600 });
  return file;
}

const connection = { protocol: 'smtp' as const, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 25 };
function envelope(recipients: string[], mailParams: Envelope['mailParams'] = {}): Envelope {
  return { protocol: 'smtp', helo: 'c.test', mailFrom: 'a@b.test', mailParams, recipients, rcptParams: recipients.map(() => ({})) };
}
async function send(backend: Backend, env: Envelope): Promise<Delivery> {
  const sink = await backend.newSession(connection).open();
  await sink.write(Buffer.from('From: a@b.test\r\nSubject: relayed\r\n\r\n'));
  await sink.write(Buffer.from('body\r\n'));
  return sink.commit(env);
}

describe('relay backend', () => {
  it('sends the mail through the account chosen for the sender', async () => {
    const file = await config();
    const delivery = await send(relayBackend({ file }, io), envelope(['c@d.test']));
    expect(delivery.kind).toBe('delivered');
    const [message] = await next.waitForMessages(1);
    expect(message!.mailFrom).toBe('a@b.test');
    expect(message!.recipients).toEqual(['c@d.test']);
    expect(message!.raw.toString()).toContain('Subject: relayed\r\n\r\nbody\r\n');
  });

  it('a 4xx from the next server is 451 with its text', async () => {
    const delivery = await send(relayBackend({ file: await config() }, io), envelope(['busy@d.test']));
    expect(delivery).toMatchObject({ kind: 'refused', reply: { code: 451 } });
    expect(delivery.kind === 'refused' && delivery.reply.text).toContain('mailbox busy');
  });

  it('a 5xx from the next server is its 550 with its text', async () => {
    const delivery = await send(relayBackend({ file: await config() }, io), envelope(['nobody@d.test']));
    expect(delivery).toEqual({ kind: 'refused', reply: { code: 550, text: '5.1.1 no such user' } });
  });

  it('no server to connect to is 451', async () => {
    const file = join(dir, 'msmtprc');
    await writeFile(file, 'account default\nhost 127.0.0.1\nport 1\ntls off\n', { mode: 0o600 });
    const delivery = await send(relayBackend({ file }, io), envelope(['c@d.test']));
    expect(delivery).toMatchObject({ kind: 'refused', reply: { code: 451 } });
  });

  it('an unknown --account is 451 (the administrator can fix it), not a bounce', async () => {
    const delivery = await send(relayBackend({ file: await config(), account: 'nosuch' }, io), envelope(['c@d.test']));
    expect(delivery).toMatchObject({ kind: 'refused', reply: { code: 451 } });
  });

  it('queue always: the mail is queued durably, nothing is sent now', async () => {
    const delivery = await send(relayBackend({ file: await config('queue always\n') }, io), envelope(['c@d.test']));
    expect(delivery.kind).toBe('delivered');
    const listing = await (await QueueStore.open(join(dir, 'queue'))).list();
    expect(listing.entries.map((e) => e.record.recipients.map((r) => r.address))).toEqual([['c@d.test']]);
    expect(await next.messages()).toEqual([]);
  });

  it('queue on_failure: a temporary failure is queued and the client told 250', async () => {
    const delivery = await send(relayBackend({ file: await config('queue on_failure\n') }, io), envelope(['busy@d.test']));
    expect(delivery.kind).toBe('delivered');
    const listing = await (await QueueStore.open(join(dir, 'queue'))).list();
    expect(listing.entries).toHaveLength(1);
    expect(listing.entries[0]!.record.attempts).toBe(1);
  });
});

describe('queue backend (--queue)', () => {
  it('answers with the queue id once the entry is stored, with the client\'s ENVID', async () => {
    const delivery = await send(queueBackend({ file: await config() }, io), envelope(['c@d.test', 'e@f.test'], { ENVID: 'x+2By' }));
    expect(delivery.kind).toBe('delivered');
    const listing = await (await QueueStore.open(join(dir, 'queue'))).list();
    expect(listing.entries.map((e) => e.record.id)).toEqual([delivery.kind === 'delivered' ? delivery.id : '']);
    expect(listing.entries[0]!.record.envid).toBe('x+y');
    expect(listing.entries[0]!.record.from).toBe('a@b.test');
  });

  it('queues each part with its own account: a routed recipient\'s part goes through its route\'s account at the flush', async () => {
    const file = join(dir, 'msmtprc');
    const server = `host 127.0.0.1\nport ${next.port}\ntls off\nqueue_dir ${join(dir, 'queue')}\n`;
    await writeFile(file, `defaults\nroute *@routed.test other\naccount default\n${server}account other\n${server}`, { mode: 0o600 });
    const delivery = await send(queueBackend({ file }, io), envelope(['c@d.test', 'e@routed.test']));
    expect(delivery.kind).toBe('delivered');
    const listing = await (await QueueStore.open(join(dir, 'queue'))).list();
    const byAccount = Object.fromEntries(listing.entries.map((e) => [e.record.account.name, e.record.recipients.map((r) => r.address)]));
    expect(byAccount).toEqual({ default: ['c@d.test'], other: ['e@routed.test'] });
    expect(delivery.kind === 'delivered' ? delivery.id.split(',').sort() : []).toEqual(listing.entries.map((e) => e.record.id).sort());
  });

  it('a queue folder that cannot be written is 451', async () => {
    const file = join(dir, 'msmtprc');
    await writeFile(join(dir, 'blocker'), 'a file, not a folder');
    await writeFile(file, `account default\nhost 127.0.0.1\nqueue_dir ${join(dir, 'blocker', 'q')}\n`, { mode: 0o600 });
    const delivery = await send(queueBackend({ file }, io), envelope(['c@d.test']));
    expect(delivery).toMatchObject({ kind: 'refused', reply: { code: 451 } });
  });

  it('starts a background queue run after the mails, but not one per mail', async () => {
    const runs = join(dir, 'runs');
    const fakeOutbox = join(dir, 'fake-outbox');
    await writeFile(fakeOutbox, `echo "$*" >> ${runs}\n`);
    const flushing: ServeIo = { ...io, env: { ...io.env, OUTBOX_BACKGROUND_FLUSH: 'on' }, self: { execPath: '/bin/sh', script: fakeOutbox } };
    const backend = queueBackend({ file: await config() }, flushing);
    for (let i = 0; i < 8; i++) expect((await send(backend, envelope([`r${i}@d.test`]))).kind).toBe('delivered');
    const lines = async (): Promise<string[]> => (existsSync(runs) ? (await readFile(runs, 'utf8')).trim().split('\n') : []);
    // The first mail starts a run; the ones after it inside the interval share one more at its end.
    for (let i = 0; i < 100 && (await lines()).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const started = await lines();
    expect(started.length).toBeGreaterThanOrEqual(2);
    expect(started.length).toBeLessThan(8);
    expect(started[0]).toContain(`--queue-run --queue-dir=${join(dir, 'queue')}`);
  });
});
