/**
 * The session against a client that only wastes its time: protocol errors
 * are answered and the session goes on, up to a limit; so do commands that
 * move no mail; over-long lines are refused and skipped.
 */
import { describe, expect, it } from 'vitest';
import { startSession } from '../helpers/memory-backend.js';

describe('limits', () => {
  it('answers each protocol error and goes on, then says 421 at the tenth and closes', async () => {
    const { session, say } = startSession();
    expect(await say('EHLO c.test\r\n' + 'FROB\r\n'.repeat(9) + 'NOOP\r\n')).toMatch(
      /(500 5\.5\.2 Error: command not recognized\r\n){9}250 2\.0\.0 Ok\r\n$/,
    );
    expect(session.closed).toBe(false);
    expect(await say('RCPT TO:<a@b.test>\r\nNOOP\r\n')).toBe(
      '503 5.5.1 Error: need MAIL command\r\n421 4.7.0 Error: too many errors, closing connection\r\n',
    );
    expect(session.closed).toBe(true);
  });

  it('does not count a backend refusing recipients as a protocol error', async () => {
    const { backend, session, say } = startSession();
    backend.rcptReply = () => ({ code: 550, text: '5.1.1 No such user' });
    await say('EHLO c.test\r\nMAIL FROM:<>\r\n');
    expect(await say('RCPT TO:<a@b.test>\r\n'.repeat(20))).toBe('550 5.1.1 No such user\r\n'.repeat(20));
    expect(session.closed).toBe(false);
  });

  it('allows 100 commands that move no mail, and the count starts again at each accepted MAIL', async () => {
    const { session, say } = startSession({ maxErrors: 1000 });
    await say('EHLO c.test\r\n' + 'NOOP\r\n'.repeat(98) + 'MAIL FROM:<>\r\nRCPT TO:<a@b.test>\r\n');
    expect(await say('RSET\r\n'.repeat(100))).toBe('250 2.0.0 Ok\r\n'.repeat(100));
    expect(await say('VRFY a\r\nNOOP\r\n')).toBe('421 4.7.0 Error: too many commands without mail, closing connection\r\n');
    expect(session.closed).toBe(true);
  });

  it('refuses a 1 MB line with 500 and carries on', async () => {
    const { session, say } = startSession();
    expect(await say(`EHLO c.test\r\nNOOP ${'x'.repeat(1 << 20)}\r\nNOOP\r\n`)).toMatch(/\r\n500 5\.5\.2 Line too long\r\n250 2\.0\.0 Ok\r\n$/);
    expect(session.closed).toBe(false);
  });

  it('forgets an AUTH exchange broken by an over-long line', async () => {
    const { say } = startSession({ tls: 'implicit', auth: { verify: async () => true }, sleep: async () => undefined });
    await say('EHLO c.test\r\nAUTH LOGIN\r\n');
    expect(await say(`${'x'.repeat(5000)}\r\nNOOP\r\n`)).toBe('500 5.5.2 Line too long\r\n250 2.0.0 Ok\r\n');
  });
});
