import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemSecretDeps } from '../../src/config/index.js';
import { OutboxError } from '../../src/errors.js';
import { formatServerEvent, serverLogger } from '../../src/cli/serve-log.js';
import { authFor, isLoopback } from '../../src/cli/serve.js';

describe('--auth=USER,passwordeval', () => {
  it('takes the first line the command prints and checks user and password together', async () => {
    const auth = await authFor({ user: 'joe', passwordeval: "printf 's3cret\\nignored\\n'" });
    expect(await auth.verify('joe', 's3cret')).toBe(true);
    expect(await auth.verify('joe', 's3cre')).toBe(false);
    expect(await auth.verify('jo', 's3cret')).toBe(false);
  });

  it('a failing command is a configuration error that does not show its output', async () => {
    const failed = await authFor({ user: 'joe', passwordeval: 'echo hunter2; exit 3' }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(OutboxError);
    expect((failed as OutboxError).code).toBe('E_CONFIG');
    expect((failed as Error).message).not.toContain('hunter2');
  });

  it('without passwordeval, no keyring, netrc or terminal: a configuration error', async () => {
    const deps = { ...systemSecretDeps({ HOME: '/nonexistent' }), keyring: undefined, prompt: undefined, systemNetrc: '/nonexistent' };
    await expect(authFor({ user: 'joe' }, deps)).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describe('server log', () => {
  it('one line per event, never a password', () => {
    expect(formatServerEvent({ type: 'listening', address: '127.0.0.1', port: 2525 })).toBe('listening on 127.0.0.1 port 2525');
    expect(formatServerEvent({ type: 'auth-failed', remoteAddress: '127.0.0.1', user: 'joe' })).toBe('authentication failed from=127.0.0.1 user="joe"');
    expect(formatServerEvent({ type: 'message', remoteAddress: '', mailFrom: '', recipients: ['a@b.test'], size: 3, reply: '250 2.0.0 Ok' })).toBe(
      'message from=stdin mailfrom=<> recipients=a@b.test size=3 reply="250 2.0.0 Ok"',
    );
  });

  it('--log=FILE appends the lines in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-serve-log-'));
    try {
      const file = join(dir, 'log');
      const log = serverLogger(file, { writeErr: () => {} })!;
      log({ type: 'listening', address: '127.0.0.1', port: 1 });
      log({ type: 'session', remoteAddress: '127.0.0.1', phase: 'start' });
      await log.settled();
      const lines = (await readFile(file, 'utf8')).trim().split('\n');
      expect(lines.map((l) => l.replace(/^\w{3} \d\d \d\d:\d\d:\d\d /, ''))).toEqual(['listening on 127.0.0.1 port 1', 'session start from=127.0.0.1']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--log=none logs nothing', () => {
    expect(serverLogger('none', { writeErr: () => {} })).toBeUndefined();
  });
});

describe('loopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.1', false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});
