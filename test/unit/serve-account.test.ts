import { describe, expect, it } from 'vitest';
import { PartialDeliveryError } from '../../src/delivery/transaction.js';
import { OutboxError } from '../../src/errors.js';
import type { Envelope } from '../../src/server/backend.js';
import { decodeXtext, deliveryForError, sendOptionsFor } from '../../src/cli/serve-account.js';

const reply = (code: number, text: string, enhanced?: string) => ({ code, lines: [text], ...(enhanced ? { enhanced } : {}) });

describe('a failed send as the SMTP client reply', () => {
  it('temporary: 451 with the next server\'s text', () => {
    const error = new OutboxError('E_ENVELOPE_REJECTED', 'x', { transient: true, reply: reply(450, '4.2.1 mailbox busy', '4.2.1') });
    expect(deliveryForError(error, ['a@b.test'])).toEqual({ kind: 'refused', reply: { code: 451, text: '4.2.1 mailbox busy' } });
  });

  it('no connection: 451 with outbox\'s message', () => {
    const error = new OutboxError('E_CONNECTION', 'cannot connect to 127.0.0.1, port 1: Connection refused', { transient: true });
    expect(deliveryForError(error, ['a@b.test'])).toEqual({ kind: 'refused', reply: { code: 451, text: '4.0.0 cannot connect to 127.0.0.1, port 1: Connection refused' } });
  });

  it('permanent: the next server\'s 55x, or 554', () => {
    expect(deliveryForError(new OutboxError('E_MESSAGE_REJECTED', 'x', { reply: reply(552, '5.3.4 too big', '5.3.4') }), [])).toEqual({ kind: 'refused', reply: { code: 552, text: '5.3.4 too big' } });
    expect(deliveryForError(new OutboxError('E_AUTH_FAILED', 'x', { reply: reply(535, '5.7.8 bad credentials', '5.7.8') }), [])).toEqual({ kind: 'refused', reply: { code: 554, text: '5.7.8 bad credentials' } });
    expect(deliveryForError(new OutboxError('E_CAPABILITY', 'the server does not offer DSN'), [])).toEqual({ kind: 'refused', reply: { code: 554, text: '5.0.0 the server does not offer DSN' } });
  });

  it('a local problem (configuration, disk) is 451: the administrator can fix it', () => {
    expect(deliveryForError(new OutboxError('E_CONFIG', 'account nosuch not found'), [])).toMatchObject({ kind: 'refused', reply: { code: 451 } });
    expect(deliveryForError(new OutboxError('E_IO', 'queue: cannot write: no space left on the device'), [])).toMatchObject({ kind: 'refused', reply: { code: 451 } });
  });

  it('a sender that -f would not take is 553', () => {
    expect(deliveryForError(new OutboxError('E_USAGE', 'invalid envelope-from address "a@b, c@d": give exactly one address'), [])).toMatchObject({ kind: 'refused', reply: { code: 553 } });
  });

  it('a bug is 451 without its details', () => {
    expect(deliveryForError(new TypeError('secret internals'), [])).toEqual({ kind: 'refused', reply: { code: 451, text: '4.3.0 local error in processing' } });
  });

  it('LMTP partial delivery: one reply per recipient', () => {
    const error = new PartialDeliveryError([
      { recipient: 'a@b.test', reply: reply(250, '2.0.0 ok', '2.0.0'), delivered: true },
      { recipient: 'c@d.test', reply: reply(452, '4.2.2 mailbox full', '4.2.2'), delivered: false },
      { recipient: 'e@f.test', reply: reply(550, '5.1.1 unknown', '5.1.1'), delivered: false },
    ]);
    expect(deliveryForError(error, ['a@b.test', 'c@d.test', 'e@f.test'])).toEqual({
      kind: 'per-recipient',
      replies: [
        { code: 250, text: '2.0.0 ok' },
        { code: 451, text: '4.2.2 mailbox full' },
        { code: 550, text: '5.1.1 unknown' },
      ],
    });
  });
});

describe('the send options for one mail', () => {
  const envelope: Envelope = { protocol: 'smtp', helo: 'c', mailFrom: '', mailParams: { ENVID: 'abc+2Bd' }, recipients: ['x@y.test'], rcptParams: [{}] };
  it('are `outbox [-a NAME] -f SENDER` with the client\'s ENVID decoded', () => {
    expect(sendOptionsFor({ account: 'work', file: '/etc/rc' }, envelope)).toMatchObject({ mode: 'sendmail', from: '<>', account: 'work', file: '/etc/rc', envid: 'abc+d', recipients: ['x@y.test'] });
  });
  it('xtext', () => {
    expect(decodeXtext('a+2Bb+3Dc')).toBe('a+b=c');
  });
});
