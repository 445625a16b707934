import { describe, expect, it } from 'vitest';
import { renderQueueListing } from '../../src/cli/queue-render.js';
import type { ListedMail } from '../../src/queue/listing.js';

const mail: ListedMail = {
  id: '0MX9Y2VSU10088F',
  status: 'queued',
  account: '',
  from: 'carol@example.test',
  size: 145,
  queued_at: '2026-12-05T05:00:00.000Z',
  attempts: 1,
  next_attempt: '2026-12-05T05:01:00.000Z',
  last_attempt: '2026-12-05T05:00:00.000Z',
  last_error: null,
  recipients: [
    { address: 'alice@example.test', state: 'pending', reply: null },
    { address: 'carol+greylisted@example.test', state: 'pending', reply: '450 4.7.1 greylisted' },
  ],
};

describe('renderQueueListing', () => {
  it('lines up the replies and leaves no blanks at the end of a recipient without one', () => {
    const text = renderQueueListing({ mails: [mail], corrupt: [] }, new Date('2026-12-05T05:00:30.000Z'));
    expect(text).toBe([
      '0MX9Y2VSU10088F  145 B  queued 30s ago  account (command line)  from <carol@example.test>',
      '  pending    <alice@example.test>',
      '  pending    <carol+greylisted@example.test>  450 4.7.1 greylisted',
      '  attempts 1; next attempt in 30s',
      '-- 1 mail, 145 B',
      '',
    ].join('\n'));
  });
});
