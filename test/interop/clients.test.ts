/**
 * Real mail clients hand their mail to bin/outbox as their sendmail program,
 * and Postfix delivers it: each must arrive with the right envelope sender
 * (Return-Path) at the right recipients.
 *
 * How each client calls its sendmail (observed with Debian 12's packages):
 *   mutt 2.2          sendmail [-B8BITMIME] [-f from] -- rcpt...   (-f with use_envelope_from)
 *   git send-email    sendmail-cmd [-f envelope-sender] -i rcpt...
 *   bsd-mailx         sendmail -i -t [-f from]                     (recipients from the headers only)
 *   PHP mail()        sendmail_path [additional params]            (recipients from the headers only: sendmail_path needs -t)
 * The last two rely on -t (recipients from To, Cc and Bcc).
 */
import { writeFileSync, mkdirSync, readFileSync, readdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  headerValue,
  interopSetup,
  OUTBOX,
  run,
  settledMail,
  uniqueId,
  waitForMail,
  withoutServerHeaders,
} from './helpers.js';

const setup = interopSetup();
const { alice, bob, carol } = setup.users;
/** outbox with the server options a user would put in the client's sendmail setting. */
const OUTBOX_COMMAND = `${OUTBOX} --host=${setup.host} --port=${setup.postfix.ports.smtp} --timeout=20`;

function scratchDir(name: string): string {
  const dir = join(setup.scratch, uniqueId(name));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The body of a stored mail (after the blank line), as text. */
function body(raw: Buffer): string {
  const text = raw.toString('utf8');
  return text.slice(text.indexOf('\n\n') + 2);
}

describe('mutt (batch mode)', () => {
  it('sends through outbox with -f from use_envelope_from and -B8BITMIME for an 8-bit body', async () => {
    const id = uniqueId('mutt');
    const dir = scratchDir('mutt');
    const muttrc = join(dir, 'muttrc');
    writeFileSync(muttrc, [
      `set sendmail="${OUTBOX_COMMAND}"`,
      'set from="Mutt User <mutt-user@sender.test>"',
      'set use_envelope_from=yes',
      'set use_8bitmime=yes',
      'set charset=utf-8',
      'set send_charset=utf-8',
      'set copy=no',
      `set folder="${dir}"`,
      '',
    ].join('\n'));
    const result = await run('mutt', ['-n', '-F', muttrc, '-s', `mutt ${id}`, '--', alice, bob], {
      input: `Grüße from mutt, ${id}.\n.\n..a dotted line\n`,
      cwd: dir,
    });
    expect(result.status, result.stderr + result.stdout).toBe(0);
    for (const user of [alice, bob]) {
      const [stored] = await waitForMail('postfix', user, id);
      expect(headerValue(stored!.raw, 'Return-Path')).toBe('<mutt-user@sender.test>');
      expect(headerValue(stored!.raw, 'Delivered-To')).toBe(user);
      expect(headerValue(stored!.raw, 'From')).toBe('Mutt User <mutt-user@sender.test>');
      expect(headerValue(stored!.raw, 'Content-Transfer-Encoding')).toBe('8bit');
      expect(body(stored!.raw)).toBe(`Grüße from mutt, ${id}.\n.\n..a dotted line\n`);
    }
  });

  it('reports outbox\'s failure for a refused recipient and nobody gets the mail', async () => {
    const id = uniqueId('mutt-refused');
    const dir = scratchDir('mutt');
    const muttrc = join(dir, 'muttrc');
    writeFileSync(muttrc, [`set sendmail="${OUTBOX_COMMAND} -f mutt-user@sender.test"`, 'set copy=no', `set folder="${dir}"`, ''].join('\n'));
    const result = await run('mutt', ['-n', '-F', muttrc, '-s', `mutt ${id}`, '--', carol, `no-such-user@${setup.domain}`], {
      input: `${id}\n`,
      cwd: dir,
    });
    // mutt passes on the sendmail program's failure: its message and a non-zero exit.
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/not accepted by the server|Error sending message/);
    expect(await settledMail('postfix', carol, id)).toHaveLength(0);
  });
});

