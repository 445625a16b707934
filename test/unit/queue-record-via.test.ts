/** The queue record's `via` (issue 15): absent for SMTP, "mda" for a local part, anything else corrupt. */
import { describe, expect, it } from 'vitest';
import { CorruptRecord, parseRecord, RECORD_VERSION, serializeRecord, type QueueRecord } from '../../src/queue/record.js';

const record: QueueRecord = {
  version: RECORD_VERSION,
  id: 'ID1',
  account: { name: 'default', settings: [] },
  from: 'a@b.example',
  recipients: [{ address: 'root', state: 'pending', reply: null }],
  size: 10,
  has8bit: false,
  chunking: true,
  queued_at: '2026-12-05T09:00:00.000Z',
  attempts: 0,
  next_attempt: '2026-12-05T09:00:00.000Z',
  last_attempt: null,
  last_error: null,
};

describe('via', () => {
  it('round-trips "mda" and its absence', () => {
    expect(parseRecord(serializeRecord({ ...record, via: 'mda' }), 'ID1').via).toBe('mda');
    expect(parseRecord(serializeRecord(record), 'ID1').via).toBeUndefined();
  });

  it('any other value is corrupt, not guessed', () => {
    expect(() => parseRecord(serializeRecord({ ...record, via: 'smtp' as 'mda' }), 'ID1')).toThrow(CorruptRecord);
    expect(() => parseRecord(serializeRecord({ ...record, via: 'smtp' as 'mda' }), 'ID1')).toThrow('unknown via "smtp"');
  });
});
