import { describe, expect, it } from 'vitest';
import { loadConfiguration, userConfigPath, type FileSystem, type LoadRequest } from '../../src/config/files.js';
import { OutboxError } from '../../src/errors.js';

interface FakeFile {
  readonly content: string;
  readonly uid?: number;
  readonly mode?: number;
}

/** An in-memory file system: a string is a file owned by uid 1000 with mode 0600; `{ error }` fails with that code. */
function fakeFs(files: Record<string, FakeFile | string | { error: string }>): FileSystem {
  const lookup = (path: string) => {
    const entry = files[path];
    if (entry === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    if (typeof entry === 'object' && 'error' in entry) throw Object.assign(new Error(entry.error), { code: entry.error });
    return typeof entry === 'string' ? { content: entry } : entry;
  };
  return {
    readFile: (path) => Buffer.from(lookup(path).content),
    stat: (path) => {
      const file = lookup(path);
      return { uid: file.uid ?? 1000, mode: 0o100000 | (file.mode ?? 0o600) };
    },
    exists: (path) => files[path] !== undefined,
  };
}

function request(files: Parameters<typeof fakeFs>[0], extra: Partial<LoadRequest> = {}): LoadRequest {
  return {
    env: { OUTBOX_SYSTEM_CONFIG: '/sys/msmtprc' },
    home: '/home/u',
    euid: 1000,
    fs: fakeFs(files),
    runCommand: () => ({ stdout: '', status: 1 }),
    ...extra,
  };
}

function failure(req: LoadRequest): OutboxError {
  try {
    loadConfiguration(req);
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    return error as OutboxError;
  }
  throw new Error('no error');
}

describe('which files are read', () => {
  it('reads the system file, then ~/.msmtprc', () => {
    const config = loadConfiguration(
      request({ '/sys/msmtprc': 'account s\nhost hs\n', '/home/u/.msmtprc': 'account u\nhost hu\n' }),
    );
    expect(config.files).toEqual([
      { path: '/sys/msmtprc', role: 'system', loaded: true },
      { path: '/home/u/.msmtprc', role: 'user', loaded: true },
    ]);
    expect(config.accounts.map((a) => [a.name, a.file])).toEqual([
      ['u', '/home/u/.msmtprc'],
      ['s', '/sys/msmtprc'],
    ]);
  });

  it('uses /etc/msmtprc when OUTBOX_SYSTEM_CONFIG is not set', () => {
    const config = loadConfiguration(request({}, { env: {} }));
    expect(config.files[0]).toEqual({ path: '/etc/msmtprc', role: 'system', loaded: false, reason: 'No such file or directory' });
    expect(config.files[1]).toEqual({ path: '/home/u/.msmtprc', role: 'user', loaded: false, reason: 'No such file or directory' });
  });

  it('puts user accounts first and drops system accounts the user file redefines', () => {
    const config = loadConfiguration(
      request({
        '/sys/msmtprc': 'account shared\nhost sys\nfrom s@x\naccount sys\nhost hs\n',
        '/home/u/.msmtprc': 'account a\nhost ha\naccount shared\nhost mine\n',
      }),
    );
    expect(config.accounts.map((a) => `${a.name}@${a.file}`)).toEqual([
      'a@/home/u/.msmtprc',
      'shared@/home/u/.msmtprc',
      'sys@/sys/msmtprc',
    ]);
    // The user's account replaces the system one completely: no `from` leaks through.
    expect(config.accounts[1]!.explicit).toEqual({ host: 'mine' });
  });

  it('keeps each file\'s defaults to itself', () => {
    const config = loadConfiguration(
      request({ '/sys/msmtprc': 'defaults\nport 999\naccount s\nhost h\n', '/home/u/.msmtprc': 'account u\nhost h\n' }),
    );
    expect(config.accounts.find((a) => a.name === 'u')!.defaults).toEqual({});
    expect(config.accounts.find((a) => a.name === 's')!.defaults).toEqual({ port: 999 });
  });

  it('reads -C FILE instead of the user file', () => {
    const config = loadConfiguration(request({ '/home/u/.msmtprc': 'account u\nhost h\n', 'my.rc': 'account c\nhost h\n' }, { userFile: 'my.rc' }));
    expect(config.accounts.map((a) => a.name)).toEqual(['c']);
    expect(config.files[1]).toEqual({ path: 'my.rc', role: 'user', loaded: true });
  });

  it.each([
    [{}, { XDG_CONFIG_HOME: '/xdg' }, '/home/u/.msmtprc'],
    [{ '/home/u/.msmtprc': '' }, { XDG_CONFIG_HOME: '/xdg' }, '/home/u/.msmtprc'],
    [{ '/xdg/msmtp/config': '' }, { XDG_CONFIG_HOME: '/xdg' }, '/xdg/msmtp/config'],
    [{ '/xdg/msmtp/config': '', '/home/u/.msmtprc': '' }, { XDG_CONFIG_HOME: '/xdg' }, '/home/u/.msmtprc'],
    [{ '/home/u/.config/msmtp/config': '' }, {}, '/home/u/.config/msmtp/config'],
    [{ '/home/u/.config/msmtp/config': '' }, { XDG_CONFIG_HOME: '' }, '/home/u/.config/msmtp/config'],
    [{ '/home/u/.config/msmtp/config': '' }, { XDG_CONFIG_HOME: 'relative' }, '/home/u/.config/msmtp/config'],
  ])('user file with %j and %j is %s', (files, env, path) => {
    expect(userConfigPath({ env, home: '/home/u', fs: fakeFs(files) })).toBe(path);
  });

  it('skips a default user file that cannot be opened', () => {
    const config = loadConfiguration(request({ '/home/u/.msmtprc': { error: 'EACCES' } }));
    expect(config.files[1]).toEqual({ path: '/home/u/.msmtprc', role: 'user', loaded: false, reason: 'Permission denied' });
  });

  it.each([
    [{}, 'missing.rc: No such file or directory'],
    [{ 'missing.rc': { error: 'EACCES' } }, 'missing.rc: Permission denied'],
    [{ 'missing.rc': { error: 'EISDIR' } }, 'missing.rc: Is a directory'],
  ])('a -C file that cannot be read is an I/O error (%j)', (files, message) => {
    const error = failure(request(files, { userFile: 'missing.rc' }));
    expect(error.code).toBe('E_IO');
    expect(error.message).toBe(message);
  });

  it('refuses a system file with a syntax error', () => {
    const error = failure(request({ '/sys/msmtprc': 'account x\nhost h\nfoo\n', '/home/u/.msmtprc': 'account u\nhost h\n' }));
    expect(error.message).toBe('/sys/msmtprc:3: unknown command foo');
  });

  it('runs eval in both files', () => {
    const ran: string[] = [];
    loadConfiguration(
      request(
        { '/sys/msmtprc': 'account s\neval sys\n', '/home/u/.msmtprc': 'account u\neval user\n' },
        { runCommand: (c) => (ran.push(c), { stdout: 'host h\n', status: 0 }) },
      ),
    );
    expect(ran).toEqual(['sys', 'user']);
  });
});

describe('the permission rule for files that hold a password', () => {
  const withPassword = 'account a\nhost h\n\npassword s3cret\n';

  it.each([
    [0o600, 1000],
    [0o400, 1000],
  ])('accepts mode %o owned by the user', (mode, uid) => {
    expect(() => loadConfiguration(request({ '/home/u/.msmtprc': { content: withPassword, mode, uid } }))).not.toThrow();
  });

  it.each([
    [0o644, 'must have no more than user read/write permissions'],
    [0o640, 'must have no more than user read/write permissions'],
    [0o700, 'must have no more than user read/write permissions'],
    [0o604, 'must have no more than user read/write permissions'],
  ])('refuses mode %o', (mode, wording) => {
    const error = failure(request({ '/home/u/.msmtprc': { content: withPassword, mode } }));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(`/home/u/.msmtprc:4: contains secrets and therefore ${wording}`);
    expect(error.message).not.toContain('s3cret');
  });

  it('refuses a file owned by someone else', () => {
    const error = failure(request({ '/home/u/.msmtprc': { content: withPassword, uid: 0 } }));
    expect(error.message).toBe('/home/u/.msmtprc:4: contains secrets and therefore must be owned by you');
  });

  it('counts a password printed by eval', () => {
    const error = failure(
      request(
        { '/home/u/.msmtprc': { content: 'account a\neval pw\n', mode: 0o644 } },
        { runCommand: () => ({ stdout: 'password x\n', status: 0 }) },
      ),
    );
    expect(error.message).toContain('contains secrets');
  });

  it.each([
    ['a file without password', 'account a\nhost h\npasswordeval pass smtp\n', 1000],
    ['an empty password (it unsets)', 'account a\npassword\n', 1000],
    ['root', withPassword, 0],
    ['a system without uids', withPassword, null],
  ])('does not apply to %s', (_, content, euid) => {
    expect(() => loadConfiguration(request({ '/home/u/.msmtprc': { content, mode: 0o644, uid: 5 } }, { euid }))).not.toThrow();
  });

  it('does not apply to the system file', () => {
    expect(() => loadConfiguration(request({ '/sys/msmtprc': { content: withPassword, mode: 0o644, uid: 0 } }))).not.toThrow();
  });
});
