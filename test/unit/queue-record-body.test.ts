// eightbit (issue 15): sendmail's -B is kept in the queue's record, so a flush honours it.
import { describe, expect, it } from 'vitest';
import { CorruptRecord, parseRecord, RECORD_VERSION, serializeRecord, type QueueRecord } from '../../src/queue/record.js';

const record = (extra: Record<string, unknown>): string =>
  JSON.stringify({
    version: RECORD_VERSION, id: 'q1', account: { name: 'work', settings: [] }, from: 'me@example.org',
    recipients: [{ address: 'you@example.net', state: 'pending', reply: null }], size: 10, has8bit: true, chunking: true,
    queued_at: '2026-12-05T04:00:00.000Z', attempts: 0, next_attempt: '2026-12-05T04:00:00.000Z', last_attempt: null, last_error: null,
    ...extra,
  });

describe("the queue record's body type (-B)", () => {
  it('is read back when it is 7BIT or 8BITMIME, and absent when -B was not given', () => {
    for (const body of ['7BIT', '8BITMIME'] as const) {
      const parsed = parseRecord(record({ body }), 'q1');
      expect(parsed.body).toBe(body);
      expect(parseRecord(serializeRecord(parsed), 'q1').body).toBe(body);
    }
    expect((parseRecord(record({}), 'q1') as QueueRecord).body).toBeUndefined();
  });

  it('any other value makes the record corrupt', () => {
    expect(() => parseRecord(record({ body: 'BINARYMIME' }), 'q1')).toThrow(CorruptRecord);
  });
});
