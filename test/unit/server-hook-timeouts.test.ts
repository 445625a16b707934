/**
 * A backend hook or password check that never settles must not hold the
 * session: after the limit the client is told 451 (454 for AUTH) and the
 * session goes on. Fake timers: nothing here waits for real time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendSession, ConnectionInfo, MessageSink } from '../../src/server/backend.js';
import type { ServerLogEvent } from '../../src/server/server-config.js';
import { Session } from '../../src/server/session.js';
import { MemoryBackend, productOptions } from '../helpers/memory-backend.js';

const NEVER = new Promise<never>(() => undefined);
const HOOK_MS = 5_000;
const COMMIT_MS = 20_000;
const TIMEOUT_REPLY = '451 4.3.0 Error: the backend did not answer in time\r\n';
const ENVELOPE = 'EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n';

type Hook = 'mail' | 'rcpt' | 'open' | 'write' | 'commit' | 'abort' | 'reset' | 'logout';

/** The memory backend, with the named hooks never answering (or answering only when `release` is called). */
class HangingBackend implements Backend {
  readonly memory = new MemoryBackend();
  readonly hang = new Set<Hook>();
  aborted = 0;
  /** Settles a hung open() with a working sink, as a backend that was only slow. */
  release: (() => void) | undefined;

  newSession(connection: ConnectionInfo): BackendSession {
    const inner = this.memory.newSession(connection);
    const stall = <T>(hook: Hook, work: () => T): T | Promise<never> => (this.hang.has(hook) ? NEVER : work());
    return {
      mail: (from, params) => stall('mail', () => inner.mail!(from, params)),
      rcpt: (to, params) => stall('rcpt', () => inner.rcpt!(to, params)),
      open: () => this.open(inner),
      reset: () => stall('reset', () => inner.reset!()),
      logout: () => stall('logout', () => inner.logout!()),
    };
  }

  private async open(inner: BackendSession): Promise<MessageSink> {
    if (this.hang.has('open')) await new Promise<void>((resolve) => (this.release = resolve));
    const sink = await inner.open();
    const stall = <T>(hook: Hook, work: () => T): T | Promise<never> => (this.hang.has(hook) ? NEVER : work());
    return {
      write: (bytes) => stall('write', () => sink.write(bytes)),
      commit: (envelope) => stall('commit', () => sink.commit(envelope)),
      abort: () => {
        this.aborted++;
        return stall('abort', () => sink.abort());
      },
    };
  }
}

