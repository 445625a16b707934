/**
 * AUTH PLAIN and LOGIN on the server's side (RFC 4954, RFC 4616): the pure
 * SASL steps, then the session's replies. The wait after a failure is a
 * fake that records what it was asked for; nothing measures time.
 */
import { describe, expect, it, vi } from 'vitest';
import { scramSha256 } from '../../src/sasl/scram.js';
import { decodeResponse, scramCredentials, serverExchange } from '../../src/sasl/server.js';
import { startSession } from '../helpers/memory-backend.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

describe('SASL server steps', () => {
  it('PLAIN: with an initial response, or after an empty challenge', () => {
    expect(serverExchange('plain')!.start(b64('\0ann\0pw'))).toEqual({ kind: 'credentials', user: 'ann', password: 'pw' });
    const exchange = serverExchange('PLAIN')!;
    expect(exchange.start(undefined)).toEqual({ kind: 'challenge', challenge: '' });
    expect(exchange.respond(b64('ann\0ann\0p\u00e4ss'))).toEqual({ kind: 'credentials', user: 'ann', password: 'p\u00e4ss' });
  });

  it('PLAIN: refuses another authzid, a missing field, bad base64; "*" cancels', () => {
    const start = (initial: string) => serverExchange('PLAIN')!.start(initial);
    expect(start(b64('bob\0ann\0pw'))).toEqual({ kind: 'malformed', why: 'message' });
    expect(start(b64('ann\0pw'))).toEqual({ kind: 'malformed', why: 'message' });
    expect(start(b64('\0\0pw'))).toEqual({ kind: 'malformed', why: 'message' });
    expect(start('AG!u')).toEqual({ kind: 'malformed', why: 'base64' });
    expect(start('AGFubgBwdw')).toEqual({ kind: 'malformed', why: 'base64' });
    expect(start('*')).toEqual({ kind: 'cancelled' });
  });

  it('LOGIN: user name, then password', () => {
    const exchange = serverExchange('login')!;
    expect(exchange.start(undefined)).toEqual({ kind: 'challenge', challenge: 'VXNlcm5hbWU6' });
    expect(exchange.respond(b64('ann'))).toEqual({ kind: 'challenge', challenge: 'UGFzc3dvcmQ6' });
    expect(exchange.respond(b64('pw'))).toEqual({ kind: 'credentials', user: 'ann', password: 'pw' });
    expect(serverExchange('CRAM-MD5')).toBeUndefined();
  });

  it('decodes strict base64 of UTF-8 only; "=" is the empty response', () => {
    expect(decodeResponse('=')).toBe('');
    expect(decodeResponse('YQ==')).toBe('a');
    expect(decodeResponse('YQ')).toBeUndefined();
    expect(decodeResponse('/w==')).toBeUndefined(); // 0xff is not UTF-8
  });
});

