/** The name the program is called by: `mailq` lists the queue, any other name is sendmail. */
import { describe, expect, it } from 'vitest';
import { argumentsForName } from '../../src/cli/main.js';

describe('argumentsForName', () => {
  it('as mailq, a link anywhere, lists the queue with the options given', () => {
    expect(argumentsForName('/usr/bin/mailq', [])).toEqual(['-bp']);
    expect(argumentsForName('mailq', ['--json', '--queue-dir=/q'])).toEqual(['-bp', '--json', '--queue-dir=/q']);
  });

  it('as outbox, sendmail or an unknown script, takes the arguments as they are', () => {
    for (const script of ['/usr/lib/node_modules/outbox/bin/outbox', '/usr/sbin/sendmail', '/opt/mailq/bin/outbox', 'mailq.sh', undefined]) {
      expect(argumentsForName(script, ['-t'])).toEqual(['-t']);
    }
  });

  it('as outboxd, a link anywhere, is the server (outbox serve) with the options given', () => {
    expect(argumentsForName('/usr/sbin/outboxd', ['--port=2525'])).toEqual(['serve', '--port=2525']);
  });
});
