import { describe, expect, it } from 'vitest';
import { findNetrcPassword, parseNetrc } from '../../src/config/netrc.js';
import { resolvePassword, type SecretDeps } from '../../src/config/secrets.js';
import { firstOutputLine, type CommandOutcome } from '../../src/config/shell.js';
import { OutboxError } from '../../src/errors.js';

const ACCOUNT = { name: 'work', file: '/home/u/.msmtprc', line: 4, host: 'smtp.example', user: 'bob', password: null, passwordeval: null };

interface Calls {
  ran: string[];
  keyring: unknown[];
  read: string[];
  prompted: string[];
}

/** `keyring`/`prompt`: the answer; `null` when there is no keyring program or no terminal. */
function deps(
  options: {
    commands?: Record<string, CommandOutcome>;
    keyring?: string | null;
    files?: Record<string, string>;
    prompt?: string | null;
  } = {},
): SecretDeps & { calls: Calls } {
  const calls: Calls = { ran: [], keyring: [], read: [], prompted: [] };
  const { keyring, prompt } = options;
  return {
    calls,
    home: '/home/u',
    systemNetrc: '/sys/netrc',
    runCommand: async (command) => {
      calls.ran.push(command);
      return options.commands?.[command] ?? { stdout: '', status: 127 };
    },
    keyring:
      keyring === null
        ? undefined
        : async (query) => {
            calls.keyring.push(query);
            return keyring;
          },
    readFile: (path) => {
      calls.read.push(path);
      const content = options.files?.[path];
      if (content === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return content;
    },
    prompt:
      prompt === null
        ? undefined
        : async (text) => {
            calls.prompted.push(text);
            return prompt;
          },
  };
}

describe('resolvePassword: sources in msmtp order', () => {
  it('1. password, without asking anything else', async () => {
    const d = deps({ keyring: 'k' });
    expect(await resolvePassword({ ...ACCOUNT, password: 'p', passwordeval: 'x' }, d)).toEqual({ password: 'p', source: 'password' });
    expect(d.calls).toEqual({ ran: [], keyring: [], read: [], prompted: [] });
  });

  it('2. passwordeval: the first line, without its line ending', async () => {
    const d = deps({ commands: { 'pass show smtp': { stdout: 'tok3n\r\nsecond line\n', status: 0 } }, keyring: 'k' });
    expect(await resolvePassword({ ...ACCOUNT, passwordeval: 'pass show smtp' }, d)).toEqual({ password: 'tok3n', source: 'passwordeval' });
    expect(d.calls.ran).toEqual(['pass show smtp']);
    expect(d.calls.keyring).toEqual([]);
  });

  it('2. passwordeval keeps blanks and takes a very long token', async () => {
    const token = 'y'.repeat(50_000);
    const d = deps({ commands: { blanks: { stdout: '  pw  ', status: 0 }, long: { stdout: `${token}\n`, status: 0 } } });
    expect((await resolvePassword({ ...ACCOUNT, passwordeval: 'blanks' }, d))!.password).toBe('  pw  ');
    expect((await resolvePassword({ ...ACCOUNT, passwordeval: 'long' }, d))!.password).toBe(token);
  });

  const COMMAND = "curl -su bob:hunter2 https://vault.example/smtp";
  const AT_LINE_9 = { sources: { passwordeval: { file: '/home/u/.msmtprc', line: 9 } } };
  it.each([
    [{ stdout: '', status: 0 }, '/home/u/.msmtprc:9: passwordeval: the command printed nothing'],
    [{ stdout: 'hunter2\n', status: 1 }, '/home/u/.msmtprc:9: passwordeval: the command failed with exit status 1'],
    [{ stdout: 'hunter2', status: null, signal: 'SIGTERM' }, '/home/u/.msmtprc:9: passwordeval: the command was killed by SIGTERM'],
    [{ stdout: 'hunter2', status: null, error: 'timed out after 120 s' }, '/home/u/.msmtprc:9: passwordeval: the command timed out after 120 s'],
    [{ stdout: '', status: null, error: 'could not be run (ENOENT)' }, '/home/u/.msmtprc:9: passwordeval: the command could not be run (ENOENT)'],
  ])('2. a failing passwordeval is a configuration error at its own line, without the command or its output (%j)', async (outcome, message) => {
    const error = await resolvePassword({ ...ACCOUNT, ...AT_LINE_9, passwordeval: COMMAND }, deps({ commands: { [COMMAND]: outcome } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxError);
    expect(error).toMatchObject({ code: 'E_CONFIG', message });
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).not.toContain('curl');
  });

  it('2. a failing passwordeval from the command line, or of unknown origin, is named so', async () => {
    const failing = deps({ commands: { [COMMAND]: { stdout: '', status: 3 } } });
    const fromCli = { ...ACCOUNT, sources: { passwordeval: 'command line' as const }, passwordeval: COMMAND };
    await expect(resolvePassword(fromCli, failing)).rejects.toThrow(/^passwordeval \(command line\): the command failed with exit status 3$/);
    await expect(resolvePassword({ ...ACCOUNT, passwordeval: COMMAND }, failing)).rejects.toThrow(/^\/home\/u\/\.msmtprc:4: account work: passwordeval: the command failed/);
  });

  it('3. the keyring, asked with host, service smtp and user', async () => {
    const d = deps({ keyring: 'from-keyring', files: { '/home/u/.netrc': 'machine smtp.example login bob password n' } });
    expect(await resolvePassword(ACCOUNT, d)).toEqual({ password: 'from-keyring', source: 'keyring' });
    expect(d.calls.keyring).toEqual([{ host: 'smtp.example', service: 'smtp', user: 'bob' }]);
    expect(d.calls.read).toEqual([]);
  });

  it('4. ~/.netrc, then the system netrc', async () => {
    const both = deps({
      files: { '/home/u/.netrc': 'machine smtp.example login bob password mine', '/sys/netrc': 'machine smtp.example login bob password sys' },
    });
    expect(await resolvePassword(ACCOUNT, both)).toEqual({ password: 'mine', source: 'netrc' });
    const systemOnly = deps({ keyring: null, files: { '/sys/netrc': 'machine smtp.example login bob password sys' } });
    expect(await resolvePassword(ACCOUNT, systemOnly)).toEqual({ password: 'sys', source: 'system netrc' });
    expect(systemOnly.calls.read).toEqual(['/home/u/.netrc', '/sys/netrc']);
  });

  it('5. the terminal prompt, last, and only when there is a terminal', async () => {
    const d = deps({ keyring: null, prompt: 'typed' });
    expect(await resolvePassword(ACCOUNT, d)).toEqual({ password: 'typed', source: 'prompt' });
    expect(d.calls.prompted).toEqual(['password for bob at smtp.example: ']);
    expect(await resolvePassword(ACCOUNT, deps({ keyring: null, prompt: null }))).toBeUndefined();
    expect(await resolvePassword(ACCOUNT, deps({ keyring: null }))).toBeUndefined();
  });

  it('skips the keyring and netrc without a user or a host', async () => {
    const d = deps({ keyring: 'k', files: { '/home/u/.netrc': 'machine smtp.example login bob password n' }, prompt: null });
    expect(await resolvePassword({ ...ACCOUNT, user: null }, d)).toBeUndefined();
    expect(await resolvePassword({ ...ACCOUNT, host: null }, d)).toBeUndefined();
    expect(d.calls.keyring).toEqual([]);
  });
});

describe('netrc', () => {
  const lookup = (text: string, host = 'smtp.example', user = 'bob') => findNetrcPassword(parseNetrc(text), host, user);

  it.each([
    ['machine smtp.example login bob password p1', 'p1'],
    ['machine SMTP.Example login bob password p1', 'p1'],
    ['machine smtp.example login Bob password p1', undefined],
    ['machine other login bob password no\nmachine smtp.example login bob password p2', 'p2'],
    ['machine smtp.example login eve password no\nmachine smtp.example login bob password p3', 'p3'],
    ['machine smtp.example login eve password no', undefined],
    ['machine smtp.example password no-login', undefined],
    ['default login bob password catch-all', undefined],
    ['# comment\nmachine smtp.example\n  login bob\n  password "q p6"\n', 'q p6'],
    ['machine smtp.example login bob password "a\\"b\\\\c"', 'a"b\\c'],
    ['machine smtp.example login bob account acct password p7', 'p7'],
    ['macdef init\nmachine smtp.example login bob password inside-macro\n\nmachine smtp.example login bob password p8', 'p8'],
    ['machine smtp.example login bob password p9 macdef x\nfoo\n\n', 'p9'],
    ['machine smtp.example\r\nlogin bob\r\npassword p10\r\n', 'p10'],
    ['machine smtp.example login bob', undefined],
    ['', undefined],
    ['password orphan login bob', undefined],
  ])('%j → %j', (text, password) => {
    expect(lookup(text)).toBe(password);
  });

  it('parses machine, default and their tokens', () => {
    expect(parseNetrc('machine a login x password y\ndefault login d password e')).toEqual([
      { machine: 'a', login: 'x', password: 'y' },
      { machine: null, login: 'd', password: 'e' },
    ]);
  });
});

describe('firstOutputLine', () => {
  it.each([
    [{ stdout: 'a\nb\n', status: 0 }, { ok: true, line: 'a' }],
    [{ stdout: Buffer.from('ü\r\n'), status: 0 }, { ok: true, line: 'ü' }],
    [{ stdout: '\n', status: 0 }, { ok: true, line: '' }],
    [{ stdout: 'no newline', status: 0 }, { ok: true, line: 'no newline' }],
    [{ stdout: '', status: 0 }, { ok: false, reason: 'the command printed nothing' }],
    [{ stdout: 'x', status: 2 }, { ok: false, reason: 'the command failed with exit status 2' }],
    [{ stdout: 'x', status: null, signal: 'SIGTERM' }, { ok: false, reason: 'the command was killed by SIGTERM' }],
    [{ stdout: '', status: null, error: 'could not be run (ENOENT)' }, { ok: false, reason: 'the command could not be run (ENOENT)' }],
  ])('%j → %j', (outcome, result) => {
    expect(firstOutputLine(outcome)).toEqual(result);
  });
});
