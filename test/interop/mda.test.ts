/**
 * Local delivery with real programs (issue 15): the mail cron sends to root
 * (Debian cron's own command line, and a real cron daemon) into a Maildir; procmail and Dovecot's
 * dovecot-lda as real MDAs, run without a shell with the recipients as
 * arguments; fetchmail handing a fetched mail to `outbox -f %F %T`, which
 * delivers it locally. The interop Dovecot serves LMTP only, so fetchmail
 * fetches from a small POP3 server of the test's own (pop3-server.ts).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup, OUTBOX, run, runOutbox, sleep, uniqueId, waitForMail } from './helpers.js';
import { startPop3Server } from './pop3-server.js';

const setup = interopSetup();
const { bob } = setup.users;
const DOVECOT_LDA = '/usr/lib/dovecot/dovecot-lda';

/** A folder of the case's own with an msmtprc in it, used as HOME. */
function home(label: string, rc: string): string {
  const dir = join(setup.scratch, uniqueId(`mda-${label}`));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.msmtprc'), rc, { mode: 0o600 });
  return dir;
}

function maildirMails(dir: string): Buffer[] {
  const fresh = join(dir, 'new');
  return existsSync(fresh) ? readdirSync(fresh).sort().map((name) => readFileSync(join(fresh, name))) : [];
}