describe('git send-email (--sendmail-cmd)', () => {
  it('sends a patch from git format-patch to --to and --cc with --envelope-sender; the patch text arrives intact', async () => {
    const id = uniqueId('git');
    const dir = scratchDir('git');
    const env = {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Patch Author',
      GIT_AUTHOR_EMAIL: 'author@sender.test',
      GIT_COMMITTER_NAME: 'Patch Author',
      GIT_COMMITTER_EMAIL: 'author@sender.test',
    };
    const git = async (...args: string[]) => {
      const result = await run('git', args, { cwd: dir, env });
      expect(result.status, `git ${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result;
    };
    await git('init', '-q', '-b', 'main', '.');
    await git('commit', '-q', '--allow-empty', '-m', 'Start');
    writeFileSync(join(dir, 'notes.txt'), `${id}\n.a line starting with a dot\n..two\nGrüße\n`);
    await git('add', 'notes.txt');
    await git('commit', '-q', '-m', `Add notes ${id}`);
    await git('format-patch', '-q', '-1', '-o', 'patches');
    const patch = join(dir, 'patches', readdirSync(join(dir, 'patches'))[0]!);

    const sent = await git('send-email', `--sendmail-cmd=${OUTBOX_COMMAND}`, '--envelope-sender=git-sender@sender.test',
      '--from=Patch Author <author@sender.test>', `--to=${alice}`, `--cc=${bob}`,
      '--confirm=never', '--suppress-cc=all', '--no-chain-reply-to', '--8bit-encoding=UTF-8', patch);
    expect(sent.stdout).toMatch(/^Result: OK$/m);

    const patchText = readFileSync(patch, 'utf8');
    const patchBody = patchText.slice(patchText.indexOf('\n\n') + 2);
    for (const user of [alice, bob]) {
      const [stored] = await waitForMail('postfix', user, id);
      expect(headerValue(stored!.raw, 'Return-Path')).toBe('<git-sender@sender.test>');
      expect(headerValue(stored!.raw, 'Delivered-To')).toBe(user);
      expect(headerValue(stored!.raw, 'Subject')).toBe(`[PATCH] Add notes ${id}`);
      expect(body(stored!.raw)).toBe(patchBody);
    }
  });
});

describe('clients that rely on -t', () => {
  it('bsd-mailx: `mail -r` hands over `-i -t -f from` and the recipients are read from the headers', async () => {
    const id = uniqueId('mailx');
    const dir = scratchDir('mailx');
    // mailx runs its `sendmail` setting as a program path, without arguments: a wrapper carries them.
    const wrapper = join(dir, 'outbox-sendmail');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${OUTBOX_COMMAND} "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(join(dir, 'mailrc'), `set sendmail=${wrapper}\n`);
    const result = await run('mail', ['-n', '-s', `mailx ${id}`, '-r', 'mailx-user@sender.test', alice, carol], {
      input: `Sent by bsd-mailx, ${id}.\n`,
      env: { MAILRC: join(dir, 'mailrc') },
      cwd: dir,
    });
    expect(result.status, result.stderr).toBe(0);
    for (const user of [alice, carol]) {
      const [stored] = await waitForMail('postfix', user, id);
      expect(headerValue(stored!.raw, 'Return-Path')).toBe('<mailx-user@sender.test>');
      expect(headerValue(stored!.raw, 'Delivered-To')).toBe(user);
      expect(body(stored!.raw)).toBe(`Sent by bsd-mailx, ${id}.\n`);
    }
  });

  it('PHP mail() with sendmail_path = "outbox … -t -i" and -f in the additional parameters', async () => {
    const id = uniqueId('php');
    const dir = scratchDir('php');
    const script = join(dir, 'send.php');
    writeFileSync(script, [
      '<?php',
      `$ok = mail("${alice}, ${bob}", "php ${id}", "Sent by PHP mail(), ${id}.\\n.\\nbye\\n",`,
      '  ["From" => "PHP Script <php-user@sender.test>"], "-f php-user@sender.test");',
      'exit($ok ? 0 : 1);',
      '',
    ].join('\n'));
    const result = await run('php', ['-n', '-d', `sendmail_path=${OUTBOX_COMMAND} -t -i`, script], { cwd: dir });
    expect(result.status, result.stderr + result.stdout).toBe(0);
    for (const user of [alice, bob]) {
      const [stored] = await waitForMail('postfix', user, id);
      expect(headerValue(stored!.raw, 'Return-Path')).toBe('<php-user@sender.test>');
      expect(headerValue(stored!.raw, 'Delivered-To')).toBe(user);
      expect(headerValue(stored!.raw, 'From')).toBe('PHP Script <php-user@sender.test>');
      expect(withoutServerHeaders(stored!.raw).toString('utf8')).toContain(`Sent by PHP mail(), ${id}.\n.\nbye\n`);
    }
  });
});