function authSession(options: { loopback?: boolean; tls?: 'starttls' | 'implicit' } = { tls: 'implicit' }) {
  const waits: number[] = [];
  const checked: string[] = [];
  const started = startSession({
    ...options,
    auth: {
      verify: async (user, password) => {
        checked.push(user);
        return user === 'ann' && password === 'right';
      },
    },
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { ...started, waits, checked };
}

describe('AUTH in the session', () => {
  it('accepts PLAIN with an initial response, then allows MAIL', async () => {
    const { say } = authSession();
    expect(await say(`EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nAUTH PLAIN ${b64('\0ann\0right')}\r\nMAIL FROM:<a@b.test>\r\n`)).toMatch(
      /\r\n530 5\.7\.0 Authentication required\r\n235 2\.7\.0 Authentication successful\r\n250 2\.1\.0 Ok\r\n$/,
    );
  });

  it('accepts PLAIN after an empty 334 and LOGIN after two challenges', async () => {
    const plain = authSession();
    await plain.say('EHLO c.test\r\n');
    expect(await plain.say('AUTH PLAIN\r\n')).toBe('334 \r\n');
    expect(await plain.say(`${b64('\0ann\0right')}\r\n`)).toBe('235 2.7.0 Authentication successful\r\n');
    const login = authSession();
    await login.say('EHLO c.test\r\n');
    expect(await login.say('AUTH LOGIN\r\n')).toBe('334 VXNlcm5hbWU6\r\n');
    expect(await login.say(`${b64('ann')}\r\n`)).toBe('334 UGFzc3dvcmQ6\r\n');
    expect(await login.say(`${b64('right')}\r\n`)).toBe('235 2.7.0 Authentication successful\r\n');
  });

  it('answers 535 to a wrong password after a wait that doubles, up to 60 s', async () => {
    const { say, waits } = authSession();
    await say('EHLO c.test\r\n');
    for (let i = 0; i < 8; i++) {
      expect(await say(`AUTH PLAIN ${b64('\0ann\0wrong')}\r\n`)).toBe('535 5.7.8 Error: authentication failed\r\n');
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  });

  it('answers 501 to bad base64 and to "*", and a second AUTH with 503', async () => {
    const { say, checked } = authSession();
    expect(await say('EHLO c.test\r\nAUTH PLAIN !!!!\r\nAUTH LOGIN\r\n*\r\n')).toMatch(
      /501 5\.5\.2 Error: invalid base64 data\r\n334 VXNlcm5hbWU6\r\n501 5\.7\.0 Authentication aborted\r\n$/,
    );
    expect(await say(`AUTH PLAIN ${b64('\0ann\0right')}\r\nAUTH PLAIN ${b64('\0ann\0right')}\r\n`)).toBe(
      '235 2.7.0 Authentication successful\r\n503 5.5.1 Error: already authenticated\r\n',
    );
    expect(checked).toEqual(['ann']);
  });

  it('refuses an unknown mechanism, AUTH before EHLO, and AUTH inside a transaction', async () => {
    const { say } = authSession();
    expect(await say('AUTH PLAIN\r\nEHLO c.test\r\nAUTH CRAM-MD5\r\nAUTH\r\n')).toMatch(
      /^503 5\.5\.1 Error: send EHLO\/HELO first\r\n[^]*504 5\.5\.4 Error: unsupported authentication mechanism\r\n501 5\.5\.4 Syntax: AUTH mechanism \[initial-response\]\r\n$/,
    );
  });

  it('wants STARTTLS first when not over TLS and not on loopback', async () => {
    const { say } = authSession({ tls: 'starttls' });
    expect(await say(`EHLO c.test\r\nAUTH PLAIN ${b64('\0ann\0right')}\r\n`)).toMatch(
      /\r\n530 5\.7\.0 Must issue a STARTTLS command first\r\n$/,
    );
    const loopback = authSession({ loopback: true });
    expect(await loopback.say(`EHLO c.test\r\nAUTH PLAIN ${b64('\0ann\0right')}\r\n`)).toMatch(/235 2\.7\.0 .*\r\n$/);
  });

  it('never shows the password in the transcript, and logs a failure with the user only', async () => {
    const lines: string[] = [];
    const events: unknown[] = [];
    const { say } = startSession({
      tls: 'implicit',
      auth: { verify: async () => false },
      sleep: async () => undefined,
      onTranscript: (direction, line) => lines.push(`${direction}: ${line}`),
      onLog: (event) => events.push(event),
    });
    await say(`EHLO c.test\r\nAUTH PLAIN ${b64('\0ann\0s3cret')}\r\nAUTH LOGIN\r\n${b64('ann')}\r\n${b64('s3cret')}\r\n`);
    expect(lines.join('\n')).not.toMatch(new RegExp(`s3cret|${b64('\0ann\0s3cret')}|${b64('s3cret')}`));
    expect(lines).toContain('C: AUTH PLAIN [redacted]');
    expect(events).toEqual([
      { type: 'auth-failed', remoteAddress: '', user: 'ann' },
      { type: 'auth-failed', remoteAddress: '', user: 'ann' },
    ]);
  });

  it('answers 454 when the checker itself fails', async () => {
    const { say } = startSession({ tls: 'implicit', auth: { verify: async () => Promise.reject(new Error('no')) } });
    expect(await say(`EHLO c.test\r\nAUTH PLAIN ${b64('\0ann\0pw')}\r\n`)).toMatch(/454 4\.7\.0 Temporary authentication failure\r\n$/);
  });
});

describe('the real wait after a failed AUTH', () => {
  it('is a timer: the 535 comes once 1 s has passed (fake timers, nothing measured)', async () => {
    vi.useFakeTimers();
    try {
      const { say } = startSession({ tls: 'implicit', auth: { verify: async () => false } });
      await say('EHLO c.test\r\n');
      let reply: string | undefined;
      void say(`AUTH PLAIN ${b64('\0ann\0pw')}\r\n`).then((text) => (reply = text));
      await vi.advanceTimersByTimeAsync(999);
      expect(reply).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(reply).toBe('535 5.7.8 Error: authentication failed\r\n');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a client that leaves during the wait', () => {
  it('cuts the wait short, so closing the server never waits for it (fake timers, none advanced)', async () => {
    vi.useFakeTimers();
    try {
      const { say, session } = startSession({ tls: 'implicit', auth: { verify: async () => false } });
      await say('EHLO c.test\r\n');
      let settled = false;
      const pending = say(`AUTH PLAIN ${b64('\0ann\0pw')}\r\n`).then(() => (settled = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(settled).toBe(false);
      session.hangUp();
      await pending;
      expect(settled).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('AUTH SCRAM-SHA-256 in the session', () => {
  const stored = scramCredentials('right')!;
  const scramSession = (lookup: (user: string) => Promise<typeof stored | undefined>) => {
    const waits: number[] = [];
    const started = startSession({
      tls: 'implicit',
      auth: { verify: async () => false, scram: lookup },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    return { ...started, waits };
  };

  /** Runs outbox's own client through the session; the session's last reply. */
  async function exchange(say: (text: string) => Promise<string>, password: string): Promise<string> {
    const client = scramSha256.start({ user: 'ann', secret: password });
    let reply = await say(`AUTH SCRAM-SHA-256 ${Buffer.from(client.initialResponse()!).toString('base64')}\r\n`);
    for (let round = 0; round < 3 && reply.startsWith('334 '); round++) {
      const response = client.respond(Buffer.from(reply.slice(4, -2), 'base64'));
      reply = await say(`${response.length ? Buffer.from(response).toString('base64') : ''}\r\n`);
    }
    return reply;
  }

  it('is offered first when the server has stored keys, and lets the client in with the right password', async () => {
    const { say } = scramSession(async (user) => (user === 'ann' ? stored : undefined));
    expect(await say('EHLO c.test\r\n')).toMatch(/\r\n250[- ]AUTH SCRAM-SHA-256 PLAIN LOGIN\r\n/);
    expect(await exchange(say, 'right')).toBe('235 2.7.0 Authentication successful\r\n');
    expect(await say('MAIL FROM:<a@b.test>\r\n')).toBe('250 2.1.0 Ok\r\n');
  });

  it('refuses a wrong password with 535 after the wait, as PLAIN does', async () => {
    const { say, waits } = scramSession(async () => stored);
    await say('EHLO c.test\r\n');
    expect(await exchange(say, 'wrong')).toBe('535 5.7.8 Error: authentication failed\r\n');
    expect(waits).toEqual([1000]);
  });

  it('is a temporary failure (454) when the stored keys cannot be looked up', async () => {
    const { say } = scramSession(async () => {
      throw new Error('keyring locked');
    });
    await say('EHLO c.test\r\n');
    expect(await exchange(say, 'right')).toBe('454 4.7.0 Temporary authentication failure\r\n');
    expect(await say('NOOP\r\n')).toBe('250 2.0.0 Ok\r\n');
  });

  it('is not offered without stored keys', async () => {
    const { say } = authSession();
    expect(await say('EHLO c.test\r\n')).toMatch(/\r\n250[- ]AUTH PLAIN LOGIN\r\n/);
    expect(await say('AUTH SCRAM-SHA-256\r\n')).toBe('504 5.5.4 Error: unsupported authentication mechanism\r\n');
  });
});