/** What Debian's cron writes to sendmail: its headers, UTF-8 text, the job's output. */
function cronMail(id: string): Buffer {
  return Buffer.from([
    'From: root (Cron Daemon)',
    'To: root',
    `Subject: Cron <root@interop> echo ${id}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: 8bit',
    'X-Cron-Env: <SHELL=/bin/sh>',
    'X-Cron-Env: <HOME=/root>',
    'X-Cron-Env: <LOGNAME=root>',
    '',
    `${id}: déjà vu, ünïcödé`,
    'From the job: a line that mbox would quote',
    '',
  ].join('\n'));
}

describe('cron → outbox → Maildir', () => {
  it("Debian cron's command line (-FCronDaemon -i -B8BITMIME -oem root) delivers into root's Maildir, byte for byte, silently", async () => {
    const id = uniqueId('cron');
    const maildir = join(setup.scratch, id, 'Maildir');
    const dir = home('cron', `defaults\nmda maildir:${maildir}\n\naccount default\n`);
    const mail = cronMail(id);
    const result = await runOutbox(['-FCronDaemon', '-i', '-B8BITMIME', '-oem', 'root'], mail, { env: { HOME: dir, USER: 'root', LOGNAME: 'root' } });
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: '' });
    const [stored, ...more] = maildirMails(maildir);
    expect(more).toEqual([]);
    const text = stored!.toString('utf8');
    // Everything cron wrote is there unchanged, 8-bit text included; on top, the Return-Path of a
    // final delivery (the sender is the user running it) and the Date and Message-ID outbox adds.
    expect(text.endsWith(mail.toString('utf8'))).toBe(true);
    const added = stored!.subarray(0, stored!.length - mail.length).toString('utf8');
    expect(added.split('\n').map((line) => line.replace(/: .*/, ''))).toEqual(['Return-Path', 'Date', 'Message-ID', '']);
    expect(text).toMatch(/^Return-Path: <root>\n/);
  });

  it('the same mail into an mbox: From_ line, >From quoting, the lock taken and given back', async () => {
    const id = uniqueId('cron-mbox');
    const mbox = join(setup.scratch, `${id}.mbox`);
    const dir = home('cron-mbox', `account default\nmda mbox:${mbox}\n`);
    for (let i = 0; i < 2; i++) {
      expect(await runOutbox(['-FCronDaemon', '-i', '-B8BITMIME', '-oem', 'root'], cronMail(`${id}-${i}`), { env: { HOME: dir, USER: 'root' } })).toMatchObject({ status: 0, stderr: '' });
    }
    const text = readFileSync(mbox, 'utf8');
    expect(text.match(/^From root \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/gm)).toHaveLength(2);
    expect(text.match(/^>From the job/gm)).toHaveLength(2);
    expect(existsSync(`${mbox}.lock`)).toBe(false);
    // Python's mailbox module, a real mbox reader, finds the two mails and their subjects.
    const read = await run('python3', ['-c', 'import mailbox,sys\nfor m in mailbox.mbox(sys.argv[1]): print(m["Subject"])', mbox]);
    expect(read.stdout).toBe(`Cron <root@interop> echo ${id}-0\nCron <root@interop> echo ${id}-1\n`);
  });
});

describe('a real cron daemon → outbox → Maildir', () => {
  /**
   * Debian's cron mails a job's output through /usr/sbin/sendmail, which
   * Postfix owns on this machine. So cron runs in a mount namespace of its
   * own (unshare -m, private propagation: nothing is seen outside it) where
   * /usr/sbin/sendmail is a wrapper that records its arguments and runs
   * outbox, and /etc/crontab, /etc/cron.d, the user crontabs and /run are
   * folders of the case (no job of the machine runs, no pid file is
   * touched). cron starts jobs at the minute: the wait is bounded at 75 s.
   */
  it("mails a job's output to root, delivered into root's Maildir", async () => {
    const id = uniqueId('crond');
    const base = join(setup.scratch, id);
    for (const sub of ['crond', 'spool', 'run']) mkdirSync(join(base, sub), { recursive: true });
    const maildir = join(base, 'Maildir');
    writeFileSync(join(base, 'crontab'), `SHELL=/bin/sh\nMAILTO=root\n* * * * * root echo ${id} déjà vu\n`, { mode: 0o644 });
    writeFileSync(join(base, 'msmtprc'), `account default\nmda maildir:${maildir}\n`, { mode: 0o644 });
    writeFileSync(join(base, 'sendmail'), [
      '#!/bin/sh',
      `printf '%s\\n' "$*" >> ${base}/argv`,
      `exec env OUTBOX_SYSTEM_CONFIG=${base}/msmtprc HOME=${base} ${process.execPath} ${OUTBOX} "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });
    const binds = [['crond', '/etc/cron.d'], ['crontab', '/etc/crontab'], ['spool', '/var/spool/cron/crontabs'], ['run', '/run'], ['sendmail', '/usr/sbin/sendmail']];
    writeFileSync(join(base, 'ns.sh'), `${binds.map(([from, to]) => `mount --bind ${base}/${from} ${to}`).join(' && ')} || exit 1\nexec /usr/sbin/cron -f -L 15\n`);
    const cron = spawn('unshare', ['-m', '--propagation', 'private', 'sh', join(base, 'ns.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    cron.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    cron.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    const ended = new Promise<void>((resolve) => cron.once('close', () => resolve()));
    try {
      for (let waited = 0; maildirMails(maildir).length === 0; waited += 500) {
        if (waited >= 75_000 || cron.exitCode !== null) throw new Error(`no mail from cron within ${waited} ms; cron said: ${output}`);
        await sleep(500);
      }
    } finally {
      cron.kill('SIGTERM');
      await Promise.race([ended, sleep(10_000)]);
    }
    expect(readFileSync(join(base, 'argv'), 'utf8').split('\n')[0]).toBe('-FCronDaemon -i -B8BITMIME -oem root');
    const [stored] = maildirMails(maildir);
    const text = stored!.toString('utf8');
    expect(text).toMatch(/^Return-Path: <root>\n/);
    expect(text).toContain('\nFrom: root (Cron Daemon)\nTo: root\n');
    expect(text).toMatch(/\nX-Cron-Env: <LOGNAME=root>\n/);
    expect(text.endsWith(`\n\n${id} déjà vu\n`)).toBe(true);
  }, 120_000);
});

describe('procmail as the MDA', () => {
  it('gets the sender and each recipient as arguments, without a shell, and files the mail in a Maildir per recipient', async () => {
    const id = uniqueId('procmail');
    const base = join(setup.scratch, id);
    mkdirSync(base, { recursive: true });
    const rcfile = join(base, 'procmailrc');
    // -m: procmail as a general mail filter with this rcfile; $1 is the first recipient argument.
    writeFileSync(rcfile, `MAILDIR=${base}\nLOGFILE=${base}/procmail.log\n:0\n${base}/$1/\n`, { mode: 0o644 });
    const dir = home('procmail', `account default\nfrom cron@interop.test\nmda /usr/bin/procmail -f %F -m ${rcfile} %T\n`);
    const mail = `Subject: ${id}\n\nhello procmail\n`;
    const result = await runOutbox(['joe'], mail, { env: { HOME: dir } });
    expect(result).toMatchObject({ status: 0, stderr: '', stdout: '' });
    const [stored] = maildirMails(join(base, 'joe'));
    expect(stored!.toString()).toMatch(new RegExp(`^From: cron@interop\\.test\\n[^]*\\nSubject: ${id}\\n\\nhello procmail\\n$`));
    // The mail is in joe's folder, so procmail got "joe" as $1; its log's From_ line shows the -f it got.
    expect(readFileSync(join(base, 'procmail.log'), 'utf8')).toMatch(/^From cron@interop\.test /m);
  });

  it("procmail's failure is reported with its status and nothing of the command line", async () => {
    const id = uniqueId('procmail-fail');
    const dir = home('procmail-fail', `account default\nfrom cron@interop.test\nmda /usr/bin/procmail -f %F -m /nonexistent/${id}/rc %T\n`);
    const result = await runOutbox(['joe'], `Subject: ${id}\n\nx\n`, { env: { HOME: dir } });
    expect(result.status).not.toBe(0);
    const ours = result.stderr.split('\n').filter((line) => line.startsWith('outbox:'));
    expect(ours).toEqual([expect.stringMatching(/^outbox: local delivery failed: the MDA procmail exited with status \d+( \(EX_\w+\))?$/)]);
  });
});

describe('dovecot-lda as the MDA', () => {
  it('delivers to a Dovecot user (force_mda: every recipient local, as full addresses), the same store LMTP writes to', async () => {
    const id = uniqueId('lda');
    const dir = home('lda', `account default\nfrom sender@sender.test\nforce_mda on\nmda ${DOVECOT_LDA} -c ${setup.dovecot.config} -f %F -d %T\n`);
    const result = await runOutbox([bob], `Subject: ${id}\nTo: ${bob}\n\nhello dovecot-lda\n`, { env: { HOME: dir } });
    expect(result).toMatchObject({ status: 0, stderr: '', stdout: '' });
    const [stored] = await waitForMail('lmtp', bob, id);
    expect(stored!.raw.toString()).toContain('\nhello dovecot-lda\n');
    // Dovecot's log names the LDA and the user (not LMTP): the mail came through dovecot-lda.
    expect(readFileSync(setup.dovecot.log, 'utf8')).toMatch(new RegExp(`lda\\(${bob.replace('.', '\\.')}\\).*saved mail to INBOX`));
  });

  it('an unknown user: dovecot-lda exits 67 (EX_NOUSER), outbox exits 69 naming it', async () => {
    const id = uniqueId('lda-nouser');
    const dir = home('lda-nouser', `account default\nfrom sender@sender.test\nforce_mda on\nmda ${DOVECOT_LDA} -c ${setup.dovecot.config} -f %F -d %T\n`);
    const result = await runOutbox([`nobody-${id}@${setup.domain}`], `Subject: ${id}\n\nx\n`, { env: { HOME: dir } });
    expect(result.stderr).toContain('local delivery failed: the MDA dovecot-lda exited with status 67 (EX_NOUSER)');
    expect(result.status).toBe(69);
  });
});

describe('fetchmail → outbox -f %F %T', () => {
  it('a fetched mail is handed to outbox as the MDA and delivered locally for the local user', async () => {
    const id = uniqueId('fetchmail');
    const maildirRoot = join(setup.scratch, id);
    const dir = home('fetchmail', `account default\nmda maildir:${maildirRoot}/%T/Maildir\n`);
    const mail = `Return-Path: <far@remote.test>\nFrom: far@remote.test\nTo: joe@remote.test\nSubject: ${id}\n\nfetched by fetchmail\n.a dotted line\n`;
    const pop3 = await startPop3Server('joe', 'secret', [mail]);
    try {
      const rc = join(dir, 'fetchmailrc');
      writeFileSync(rc, [
        'set no bouncemail',
        `poll 127.0.0.1 service ${pop3.port} protocol pop3 auth password`,
        `  user "joe" there with password "secret" is joe here`,
        "  sslproto ''",
        `  mda "${process.execPath} ${OUTBOX} -f %F %T"`,
        '',
      ].join('\n'));
      chmodSync(rc, 0o600);
      const result = await run('fetchmail', ['-f', rc, '--nosyslog', '--nodetach', '-v'], { env: { HOME: dir, FETCHMAILHOME: dir }, timeoutMs: 60_000 });
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      const [stored] = maildirMails(join(maildirRoot, 'joe', 'Maildir'));
      const text = stored!.toString();
      expect(text).toMatch(/^Return-Path: <far@remote\.test>\n/);
      expect(text).toContain(`Subject: ${id}\n`);
      expect(text).toContain('\nfetched by fetchmail\n.a dotted line\n');
      expect(pop3.remaining()).toBe(0);
    } finally {
      await pop3.close();
    }
  });
});
