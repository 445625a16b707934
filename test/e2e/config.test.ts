/**
 * The built CLI with real configuration files in a temporary HOME: account
 * choice by -a and by envelope-from (exact, pattern, subaddress, fallback),
 * --host reading no file, -C, the environment fallback, --pretend, errors.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox, type RunOptions } from '../helpers/run-cli.js';

const MAIL = 'Subject: test\n\nHello.\n';
let server: FakeServer;
let home: string;

beforeEach(async () => {
  server = await startFakeServer({ reply: (line) => normalReply(line) });
  home = mkdtempSync(join(tmpdir(), 'outbox-config-'));
});
afterEach(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

function writeRc(text: string, name = '.msmtprc'): string {
  const path = join(home, name);
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

function realisticRc(): string {
  return writeRc(`# defaults for every account below
defaults
host 127.0.0.1
port ${server.port}
timeout 10
domain client.example

account work
from bob@work.example
passwordeval touch ${join(home, 'passwordeval-ran')}

account shop
from *@shop.example

account personal : work
from alice@home.example

account tlsacct
from t@tls.example
tls on
tls_trust_file system

account default : personal
`);
}

function run(args: string[], options: RunOptions = {}) {
  return runOutbox(args, { input: MAIL, ...options, env: { HOME: home, ...options.env } });
}

function mailFrom(): string | undefined {
  return server.commands.find((c) => c.startsWith('MAIL FROM:'));
}

describe('configuration end to end', () => {
  it('-a NAME uses that account, with the defaults above it', async () => {
    realisticRc();
    const result = await run(['-a', 'work', 'r@example.net']);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(server.commands[0]).toBe('EHLO client.example');
    expect(mailFrom()).toBe('MAIL FROM:<bob@work.example>');
  });

  it('-f chooses the account: exact (case-insensitive), pattern, subaddress, and no match', async () => {
    realisticRc();
    const cases: Array<[string, string]> = [
      ['Alice@Home.Example', 'personal'],
      ['anyone@shop.example', 'shop'],
      ['bob+lists@work.example', 'work'],
      ['nobody@else.example', 'default'],
    ];
    for (const [from, account] of cases) {
      const pretend = await run(['-P', '-f', from, 'r@example.net']);
      expect(pretend.status).toBe(0);
      const chosen = account === 'default' ? 'falling back to default account' : `account chosen by envelope from address ${from}: ${account}`;
      expect(pretend.stdout).toContain(chosen);
    }
    const sent = await run(['-f', 'bob+lists@work.example', 'r@example.net']);
    expect(sent.status).toBe(0);
    expect(mailFrom()).toBe('MAIL FROM:<bob+lists@work.example>'); // -f overrides from (allow_from_override on)
  });

  it('--pretend prints the account as msmtp does, runs no passwordeval and sends nothing', async () => {
    realisticRc();
    const result = await run(['--pretend', '-a', 'work'], { input: undefined });
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`loaded user configuration file ${join(home, '.msmtprc')}`);
    expect(lines).toContain(`using account work from ${join(home, '.msmtprc')}`);
    expect(lines).toContain(`host = 127.0.0.1`);
    expect(lines).toContain(`port = ${server.port}`);
    expect(lines).toContain('timeout = 10 seconds');
    expect(lines).toContain('from = bob@work.example');
    expect(lines).toContain('passwordeval = <redacted>');
    expect(result.stdout).not.toContain('touch');
    expect(existsSync(join(home, 'passwordeval-ran'))).toBe(false);
    expect(server.commands).toEqual([]);
  });

  it('command-line options override the account', async () => {
    realisticRc();
    const result = await run(['-a', 'work', '--domain=override.example', 'r@example.net']);
    expect(result.status).toBe(0);
    expect(server.commands[0]).toBe('EHLO override.example');
  });

  it('an account that asks for TLS, against a server without STARTTLS: refused, never sent in plaintext', async () => {
    realisticRc();
    const result = await run(['-a', 'tlsacct', 'r@example.net']);
    expect(result.status).toBe(69);
    expect(result.stderr).toContain('does not offer STARTTLS');
    expect(server.commands).toEqual(['EHLO client.example', 'QUIT']);
  });

  it('--host reads no file, even a broken one', async () => {
    writeRc('this is not a command\n');
    const result = await run(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', 'r@example.net']);
    expect(result).toMatchObject({ status: 0, stderr: '' });
  });

  it('-C names the user file; $XDG_CONFIG_HOME/msmtp/config is read when ~/.msmtprc is missing', async () => {
    const other = writeRc(`account default\nhost 127.0.0.1\nport ${server.port}\nfrom c@example.com\n`, 'other-rc');
    expect((await run(['-C', other, 'r@example.net'])).status).toBe(0);
    expect(mailFrom()).toBe('MAIL FROM:<c@example.com>');
    const xdg = join(home, 'xdg');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(xdg, 'msmtp'), { recursive: true });
    writeFileSync(join(xdg, 'msmtp', 'config'), `account default\nhost 127.0.0.1\nport ${server.port}\nfrom x@example.com\n`);
    expect((await run(['r@example.net'], { env: { XDG_CONFIG_HOME: xdg } })).status).toBe(0);
    expect(server.commands.filter((c) => c.startsWith('MAIL FROM:')).at(-1)).toBe('MAIL FROM:<x@example.com>');
  });

  it('without files: SMTPSERVER and EMAIL from the environment', async () => {
    // The environment account uses port 25; point it at the fake server with --port.
    const viaPort = await run([`--port=${server.port}`, 'r@example.net'], { env: { SMTPSERVER: '127.0.0.1', EMAIL: 'env@example.com' } });
    expect(viaPort.status).toBe(0);
    expect(mailFrom()).toBe('MAIL FROM:<env@example.com>');
  });

  it('configuration errors exit 78 with file:line', async () => {
    const rc = writeRc('account a\nhost h\nbogus_command x\n');
    const syntax = await run(['-a', 'a', 'r@example.net']);
    expect(syntax.status).toBe(78);
    expect(syntax.stderr).toContain(`${rc}:3:`);
    realisticRc();
    const missing = await run(['-a', 'nosuch', 'r@example.net']);
    expect(missing.status).toBe(78);
    expect(missing.stderr).toContain('account nosuch not found');
    writeRc('');
    const none = await run(['r@example.net']);
    expect(none.status).toBe(78);
  });

  it('an unusable from or domain in a file is a configuration error naming file:line (78); on the command line a usage error (64)', async () => {
    for (const [command, value] of [['from', 'a@example.com # note'], ['domain', 'client.example # note']]) {
      const rc = writeRc(`account default\nhost 127.0.0.1\nport ${server.port}\nfrom a@example.com\n${command} ${value}\n`);
      const result = await run(['r@example.net']);
      expect(result.status, command).toBe(78);
      expect(result.stderr).toContain(`${rc}:5: invalid argument ${value} for command ${command}`);
      expect(result.stderr).not.toContain('--help');
    }
    expect(server.commands).toEqual([]);
    const fromOption = await run(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com # note', 'r@example.net']);
    expect(fromOption.status).toBe(64);
    const domainOption = await run(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', '--domain=client.example # note', 'r@example.net']);
    expect(domainOption.status).toBe(64);
    expect(server.commands).toEqual([]);
  });

  it('usage errors: --host with -a, -f with --read-envelope-from, a bad option value', async () => {
    expect((await run(['--host=h', '-a', 'x', 'r@example.net'])).status).toBe(64);
    expect((await run(['-f', 'a@b', '--read-envelope-from', 'r@example.net'])).status).toBe(64);
    const bad = await run(['--host=h', '--tls=maybe', '-f', 'a@b', 'r@example.net']);
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('--tls');
  });

  it('a bare optional-value option never swallows the recipient after it', async () => {
    const result = await run(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.com', '--set-date-header', 'r@example.net']);
    expect(result.status).toBe(0);
    expect(server.commands).toContain('RCPT TO:<r@example.net>');
  });
});
