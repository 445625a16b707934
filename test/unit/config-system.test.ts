import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/files.js';
import { firstOutputLine } from '../../src/config/shell.js';
import {
  asyncShellRunner,
  homeDirectory,
  nodeFileSystem,
  secretToolKeyring,
  shellRunner,
  systemSubstitutionInputs,
} from '../../src/config/system.js';
import { OutboxError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'outbox-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same checks for the parser's blocking runner (`eval`) and passwordeval's child process. */
const runners = {
  shellRunner: (o: { timeoutMs?: number; maxBytes?: number }) => {
    const run = shellRunner(o);
    return async (command: string) => run(command);
  },
  asyncShellRunner,
};

describe.each(Object.entries(runners))('%s', (_name, makeRunner) => {
  const run = makeRunner({ timeoutMs: 2000, maxBytes: 4096 });
  const first = async (command: string) => firstOutputLine(await run(command));

  it('runs through /bin/sh and returns the first line', async () => {
    expect(await first('echo "port  26" | tr -s " "; echo second')).toEqual({ ok: true, line: 'port 26' });
  });

  it('gives the command /dev/null as stdin, so it never swallows the mail', async () => {
    expect(await first('cat')).toEqual({ ok: false, reason: 'the command printed nothing' });
  });

  it('reports a failing command without its text', async () => {
    expect(await first('echo x; exit 3')).toEqual({ ok: false, reason: 'the command failed with exit status 3' });
  });

  it('reports a command killed by a signal', async () => {
    expect(await first('kill -TERM $$')).toEqual({ ok: false, reason: 'the command was killed by SIGTERM' });
  });

  it('stops a command that runs too long, killing it', async () => {
    const outcome = await makeRunner({ timeoutMs: 200 })('sleep 5');
    expect(outcome.error).toBe('timed out after 0.2 s');
  });

  it('stops reading a command that prints without end, keeping the first line', async () => {
    expect(await first('yes')).toEqual({ ok: true, line: 'y' });
    expect(firstOutputLine(await run('while :; do printf x; done')).ok).toBe(false);
  });
});

describe('asyncShellRunner', () => {
  it('leaves the event loop free while the command runs', async () => {
    // The command waits for a file that only our event loop creates: with a
    // blocking runner it would wait until its time limit.
    const flag = join(dir, 'loop-ran');
    const timer = setTimeout(() => writeFileSync(flag, ''), 1);
    const outcome = await asyncShellRunner({ timeoutMs: 30_000 })(`while [ ! -e '${flag}' ]; do sleep 0.01; done; echo done`);
    clearTimeout(timer);
    expect(firstOutputLine(outcome)).toEqual({ ok: true, line: 'done' });
  });

  it('says a program that cannot be run could not be run, naming only the error', async () => {
    const { runChild } = await import('../../src/config/child-process.js');
    const outcome = await runChild(join(dir, 'no-such-program'), ['hunter2'], { timeoutMs: 1000, maxBytes: 100, stderr: 'ignore' });
    expect(outcome.error).toBe('could not be run (ENOENT)');
  });
});

describe('secretToolKeyring', () => {
  it('is absent when secret-tool is not on the PATH', () => {
    expect(secretToolKeyring({ PATH: dir })).toBeUndefined();
  });

  it('runs secret-tool lookup host H service smtp user U', async () => {
    const bin = join(dir, 'bin');
    rmSync(bin, { recursive: true, force: true });
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'secret-tool'),
      '#!/bin/sh\n[ "$*" = "lookup host smtp.example service smtp user bob" ] && printf "k3y" && exit 0\nexit 1\n',
      { mode: 0o755 },
    );
    const keyring = secretToolKeyring({ PATH: `/usr/bin:${bin}` })!;
    expect(keyring).toBeDefined();
    expect(await keyring({ host: 'smtp.example', service: 'smtp', user: 'bob' })).toBe('k3y');
    expect(await keyring({ host: 'smtp.example', service: 'smtp', user: 'eve' })).toBeUndefined();
  });
});

describe('systemSubstitutionInputs', () => {
  it('takes %U from USER, then LOGNAME, and %H from HOSTNAME', () => {
    expect(systemSubstitutionInputs({ env: { USER: 'u1', LOGNAME: 'l1', HOSTNAME: 'h1' } }).userName()).toBe('u1');
    expect(systemSubstitutionInputs({ env: { LOGNAME: 'l1' } }).userName()).toBe('l1');
    expect(systemSubstitutionInputs({ env: { HOSTNAME: 'h1' } }).hostName()).toBe('h1');
    expect(systemSubstitutionInputs({ env: {} }).hostName().length).toBeGreaterThan(0);
  });

  it('reads %M from the first line of the mailname file, and refuses a missing or empty one', () => {
    const mailname = join(dir, 'mailname');
    writeFileSync(mailname, 'mail.example.org\nignored\n');
    expect(systemSubstitutionInputs({ mailnameFile: mailname }).mailname()).toBe('mail.example.org');
    writeFileSync(mailname, '\n');
    expect(() => systemSubstitutionInputs({ mailnameFile: mailname }).mailname()).toThrow(`${mailname}: the file is empty`);
    const missing = join(dir, 'no-mailname');
    expect(() => systemSubstitutionInputs({ mailnameFile: missing }).mailname()).toThrow(
      new OutboxError('E_CONFIG', `${missing}: No such file or directory`),
    );
  });

  it('finds a canonical name, or keeps the name', async () => {
    expect(await systemSubstitutionInputs({ env: { HOSTNAME: 'localhost' } }).canonicalHostName()).toMatch(/\S/);
    expect(await systemSubstitutionInputs({ env: { HOSTNAME: 'no-such-host.invalid' } }).canonicalHostName()).toBe('no-such-host.invalid');
  });
});

describe('loading real files', () => {
  it('applies the permission rule to the real mode and owner', () => {
    const rc = join(dir, 'msmtprc');
    writeFileSync(rc, 'account a\nhost h\npassword p\n');
    chmodSync(rc, 0o644);
    const request = {
      userFile: rc,
      env: { OUTBOX_SYSTEM_CONFIG: join(dir, 'none') },
      home: dir,
      fs: nodeFileSystem,
      runCommand: shellRunner(),
    };
    // The rule never applies to root: as root, give the file to another user and act as that user.
    if (nodeFileSystem.stat(rc).uid === 0) chownSync(rc, 4242, 4242);
    const uid = nodeFileSystem.stat(rc).uid;
    expect(() => loadConfiguration({ ...request, euid: uid })).toThrow(`${rc}:3: contains secrets and therefore must have no more than user read/write permissions`);
    expect(() => loadConfiguration({ ...request, euid: uid + 1 })).toThrow(`${rc}:3: contains secrets and therefore must be owned by you`);
    chmodSync(rc, 0o600);
    expect(loadConfiguration({ ...request, euid: uid }).accounts.map((a) => a.name)).toEqual(['a']);
  });

  it('takes the home directory from HOME', () => {
    expect(homeDirectory({ HOME: '/x/y' })).toBe('/x/y');
    expect(homeDirectory({}).length).toBeGreaterThan(0);
  });
});
