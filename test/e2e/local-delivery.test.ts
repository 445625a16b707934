/**
 * Local delivery and routing end to end (issues 15, 16): the built CLI with
 * a configuration file, the capture server for the remote part, a Maildir,
 * an mbox and small MDA scripts for the local part. Each part's fate is
 * checked where it lands, with and without the queue; a part already
 * delivered is never delivered again.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedPort, makeSandbox, startCounting, testMail, type CountingServer, type Sandbox } from '../helpers/queue.js';

let box: Sandbox;
const servers: CountingServer[] = [];

beforeEach(() => {
  box = makeSandbox();
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  box.cleanup();
});

async function server(port = 0): Promise<CountingServer> {
  const started = await startCounting({ folder: join(box.root, `captured-${servers.length}`), port });
  servers.push(started);
  return started;
}

const maildirFiles = (dir: string): string[] => (existsSync(join(dir, 'new')) ? readdirSync(join(dir, 'new')).map((f) => readFileSync(join(dir, 'new', f), 'utf8')) : []);

/** An MDA that logs its arguments and the mail, and exits with the status in a file (0 when there is none). */
function mdaScript(): { path: string; log: string; setStatus(status: number): void } {
  const path = join(box.root, 'mda.sh');
  const log = join(box.root, 'mda.log');
  const statusFile = join(box.root, 'mda.status');
  writeFileSync(path, `#!/bin/sh\nprintf 'args:%s\\n' "$*" >> "${log}"\ncat >> "${log}"\nstatus=$(cat "${statusFile}" 2>/dev/null || echo 0)\nexit "$status"\n`, { mode: 0o755 });
  return { path, log, setStatus: (status) => writeFileSync(statusFile, String(status)) };
}

