/**
 * Local delivery's pieces (issue 15): which recipients are local, the MDA's
 * argv with hostile addresses refused, the exit-status table, CRLF → LF and
 * mboxrd quoting at every chunk boundary, the mbox's lock and rollback, and
 * the Maildir's tmp → new.
 */
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { checkMdaArgument, isLocalFor, mdaName } from '../../src/local/addresses.js';
import { deliverByCommand, mdaArguments } from '../../src/local/command.js';
import { deliverLocally, localFailure } from '../../src/local/deliver.js';
import { takeDotLock } from '../../src/local/dotlock.js';
import { mdaExitError } from '../../src/local/exit-status.js';
import { withLocalLineEnds } from '../../src/local/line-ends.js';
import { deliverToMaildir } from '../../src/local/maildir.js';
import { asctime, deliverToMbox, fromLine } from '../../src/local/mbox.js';
import { MboxrdQuoter } from '../../src/local/mboxrd.js';

async function* chunksOf(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function collect(source: AsyncIterable<Buffer>): Promise<string> {
  const all: Buffer[] = [];
  for await (const chunk of source) all.push(Buffer.from(chunk));
  return Buffer.concat(all).toString('latin1');
}

/** Every way to cut `text` in two, plus one byte at a time. */
function splits(text: string): string[][] {
  const ways = [[text], [...text]];
  for (let i = 1; i < text.length; i++) ways.push([text.slice(0, i), text.slice(i)]);
  return ways;
}

const rules = (over: Partial<{ mda: string | null; local_domains: string[]; force_mda: boolean }> = {}) => ({ mda: 'procmail -d %T', local_domains: [], force_mda: false, ...over });

describe('which recipients are local', () => {
  it('without @, or at a local domain (ASCII case ignored); all with force_mda; none without an mda', () => {
    expect(isLocalFor('root', rules())).toBe(true);
    expect(isLocalFor('root@host.example', rules())).toBe(false);
    expect(isLocalFor('root@HOST.example', rules({ local_domains: ['host.example'] }))).toBe(true);
    expect(isLocalFor('a@remote.example', rules({ force_mda: true }))).toBe(true);
    expect(isLocalFor('root', rules({ mda: null }))).toBe(false);
  });

  it('the MDA gets the user name for a local domain, the address otherwise', () => {
    expect(mdaName('root@host.example', rules({ local_domains: ['host.example'] }))).toBe('root');
    expect(mdaName('a@remote.example', rules({ force_mda: true }))).toBe('a@remote.example');
    expect(mdaName('joe', rules())).toBe('joe');
  });
});

describe("the MDA's arguments", () => {
  it('%T is one argument per recipient, also inside a word; %F the sender; <> is MAILER-DAEMON', () => {
    expect(mdaArguments(['procmail', '-f', '%F', '-d', '%T'], 'a b@x', ['joe', "o'brien"])).toEqual(['procmail', '-f', 'a b@x', '-d', 'joe', "o'brien"]);
    expect(mdaArguments(['deliver', '--to=%T', '--from=%F'], '', ['a', 'b'])).toEqual(['deliver', '--to=a', '--to=b', '--from=MAILER-DAEMON']);
    // A recipient's blanks and quotes stay inside its one argument: no shell reads them.
    expect(mdaArguments(['x', '%T'], 's@x', ['a; rm -rf /', '$(id)'])).toEqual(['x', 'a; rm -rf /', '$(id)']);
  });

  it('a put-in value is never read again: a sender holding %T stays one word, $& is no replacement pattern', () => {
    expect(mdaArguments(['procmail', '-f', '%F', '-d', '%T'], 'x%T@y', ['joe', 'ann'])).toEqual(['procmail', '-f', 'x%T@y', '-d', 'joe', 'ann']);
    expect(mdaArguments(['deliver', '--from=%F', '--to=%T'], '$&%F@y', ['a%F'])).toEqual(['deliver', '--from=$&%F@y', '--to=a%F']);
  });

  it.each([
    ['-oQ/tmp/x', /starts with "-"/],
    ['--help', /starts with "-"/],
    ['joe\nbcc', /control character/],
    ['joe\u0000', /control character/],
    ['joe\u007f', /control character/],
    ['joe\u0085', /control character/],
    ['', /empty/],
  ])('refuses the recipient %j before anything runs', (name, message) => {
    expect(() => mdaArguments(['procmail', '-d', '%T'], 's@x', ['ok', name])).toThrow(message);
    try {
      checkMdaArgument(name, 'recipient');
    } catch (error) {
      expect((error as OutboxError).code).toBe('E_MDA_ADDRESS');
      expect((error as OutboxError).transient).toBe(false);
      expect((error as OutboxError).message).not.toMatch(/[\n\u0000]/);
    }
  });

  it('refuses a hostile sender only where %F is used', () => {
    expect(() => mdaArguments(['procmail', '-f', '%F', '%T'], '-oQ', ['joe'])).toThrow(/the sender "-oQ"/);
    expect(mdaArguments(['procmail', '%T'], '-oQ', ['joe'])).toEqual(['procmail', 'joe']);
  });
});

describe('exit statuses', () => {
  it('0 delivers; 68, 69, 71, 75 are temporary; others permanent and named; a signal is temporary', () => {
    expect(mdaExitError('/usr/bin/procmail', 0, null)).toBeUndefined();
    for (const status of [68, 69, 71, 75]) expect(mdaExitError('procmail', status, null)!.transient).toBe(true);
    const nouser = mdaExitError('/usr/bin/procmail', 67, null)!;
    expect(nouser.transient).toBe(false);
    expect(nouser.code).toBe('E_MDA_FAILED');
    expect(nouser.message).toBe('local delivery failed: the MDA procmail exited with status 67 (EX_NOUSER)');
    expect(mdaExitError('x', 1, null)!.message).toBe('local delivery failed: the MDA x exited with status 1');
    expect(mdaExitError('x', null, 'SIGKILL')!.transient).toBe(true);
  });
});

describe('CRLF → LF', () => {
  const input = 'a\r\nb\rc\r\n\r\nd\r\r\ne\r';
  const expected = 'a\nb\rc\n\nd\r\ne\r';
  it.each(splits(input).map((parts) => [parts]))('%j', async (parts) => {
    expect(await collect(withLocalLineEnds(chunksOf(...parts)))).toBe(expected);
  });
});

describe('mboxrd quoting', () => {
  const input = 'From x\nFrom: header\n>From a\n>>From b\nFro\nFrom\n Fro\n>From\n>\n\nFrom ';
  const expected = '>From x\nFrom: header\n>>From a\n>>>From b\nFro\nFrom\n Fro\n>From\n>\n\n>From ';
  it.each(splits(input).map((parts) => [parts]))('%j', (parts) => {
    const quoter = new MboxrdQuoter();
    const out = parts.map((p) => quoter.push(Buffer.from(p)).toString('latin1')).join('') + quoter.end().toString('latin1');
    expect(out).toBe(expected);
  });

  it('a last line that only began like From is given back unquoted', () => {
    const quoter = new MboxrdQuoter();
    expect(quoter.push(Buffer.from('x\n>>Fro')).toString() + quoter.end().toString()).toBe('x\n>>Fro');
  });
});

describe('mailboxes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'outbox-local-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('maildir: one file in new/, LF line ends, Return-Path first; tmp/ left empty; folders made', async () => {
    const maildir = join(dir, 'Maildir');
    const name = await deliverToMaildir(maildir, 'a@b.example', chunksOf('Subject: x\r\n\r\nbody\r\n'));
    expect(await readdir(join(maildir, 'new'))).toEqual([name]);
    expect(await readdir(join(maildir, 'tmp'))).toEqual([]);
    expect(await readFile(join(maildir, 'new', name), 'utf8')).toBe('Return-Path: <a@b.example>\nSubject: x\n\nbody\n');
    expect((await stat(join(maildir, 'new', name))).mode & 0o777).toBe(0o600);
  });

  it('maildir: a failing source leaves nothing behind, and the error is temporary', async () => {
    const maildir = join(dir, 'Maildir');
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: x\r\n');
      throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    }
    const error = await deliverToMaildir(maildir, 'a@b', failing()).catch((e: unknown) => e as OutboxError);
    expect(error).toBeInstanceOf(OutboxError);
    expect((error as OutboxError).transient).toBe(true);
    expect(await readdir(join(maildir, 'tmp'))).toEqual([]);
    expect(await readdir(join(maildir, 'new'))).toEqual([]);
  });

  it('mbox: From line, Return-Path, quoted body, an empty line after each mail; the lock is gone afterwards', async () => {
    const mbox = join(dir, 'root');
    const now = new Date(2026, 11, 5, 8, 4, 27);
    await deliverToMbox(mbox, 'a@b', chunksOf('Subject: 1\r\n\r\nFrom here\r\nend'), { now });
    await deliverToMbox(mbox, '', chunksOf('Subject: 2\r\n\r\n>From there\r\n'), { now });
    expect(await readFile(mbox, 'utf8')).toBe(
      'From a@b Sat Dec  5 08:04:27 2026\nReturn-Path: <a@b>\nSubject: 1\n\n>From here\nend\n\n'
      + 'From MAILER-DAEMON Sat Dec  5 08:04:27 2026\nReturn-Path: <>\nSubject: 2\n\n>>From there\n\n',
    );
    await expect(stat(`${mbox}.lock`)).rejects.toThrow(/ENOENT/);
    expect(asctime(now)).toBe('Sat Dec  5 08:04:27 2026');
    expect(fromLine('a b@c', now)).toBe('From a_b@c Sat Dec  5 08:04:27 2026\n');
  });

  it('mbox: a write error truncates the file back to its old size', async () => {
    const mbox = join(dir, 'root');
    await writeFile(mbox, 'From old\n\nold mail\n\n');
    let writes = 0;
    const error = await deliverToMbox(mbox, 'a@b', chunksOf('Subject: x\r\n\r\n', 'more\r\n', 'and more\r\n'), {
      write: async (file, bytes) => {
        if (++writes === 3) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
        await file.write(bytes);
      },
    }).catch((e: unknown) => e as OutboxError);
    expect((error as OutboxError).code).toBe('E_MDA_FAILED');
    expect((error as OutboxError).transient).toBe(true);
    expect((error as OutboxError).message).toContain('ENOSPC');
    expect(await readFile(mbox, 'utf8')).toBe('From old\n\nold mail\n\n');
    await expect(stat(`${mbox}.lock`)).rejects.toThrow(/ENOENT/);
  });

  it("mbox: a live process's lock is waited for, boundedly, then the delivery fails temporarily", async () => {
    const mbox = join(dir, 'root');
    await writeFile(`${mbox}.lock`, `${process.pid}\n`);
    const error = await deliverToMbox(mbox, 'a@b', chunksOf('x\r\n'), { lock: { attempts: 3, delayMs: 1 } }).catch((e: unknown) => e as OutboxError);
    expect((error as OutboxError).transient).toBe(true);
    expect((error as OutboxError).message).toMatch(/mailbox is locked/);
    await expect(stat(mbox)).rejects.toThrow(/ENOENT/);
  });

  it("mbox: a dead process's lock, or one older than five minutes, is stale and taken", async () => {
    const lock = join(dir, 'box.lock');
    await writeFile(lock, '999999999\n'); // no such pid
    await (await takeDotLock(join(dir, 'box'), { attempts: 2, delayMs: 1 })).release();
    await writeFile(lock, `${process.pid}\n`);
    const old = new Date(Date.now() - 10 * 60_000);
    await utimes(lock, old, old);
    const taken = await takeDotLock(join(dir, 'box'), { attempts: 2, delayMs: 1 });
    expect(await readFile(lock, 'utf8')).toBe(`${process.pid}\n`);
    await taken.release();
  });

  it('%T in a mailbox path delivers per recipient, each with its own result; a name cannot climb out', async () => {
    const results = await deliverLocally({
      rules: rules({ mda: `maildir:${dir}/%T/Maildir` }),
      home: dir,
      reversePath: 's@x',
      recipients: ['alice', 'bob', '..'],
      message: () => chunksOf('Subject: x\r\n\r\nhi\r\n'),
      env: {},
    });
    expect(results.map((r) => [r.recipient, r.error?.code])).toEqual([['alice', undefined], ['bob', undefined], ['..', 'E_MDA_ADDRESS']]);
    expect(await readdir(join(dir, 'alice', 'Maildir', 'new'))).toHaveLength(1);
    const failure = localFailure(results)!;
    expect(failure.message).toMatch(/failed for 1 of 3 recipients/);
    expect(failure.transient).toBe(false);
  });
});

