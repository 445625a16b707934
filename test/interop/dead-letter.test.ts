/**
 * bsd-mailx keeps the caller's copy when sending fails. It writes the mail to
 * a temporary file, gives that file to its sendmail program as stdin, and when
 * the program exits non-zero it saves the rest of the file — from the file
 * offset it shares with the program — to ~/dead.letter. outbox reads such a
 * file by position without moving the offset (src/cli/stdin.ts), so the rest
 * is the whole mail. Before that, outbox read stdin to its end first and a
 * failed send left an empty dead.letter.
 *
 * Each case has its own HOME, so each dead.letter is its own.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup, OUTBOX, run, settledMail, uniqueId, waitForMail, type RunResult } from './helpers.js';

const setup = interopSetup();
const { alice, carol, full } = setup.users;

/** Longer than one read of outbox's (64 KiB), with a dot line and 8-bit text. */
function bodyFor(id: string): string {
  const lines = [`Sent by bsd-mailx, ${id}.`, '.', '..two dots', 'Grüße aus Köln'];
  for (let i = 0; lines.join('\n').length < 150_000 && i < 10_000; i++) lines.push(`line ${i} ${'z'.repeat(60)}`);
  return `${lines.join('\n')}\n`;
}

interface MailxRun {
  readonly result: RunResult;
  /** ~/dead.letter after the run, or undefined when mailx wrote none. */
  readonly deadLetter: string | undefined;
  /** What `stat` called outbox's stdin (the wrapper records it). */
  readonly stdinKind: string;
}

/**
 * `mail -n -s SUBJECT -r FROM RCPT…` with BODY on its stdin and `outbox
 * OPTIONS` as its sendmail program (mailx runs that setting as a program
 * path, so a wrapper carries the options). With `pipe`, the wrapper puts a
 * pipe between mailx's file and outbox.
 */
async function mailx(id: string, options: string[], { from, to, body, pipe = false }: { from: string; to: string[]; body: string; pipe?: boolean }): Promise<MailxRun> {
  const dir = join(setup.scratch, uniqueId('dead-letter'));
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const wrapper = join(dir, 'outbox-sendmail');
  const command = `${OUTBOX} ${options.join(' ')} --timeout=20 "$@"`;
  // stat reads nothing from its stdin (outbox's stdin): the shared offset stays where mailx left it.
  const recordKind = `stat -L -c %F /proc/self/fd/0 >${dir}/stdin-kind`;
  writeFileSync(wrapper, `#!/bin/sh\n${pipe ? `cat | { ${recordKind}; exec ${command}; }` : `${recordKind}\nexec ${command}`}\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(join(dir, 'mailrc'), `set sendmail=${wrapper}\n`);
  const result = await run('mail', ['-n', '-s', `mailx ${id}`, '-r', from, ...to], {
    input: body,
    env: { MAILRC: join(dir, 'mailrc'), HOME: home },
    cwd: dir,
  });
  const dead = join(home, 'dead.letter');
  return {
    result,
    deadLetter: existsSync(dead) ? readFileSync(dead, 'utf8') : undefined,
    stdinKind: readFileSync(join(dir, 'stdin-kind'), 'utf8').trim(),
  };
}

/** A loopback port where nothing listens: the server is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, setup.host, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** dead.letter holds the mail mailx wrote: its header block, then the body whole. */
function expectWholeMail(run: MailxRun, id: string, body: string): void {
  expect(run.deadLetter, `no dead.letter; mailx said: ${run.result.stderr}`).toBeDefined();
  const text = run.deadLetter!;
  const split = text.indexOf('\n\n');
  expect(split, 'dead.letter has a header block').toBeGreaterThan(0);
  expect(text.slice(0, split)).toMatch(new RegExp(`^Subject: mailx ${id}$`, 'm'));
  expect(text.slice(split + 2) === body, `the body in dead.letter (${text.length} characters) is not the whole body`).toBe(true);
}

const plain = [`--host=${setup.host}`, `--port=${setup.postfix.ports.smtp}`];

describe('bsd-mailx → outbox: a failed send leaves the whole mail in ~/dead.letter', () => {
  it('the server is down: outbox exits 75, mailx saves the whole mail', async () => {
    const id = uniqueId('mailx-down');
    const body = bodyFor(id);
    const sent = await mailx(id, [`--host=${setup.host}`, `--port=${await closedPort()}`], { from: 'mailx-user@sender.test', to: [alice], body });
    expect(sent.stdinKind).toBe('regular file');
    expect(sent.result.status).not.toBe(0);
    expect(sent.result.stderr).toMatch(/connection refused/);
    expect(sent.result.stdout + sent.result.stderr).toMatch(/error code 75/);
    expectWholeMail(sent, id, body);
  });

  it('Postfix refuses the mail after the data (554): outbox exits 69, mailx saves the whole mail, nobody gets it', async () => {
    const id = uniqueId('mailx-554');
    const body = bodyFor(id);
    const sent = await mailx(id, plain, { from: setup.postfix.rejectAfterDataSender, to: [alice], body });
    expect(sent.result.status).not.toBe(0);
    expect(sent.result.stderr).toMatch(/554 5\.7\.1/);
    expect(sent.result.stdout + sent.result.stderr).toMatch(/error code 69/);
    expectWholeMail(sent, id, body);
    expect(await settledMail('postfix', alice, id)).toHaveLength(0);
  });

  it('Dovecot LMTP refuses one recipient after the data (over quota): outbox exits 69, mailx saves the whole mail', async () => {
    const id = uniqueId('mailx-lmtp');
    const body = bodyFor(id);
    const lmtp = [`--host=${setup.host}`, `--port=${setup.dovecot.ports.lmtp}`, '--protocol=lmtp'];
    const sent = await mailx(id, lmtp, { from: 'mailx-user@sender.test', to: [carol, full], body });
    expect(sent.result.status).not.toBe(0);
    expect(sent.result.stdout + sent.result.stderr).toMatch(/error code 69/);
    expectWholeMail(sent, id, body);
    // LMTP delivered to the one it could; mailx cannot know, so the user decides what to do with the copy.
    await waitForMail('lmtp', carol, id);
  });
});

describe('bsd-mailx → outbox: delivery', () => {
  it('with mailx\'s temporary file as stdin (read by position): delivered whole, no dead.letter', async () => {
    const id = uniqueId('mailx-file');
    const body = bodyFor(id);
    const sent = await mailx(id, plain, { from: 'mailx-user@sender.test', to: [alice], body });
    expect(sent.stdinKind).toBe('regular file');
    expect(sent.result.status, sent.result.stderr).toBe(0);
    expect(sent.deadLetter).toBeUndefined();
    const [stored] = await waitForMail('postfix', alice, id);
    expect(stored!.raw.toString('utf8').endsWith(`\n\n${body}`)).toBe(true);
  });

  it('with a pipe between mailx and outbox (streamed as before): delivered whole', async () => {
    const id = uniqueId('mailx-pipe');
    const body = bodyFor(id);
    const sent = await mailx(id, plain, { from: 'mailx-user@sender.test', to: [alice], body, pipe: true });
    expect(sent.stdinKind).toBe('fifo');
    expect(sent.result.status, sent.result.stderr).toBe(0);
    const [stored] = await waitForMail('postfix', alice, id);
    expect(stored!.raw.toString('utf8').endsWith(`\n\n${body}`)).toBe(true);
  });
});
