import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/server/backend.js';
import { CaptureBackend, newMessageId, readCapturedMessages, type CapturedEnvelope } from '../helpers/capture-backend.js';

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'outbox-capture-'));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

const envelope: Envelope = {
  protocol: 'smtp',
  helo: 'client.test',
  mailFrom: 'a@b.test',
  mailParams: { BODY: '8BITMIME', SIZE: '12' },
  recipients: ['c@d.test', 'e@f.test'],
  rcptParams: [{}, {}],
};

describe('CaptureBackend', () => {
  it('streams the message to a hidden temp file and publishes .eml then .json on commit', async () => {
    const committed: CapturedEnvelope[] = [];
    const backend = new CaptureBackend(folder, (record) => committed.push(record));
    const sink = await backend.open();
    await sink.write(Buffer.from('Subject: x\r\n'));
    await sink.write(Buffer.from([0xc3, 0xa9, 0x0d, 0x0a]));
    const names = await readdir(folder);
    expect(names).toEqual([expect.stringMatching(/^\.tmp-\d+-[0-9a-f]{12}\.eml$/)]);
    expect(await readCapturedMessages(folder)).toEqual([]);

    const delivery = await sink.commit(envelope);
    expect(delivery.kind).toBe('delivered');
    const id = delivery.kind === 'delivered' ? delivery.id : '';
    expect((await readdir(folder)).sort()).toEqual([`${id}.eml`, `${id}.json`]);
    expect(await readFile(join(folder, `${id}.eml`))).toEqual(Buffer.from('Subject: x\r\n\xc3\xa9\r\n', 'latin1'));
    const json = JSON.parse(await readFile(join(folder, `${id}.json`), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual([
      'id',
      'protocol',
      'helo',
      'mailFrom',
      'mailParams',
      'recipients',
      'rcptParams',
      'size',
      'receivedAt',
    ]);
    expect(json).toMatchObject({ ...envelope, id, size: 16 });
    expect(committed).toEqual([json]);
  });

  it('leaves nothing behind on abort, even twice', async () => {
    const sink = await new CaptureBackend(folder).open();
    await sink.write(Buffer.from('partial'));
    await sink.abort();
    await sink.abort();
    expect(await readdir(folder)).toEqual([]);
    await expect(sink.write(Buffer.from('more'))).rejects.toThrow(/closed/);
  });

  it('fails to open when the folder is gone', async () => {
    await expect(new CaptureBackend(join(folder, 'missing')).open()).rejects.toThrow();
  });
});

describe('message ids and reading back', () => {
  it('makes ids that sort in the order they were made, also within one millisecond', () => {
    const ids = [newMessageId(1000), newMessageId(1000), newMessageId(1000), newMessageId(2000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Z]{19}$/);
  });

  it('reads every committed message, oldest first, and ignores temp and foreign files', async () => {
    const backend = new CaptureBackend(folder);
    for (const text of ['one', 'two', 'three']) {
      const sink = await backend.open();
      await sink.write(Buffer.from(`${text}\r\n`));
      await sink.commit(envelope);
    }
    const unfinished = await backend.open();
    await writeFile(join(folder, 'notes.txt'), 'not a message');
    const messages = await readCapturedMessages(folder);
    expect(messages.map((m) => m.raw.toString())).toEqual(['one\r\n', 'two\r\n', 'three\r\n']);
    expect(messages[0]).toMatchObject({ ...envelope, size: 5, emlPath: join(folder, `${messages[0]?.id}.eml`) });
    await unfinished.abort();
  });
});