describe('a command as MDA', () => {
  it('gets the mail with LF line ends on stdin and each recipient as one argument, without a shell', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-mda-'));
    try {
      const script = join(dir, 'mda.sh');
      await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\ncat > "${dir}/mail"\n`, { mode: 0o755 });
      await deliverByCommand({ words: [script, '-f', '%F', '%T'], reversePath: 's@x', names: ['a b', '$(id)'], message: chunksOf('Subject: x\r\n\r\n', 'body\r\n'), env: process.env });
      expect(await readFile(join(dir, 'args'), 'utf8')).toBe('-f\ns@x\na b\n$(id)\n');
      expect(await readFile(join(dir, 'mail'), 'utf8')).toBe('Subject: x\n\nbody\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exit 75 is temporary, 67 permanent, a missing program permanent; an MDA that reads nothing is judged by its status', async () => {
    const run = (words: string[]) => deliverByCommand({ words, reversePath: 's@x', names: ['joe'], message: chunksOf('x'.repeat(1 << 20)), env: process.env }).then(() => undefined, (e: unknown) => e as OutboxError);
    expect((await run(['sh', '-c', 'exit 75']))!.transient).toBe(true);
    const nouser = (await run(['sh', '-c', 'exit 67']))!;
    expect(nouser.transient).toBe(false);
    expect(nouser.message).toBe('local delivery failed: the MDA sh exited with status 67 (EX_NOUSER)');
    const missing = (await run(['/nonexistent/mda', '%T']))!;
    expect(missing.transient).toBe(false);
    expect(missing.message).toBe('local delivery failed: the MDA mda could not be run (ENOENT)');
    expect(await run(['true'])).toBeUndefined();
  });
});
