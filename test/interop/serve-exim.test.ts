/**
 * BDAT (RFC 3030) from an independent client: Debian's Exim, whose smtp
 * transport sends CHUNKING whenever the server offers it, into `outbox
 * serve --maildir`. The other clients in Debian send no BDAT (swaks
 * 20201014, msmtp, Postfix, Python's smtplib, Perl's Net::SMTP), so without
 * Exim only outbox's own client would have exercised the server's BDAT.
 * Exim is unpacked, not installed (serve-exim.sh: it conflicts with
 * Postfix), and runs one delivery in the foreground (`-odf`) with `-v`, so
 * its side of the dialogue is checked as well as what was stored.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { interopSetup, REPO, run, SENDER, testMail, uniqueId } from './helpers.js';
import { startServe, stopAllServers } from './serve-process.js';

const setup = interopSetup();
const EXIM_DIR = join(setup.dir, 'exim');
const TLS = [`--tls-cert-file=${setup.tls.cert}`, `--tls-key-file=${setup.tls.key}`];

// Fetching takes seconds, so it happens once, while the file is collected.
const prepared = spawnSync('bash', [join(REPO, 'test/interop/serve-exim.sh'), EXIM_DIR], { encoding: 'utf8', timeout: 900_000 });
const ready = existsSync(join(EXIM_DIR, 'ready')) ? readFileSync(join(EXIM_DIR, 'ready'), 'utf8').trim().split('\t') : undefined;

afterEach(async () => {
  await stopAllServers();
});

/** An Exim configuration of its own: everything in `dir`, all mail to outbox serve on `port`. */
function eximConfig(dir: string, port: number, tls: boolean): string {
  for (const sub of ['spool', 'log']) {
    mkdirSync(join(dir, sub), { recursive: true });
    // Exim writes its spool and log as its own user, once it has given up root.
    chownSync(join(dir, sub), uid('Debian-exim'), 0);
  }
  const file = join(dir, 'exim.conf');
  writeFileSync(
    file,
    [
      `exim_path = ${ready![0]}`,
      'primary_hostname = exim.interop.test',
      `spool_directory = ${dir}/spool`,
      `log_file_path = ${dir}/log/%slog`,
      'keep_environment =',
      'begin routers',
      'to_outbox:',
      '  driver = manualroute',
      `  route_list = * ${setup.host}::${port} byname`,
      '  self = send',
      '  transport = to_outbox',
      'begin transports',
      'to_outbox:',
      '  driver = smtp',
      '  allow_localhost',
      '  hosts_try_chunking = *',
      ...(tls ? ['  hosts_require_tls = *', `  tls_verify_certificates = ${setup.tls.ca}`, '  tls_verify_hosts = *'] : ['  hosts_avoid_tls = *']),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  return file;
}

function uid(user: string): number {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/** Exim delivers one mail now, in the foreground; its -v output shows the SMTP dialogue. */
function exim(config: string, recipient: string, mail: string): ReturnType<typeof run> {
  return run(ready![0]!, ['-C', config, '-odf', '-oi', '-v', '-f', SENDER, recipient], { input: mail, timeoutMs: 60_000 });
}

function storedMails(maildir: string, token: string): string[] {
  const dir = join(maildir, 'new');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((name) => readFileSync(join(dir, name), 'latin1')).filter((text) => text.includes(token));
}

it('Exim is prepared (unpacked from Debian by serve-exim.sh)', () => {
  expect(ready, `${prepared.stderr}${prepared.error?.message ?? ''}`).toBeDefined();
});

describe.skipIf(!ready)('Exim (BDAT) → outbox serve', () => {
  it('a small mail: one BDAT … LAST, pipelined after MAIL and RCPT; stored once with the bytes Exim sent', async () => {
    const maildir = join(setup.scratch, uniqueId('serve-exim'));
    const server = await startServe([`--maildir=${maildir}`]);
    const dir = join(setup.scratch, uniqueId('exim'));
    const id = uniqueId('exim-bdat');
    const result = await exim(eximConfig(dir, server.port, false), setup.users.alice, testMail(id).replace(/\r\n/g, '\n'));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const dialogue = result.stdout + result.stderr;
    expect(dialogue).toMatch(/\n\s+250-CHUNKING\n/);
    expect(dialogue).toMatch(/SMTP\|> MAIL FROM:<[^>]+> SIZE=\d+\n\s+SMTP\|> RCPT TO:<[^>]+>\n[\s\S]*SMTP\+> BDAT \d+ LAST\n/);
    expect(dialogue).not.toMatch(/SMTP>> DATA/);
    const mails = storedMails(maildir, id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/^Received: from exim\.interop\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby \S+ \(outbox\) with ESMTP id \w+/);
    expect(mails[0]!.endsWith('\r\n\r\nHello from the interop suite.\r\n')).toBe(true);
  });

  it('over STARTTLS (the test CA checked), a large mail in two chunks whose lines start with dots: the body arrives unchanged', async () => {
    const maildir = join(setup.scratch, uniqueId('serve-exim-tls'));
    const server = await startServe([`--maildir=${maildir}`, ...TLS]);
    const dir = join(setup.scratch, uniqueId('exim-tls'));
    const id = uniqueId('exim-chunks');
    const body = Array.from({ length: 4000 }, (_, i) => (i % 2 ? `.a line that starts with a dot ${i}` : `.\r\nline ${i}`)).join('\r\n') + '\r\n';
    const result = await exim(eximConfig(dir, server.port, true), setup.users.bob, testMail(id, { body }).replace(/\r\n/g, '\n'));
    const dialogue = result.stdout + result.stderr;
    expect(result.status, dialogue).toBe(0);
    expect(dialogue).toMatch(/SMTP>> STARTTLS/);
    // Exim sends the header block as one chunk and the body as the last.
    expect(dialogue).toMatch(/SMTP\+> BDAT \d+\n[\s\S]*SMTP\+> BDAT \d+ LAST\n/);
    const mails = storedMails(maildir, id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/^Received: from exim\.interop\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby \S+ \(outbox\) with ESMTPS id \w+/);
    expect(mails[0]!.endsWith(`\r\n\r\n${body}`)).toBe(true);
  });
});