function start(hang: Hook[], options: Parameters<typeof productOptions>[0] = {}) {
  const backend = new HangingBackend();
  for (const hook of hang) backend.hang.add(hook);
  const log: ServerLogEvent[] = [];
  const session = new Session(productOptions({ hookTimeoutMs: HOOK_MS, commitTimeoutMs: COMMIT_MS, onLog: (event) => log.push(event), ...options }), backend);
  /** Sends `text` and lets `ms` of fake time pass; the replies, or undefined if the session is still waiting. */
  const say = async (text: string, ms = 0): Promise<string | undefined> => {
    let replies: string | undefined;
    void session.receive(Buffer.from(text)).then((r) => (replies = r));
    await vi.advanceTimersByTimeAsync(ms);
    return replies;
  };
  return { backend, session, say, log };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('a backend hook that never answers', () => {
  it('MAIL: the session waits exactly the limit, then says 451 and takes the next command', async () => {
    const { say, session, log } = start(['mail']);
    await say('EHLO c.test\r\n');
    let replies: string | undefined;
    void session.receive(Buffer.from('MAIL FROM:<a@b.test>\r\nNOOP\r\n')).then((r) => (replies = r));
    await vi.advanceTimersByTimeAsync(HOOK_MS - 1);
    expect(replies).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(replies).toBe(`${TIMEOUT_REPLY}250 2.0.0 Ok\r\n`);
    expect(log).toEqual([{ type: 'error', remoteAddress: '', message: 'backend MAIL did not answer within 5 s' }]);
  });

  it('MAIL and RCPT each answer 451 once the limit passes, and the log names the hook', async () => {
    const mail = start(['mail']);
    await mail.say('EHLO c.test\r\n');
    expect(await mail.say('MAIL FROM:<a@b.test>\r\nMAIL FROM:<a@b.test>\r\n', HOOK_MS * 2)).toBe(TIMEOUT_REPLY.repeat(2));
    expect(mail.log.map((e) => e.type === 'error' && e.message)).toEqual(['backend MAIL did not answer within 5 s', 'backend MAIL did not answer within 5 s']);

    const rcpt = start(['rcpt']);
    expect(await rcpt.say(`${ENVELOPE}RCPT TO:<e@d.test>\r\nDATA\r\n`, HOOK_MS * 2)).toMatch(
      new RegExp(`250 2\\.1\\.0 Ok\\r\\n${TIMEOUT_REPLY}${TIMEOUT_REPLY}554 5\\.5\\.1 Error: no valid recipients\\r\\n$`),
    );
  });

  it('open: DATA is answered 451 instead of 354, and a sink that opens late is aborted', async () => {
    const { say, backend } = start(['open']);
    expect(await say(`${ENVELOPE}DATA\r\n`, HOOK_MS)).toMatch(new RegExp(`${TIMEOUT_REPLY}$`));
    backend.release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.aborted).toBe(1);
    expect(backend.memory.committed).toEqual([]);
  });

  it('a write that never completes: the Received field at DATA (451 instead of 354), or the body (451 after the dot)', async () => {
    const { say, backend } = start(['write']);
    expect(await say(`${ENVELOPE}DATA\r\n`, HOOK_MS)).toMatch(new RegExp(`${TIMEOUT_REPLY}$`));
    expect(backend.aborted).toBe(1);

    const body = start(['write'], { received: false });
    expect(await body.say(`${ENVELOPE}DATA\r\n`)).toMatch(/354 [^\r]*\r\n$/);
    expect(await body.say('hi\r\n.\r\nNOOP\r\n', HOOK_MS)).toBe(`${TIMEOUT_REPLY}250 2.0.0 Ok\r\n`);
    expect(body.backend.aborted).toBe(1);
    expect(body.backend.memory.committed).toEqual([]);
  });

  it('commit: after its own, longer limit the message is answered 451 and aborted', async () => {
    const { say, backend } = start(['commit']);
    await say(`${ENVELOPE}DATA\r\n`);
    expect(await say('hi\r\n.\r\n', COMMIT_MS - 1)).toBeUndefined();
    const { say: again, backend: other } = start(['commit']);
    await again(`${ENVELOPE}DATA\r\n`);
    expect(await again('hi\r\n.\r\nNOOP\r\n', COMMIT_MS)).toBe(`${TIMEOUT_REPLY}250 2.0.0 Ok\r\n`);
    expect(other.aborted).toBe(1);
    expect(backend.memory.committed).toEqual([]);
  });

  it('LMTP: each recipient is told 451 when the commit does not answer', async () => {
    const { say } = start(['commit'], { protocol: 'lmtp' });
    await say('LHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nRCPT TO:<e@d.test>\r\nDATA\r\n');
    expect(await say('hi\r\n.\r\n', COMMIT_MS)).toBe(TIMEOUT_REPLY.repeat(2));
  });

  it('reset, abort and logout that hang only cost the limit: RSET still says 250, the session still ends', async () => {
    const { say, session, log } = start(['reset', 'abort', 'logout']);
    expect(await say('EHLO c.test\r\n', HOOK_MS)).toMatch(/^250-mx\.test/);
    expect(await say('MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nbare\nLF\r\n.\r\n', HOOK_MS * 3)).toMatch(/554 5\.6\.0 [^\r]*\r\n$/);
    let ended = false;
    void session.end().then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(HOOK_MS);
    expect(ended).toBe(true);
    expect(log.map((e) => e.type === 'error' && e.message)).toEqual(
      expect.arrayContaining(['backend reset did not answer within 5 s', 'backend abort did not answer within 5 s', 'backend logout did not answer within 5 s']),
    );
  });

  it("with commitTimeoutMs 'none' (the relay) waits for the commit however long it takes, never telling the client 451 meanwhile", async () => {
    const { say } = start(['commit'], { commitTimeoutMs: 'none' });
    await say(`${ENVELOPE}DATA\r\n`);
    expect(await say('hi\r\n.\r\n', 24 * 3600_000)).toBeUndefined();
  });

  it('uses 60 s and 11 minutes when the configuration names no limit', async () => {
    const { say } = start(['mail'], { hookTimeoutMs: undefined });
    await say('EHLO c.test\r\n');
    expect(await say('MAIL FROM:<a@b.test>\r\n', 59_999)).toBeUndefined();
    const { say: commit } = start(['commit'], { commitTimeoutMs: undefined });
    await commit(`${ENVELOPE}DATA\r\n`);
    expect(await commit('hi\r\n.\r\n', 659_999)).toBeUndefined();
  });
});

describe('a password check that never answers', () => {
  it('is a temporary failure (454 4.7.0) after the hook limit, without the wait of a wrong password', async () => {
    const { say } = start([], { tls: 'implicit', auth: { verify: () => NEVER } });
    await say('EHLO c.test\r\n');
    const plain = Buffer.from('\0ann\0pw').toString('base64');
    expect(await say(`AUTH PLAIN ${plain}\r\n`, HOOK_MS - 1)).toBeUndefined();
    const { say: again } = start([], { tls: 'implicit', auth: { verify: () => NEVER } });
    await again('EHLO c.test\r\n');
    expect(await again(`AUTH PLAIN ${plain}\r\nNOOP\r\n`, HOOK_MS)).toBe('454 4.7.0 Temporary authentication failure\r\n250 2.0.0 Ok\r\n');
  });
});