describe('local and remote recipients of one mail', () => {
  it('root goes to the Maildir, the remote recipient over SMTP; silent success; the same bytes in both (LF locally)', async () => {
    const remote = await server();
    const maildir = join(box.root, 'Maildir');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${remote.port}\nfrom cron@host.example\nmda maildir:${maildir}\n`);
    const result = await box.run(['-C', rc, 'root', 'b@example.net'], { input: testMail(1) });
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    const [captured, ...more] = await remote.waitForMessages(1);
    expect(more).toEqual([]);
    expect(captured!.recipients).toEqual(['b@example.net']);
    expect(captured!.mailFrom).toBe('cron@host.example');
    const [local, ...others] = maildirFiles(maildir);
    expect(others).toEqual([]);
    expect(local).toBe(`Return-Path: <cron@host.example>\n${captured!.raw.toString().replaceAll('\r\n', '\n')}`);
    expect(remote.commands.filter((c) => c.startsWith('RCPT'))).toEqual(['RCPT TO:<b@example.net>']);
  });

  it('local_domains makes root@host.example local; force_mda sends everyone to the MDA, which gets each as its own argument', async () => {
    const mda = mdaScript();
    const rc = box.config(`account default\nfrom s@host.example\nmda ${mda.path} -f %F %T\nlocal_domains host.example\n\naccount all : default\nforce_mda on\n`);
    expect(await box.run(['-C', rc, 'root@HOST.example', 'joe'], { input: testMail(2) })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await box.run(['-C', rc, '-a', 'all', 'x@remote.example'], { input: testMail(3) })).toEqual({ status: 0, stdout: '', stderr: '' });
    const log = readFileSync(mda.log, 'utf8');
    expect(log.match(/^args:.*$/gm)).toEqual(['args:-f s@host.example root joe', 'args:-f s@host.example x@remote.example']);
    expect(log).toContain('Subject: mail 2\n');
    expect(log).not.toContain('\r');
  });

  it('an MDA failing for good fails its part only: each part reported, the status is the failure, the remote part delivered', async () => {
    const remote = await server();
    const mda = mdaScript();
    mda.setStatus(67);
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${remote.port}\nfrom s@host.example\nmda ${mda.path} %T\n`);
    const result = await box.run(['-C', rc, 'b@example.net', 'nosuchuser'], { input: testMail(4) });
    expect(result.status).toBe(69);
    expect(result.stderr).toBe(
      'outbox: part 1 of 2 (account default, SMTP, to b@example.net): delivered\n'
      + 'outbox: part 2 of 2 (account default, mda mda.sh, to nosuchuser): not delivered: local delivery failed: the MDA mda.sh exited with status 67 (EX_NOUSER)\n'
      + 'outbox: 1 of 2 parts of the mail were not delivered\n',
    );
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['b@example.net']]);
  });

  it('a mail only for the MDA that exits 75 exits 75, and an option-like local recipient is refused before the MDA runs', async () => {
    const mda = mdaScript();
    mda.setStatus(75);
    const rc = box.config(`account default\nfrom s@host.example\nmda ${mda.path} %T\n`);
    const temp = await box.run(['-C', rc, 'joe'], { input: testMail(5) });
    expect(temp.status).toBe(75);
    expect(temp.stderr).toBe('outbox: local delivery failed: the MDA mda.sh exited with status 75 (EX_TEMPFAIL)\n');
    const hostile = await box.run(['-C', rc, '--', '-oQ/tmp/x'], { input: testMail(6) });
    expect(hostile.stderr).toContain('the recipient "-oQ/tmp/x" cannot be given to the MDA: it starts with "-"');
    expect(hostile.status).toBe(65);
    expect(readFileSync(mda.log, 'utf8').match(/^args:.*$/gm)).toEqual(['args:joe']);
  });

  it('aliases apply first: an alias of root to a remote address goes over SMTP, one to a local name to the MDA', async () => {
    const remote = await server();
    const mbox = join(box.root, 'admin.mbox');
    const aliases = join(box.root, 'aliases');
    writeFileSync(aliases, 'root: admin, ops@example.net\n');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${remote.port}\nfrom s@host.example\naliases ${aliases}\nmda mbox:${join(box.root, '%T.mbox')}\n`);
    expect(await box.run(['-C', rc, 'root'], { input: testMail(7) })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['ops@example.net']]);
    expect(readFileSync(mbox, 'utf8')).toMatch(/^From s@host\.example \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nReturn-Path: <s@host\.example>\n[^]*\nSubject: mail 7\n[^]*\n\nbody 7\n\.dot line\n\n$/);
  });
});

describe('parts and the queue', () => {
  it('on_failure: the server is down, the local part is delivered at once, only the remote part is queued, -q sends it once', async () => {
    const port = await closedPort();
    const maildir = join(box.root, 'Maildir');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${port}\nfrom s@host.example\nmda maildir:${maildir}\nqueue on_failure\nqueue_dir ${box.queue}\n`);
    expect(await box.run(['-C', rc, 'root', 'b@example.net'], { input: testMail(8) })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(maildirFiles(maildir)).toHaveLength(1);
    const [queued, ...others] = await box.list();
    expect(others).toEqual([]);
    expect(queued!.recipients.map((r) => r.address)).toEqual(['b@example.net']);
    expect(queued!.via).toBeUndefined();

    const remote = await server(port);
    expect((await box.run(['-q', '-C', rc])).status).toBe(0);
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['b@example.net']]);
    expect(maildirFiles(maildir)).toHaveLength(1);
    expect(await box.list()).toEqual([]);
  });

  it('on_failure: the MDA fails temporarily, the remote part is delivered, the local part is queued and delivered by -q, never twice', async () => {
    const remote = await server();
    const mda = mdaScript();
    mda.setStatus(75);
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${remote.port}\nfrom s@host.example\nmda ${mda.path} -f %F %T\nqueue on_failure\nqueue_dir ${box.queue}\n`);
    expect(await box.run(['-C', rc, 'b@example.net', 'joe'], { input: testMail(9) })).toEqual({ status: 0, stdout: '', stderr: '' });
    const [queued] = await box.list();
    expect(queued).toMatchObject({ via: 'mda', account: 'default', from: 's@host.example', recipients: [{ address: 'joe', state: 'pending' }] });

    const stillFailing = await box.run(['-q', '-C', rc]);
    expect(stillFailing.status).toBe(75);
    const [retried] = await box.list();
    expect(retried!.recipients[0]!.reply).toBe('451 4.3.0 local delivery failed: the MDA mda.sh exited with status 75 (EX_TEMPFAIL)');

    mda.setStatus(0);
    expect((await box.run(['-q', '-C', rc])).status).toBe(0);
    expect(await box.list()).toEqual([]);
    expect(readFileSync(mda.log, 'utf8').match(/^args:.*$/gm)).toEqual(['args:-f s@host.example joe', 'args:-f s@host.example joe', 'args:-f s@host.example joe']);
    expect(readFileSync(mda.log, 'utf8').split('Subject: mail 9\n')).toHaveLength(4);
    expect(await remote.messages()).toHaveLength(1);
  });

  it('queue always: one queue entry per part, each flushed its own way', async () => {
    const remote = await server();
    const maildir = join(box.root, 'Maildir');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${remote.port}\nfrom s@host.example\nmda maildir:${maildir}\nqueue always\nqueue_dir ${box.queue}\n`);
    expect(await box.run(['-C', rc, 'root', 'b@example.net'], { input: testMail(10) })).toEqual({ status: 0, stdout: '', stderr: '' });
    const listed = await box.list();
    expect(listed.map((m) => [m.via ?? 'smtp', m.recipients.map((r) => r.address)]).sort()).toEqual([['mda', ['root']], ['smtp', ['b@example.net']]]);
    expect(maildirFiles(maildir)).toEqual([]);
    expect((await box.run(['-q', '-C', rc])).status).toBe(0);
    expect(maildirFiles(maildir)).toHaveLength(1);
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['b@example.net']]);
    expect(await box.list()).toEqual([]);
  });
});

describe('route', () => {
  async function twoAccounts(): Promise<{ work: CountingServer; home: CountingServer; rc: string }> {
    const work = await server();
    const home = await server();
    const rc = box.config([
      'defaults',
      'route *@work.example work',
      'route boss@*.example work',
      '',
      'account work',
      'host 127.0.0.1',
      `port ${work.port}`,
      'from me@work.example',
      '',
      'account default',
      'host 127.0.0.1',
      `port ${home.port}`,
      'from me@home.example',
      '',
    ].join('\n'));
    return { work, home, rc };
  }

  it('sends once per account, each with its own envelope; the first match wins', async () => {
    const { work, home, rc } = await twoAccounts();
    const result = await box.run(['-C', rc, 'ann@work.example', 'mum@home.example', 'boss@home.example'], { input: testMail(11) });
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    const [toWork] = await work.waitForMessages(1);
    const [toHome] = await home.waitForMessages(1);
    expect([toWork!.mailFrom, toWork!.recipients]).toEqual(['me@work.example', ['ann@work.example', 'boss@home.example']]);
    expect([toHome!.mailFrom, toHome!.recipients]).toEqual(['me@home.example', ['mum@home.example']]);
  });

  it('-a wins over routes; -f is the envelope sender of every part, as with -a', async () => {
    const { work, home, rc } = await twoAccounts();
    expect((await box.run(['-C', rc, '-a', 'default', 'ann@work.example'], { input: testMail(12) })).status).toBe(0);
    expect((await home.waitForMessages(1))[0]!.recipients).toEqual(['ann@work.example']);
    expect((await box.run(['-C', rc, '-f', 'other@home.example', 'ann@work.example'], { input: testMail(13) })).status).toBe(0);
    expect((await work.waitForMessages(1))[0]!.mailFrom).toBe('other@home.example');
  });

  it('one account down: the other part is delivered, and with on_failure only the failed part is queued, under its account', async () => {
    const { home, rc } = await twoAccounts();
    const down = await closedPort();
    const rcDown = box.config(readFileSync(rc, 'utf8').replace(/account work\nhost 127\.0\.0\.1\nport \d+/, `account work\nhost 127.0.0.1\nport ${down}`));
    const direct = await box.run(['-C', rcDown, 'ann@work.example', 'mum@home.example'], { input: testMail(14) });
    expect(direct.status).toBe(75);
    expect(direct.stderr).toMatch(/^outbox: part 1 of 2 \(account work, SMTP, to ann@work\.example\): not delivered: .*\noutbox: part 2 of 2 \(account default, SMTP, to mum@home\.example\): delivered\n/);
    const queueing = box.config(`defaults\nqueue on_failure\nqueue_dir ${box.queue}\n${readFileSync(rcDown, 'utf8').replace(/^defaults\n/, '')}`);
    expect(await box.run(['-C', queueing, 'ann@work.example', 'mum@home.example'], { input: testMail(15) })).toEqual({ status: 0, stdout: '', stderr: '' });
    const [queued, ...others] = await box.list();
    expect(others).toEqual([]);
    expect(queued).toMatchObject({ account: 'work', from: 'me@work.example', recipients: [{ address: 'ann@work.example', state: 'pending' }] });
    expect((await home.waitForMessages(2)).map((m) => m.recipients)).toEqual([['mum@home.example'], ['mum@home.example']]);
  });

  it('--pretend shows the routes and where each recipient would go; without routes or an mda nothing is added', async () => {
    const { rc } = await twoAccounts();
    const pretend = await box.run(['-C', rc, '-P', 'ann@work.example', 'mum@home.example']);
    expect(pretend.status).toBe(0);
    expect(pretend.stdout.split('\n').slice(-6)).toEqual([
      'reading recipients from the command line',
      `route *@work.example -> account work (${rc}:2)`,
      `route boss@*.example -> account work (${rc}:3)`,
      'recipient ann@work.example -> account work, SMTP',
      'recipient mum@home.example -> account default, SMTP',
      '',
    ]);
    const plain = box.config('account default\nhost h\nfrom a@b\n');
    expect((await box.run(['-C', plain, '-P', 'x@y'])).stdout).toMatch(/aliases = \(not set\)\nreading recipients from the command line\n$/);
  });

  it('without a default account: routed recipients need none; one that matches no route gets msmtp\'s error', async () => {
    const work = await server();
    const rc = box.config(`defaults\nroute *@work.example work\n\naccount work\nhost 127.0.0.1\nport ${work.port}\nfrom me@work.example\n`);
    expect(await box.run(['-C', rc, 'ann@work.example'], { input: testMail(17) })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await work.waitForMessages(1))[0]!.recipients).toEqual(['ann@work.example']);
    const stray = await box.run(['-C', rc, 'ann@work.example', 'x@elsewhere.example'], { input: testMail(18) });
    expect(stray).toMatchObject({ status: 78, stderr: `outbox: account default not found in ${rc}\n` });
    expect(await work.messages()).toHaveLength(1);
  });

  it('--pretend with an mda: its settings after aliases, and each recipient local or not', async () => {
    const rc = box.config('account default\nhost h\nfrom a@b\nmda /usr/bin/procmail -d %T\nlocal_domains host.example\n');
    const pretend = await box.run(['-C', rc, '-P', 'root', 'root@host.example', 'x@y.example']);
    expect(pretend.stdout.split('\n').slice(-9)).toEqual([
      'aliases = (not set)',
      'mda = /usr/bin/procmail -d %T',
      'local_domains = host.example',
      'force_mda = off',
      'reading recipients from the command line',
      'recipient root -> account default, mda procmail',
      'recipient root@host.example -> account default, mda procmail',
      'recipient x@y.example -> account default, SMTP',
      '',
    ]);
  });

  it('an unknown account in a route is an error at its line', async () => {
    const rc = box.config('defaults\nroute * nope\naccount default\nhost h\nfrom a@b\n');
    expect(await box.run(['-C', rc, 'x@y'], { input: testMail(16) })).toMatchObject({ status: 78, stderr: `outbox: ${rc}:2: route: account nope not defined\n` });
  });
});
