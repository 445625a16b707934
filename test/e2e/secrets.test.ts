/**
 * Issue 12, "no secret in any output", for the secret commands: a failing
 * passwordeval or eval is named by its own file:line in every output
 * (stderr, stdout, --debug, the log file, the JSON log, syslog, --pretend),
 * never by its command or what it printed; passwordeval runs before
 * connecting, so a failing one sends nothing; and it runs only when the
 * account's `auth` will need a password.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox, type CliResult } from '../helpers/run-cli.js';
import { expectNoSecret, type Outputs } from '../helpers/secrets.js';

const SECRET = 'Hunter2-Vault-Token';
const MAIL = 'From: a@example.org\nSubject: s\n\nbody\n';
let dir: string;
let server: FakeServer;
/** For each connection: did the marker file exist when it arrived? */
let markerAtConnect: boolean[];
let authReply: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-secrets-'));
  markerAtConnect = [];
  authReply = '235 2.7.0 ok';
  server = await startFakeServer({
    onConnection: () => markerAtConnect.push(existsSync(marker())),
    reply: (line) => (line.startsWith('AUTH ') ? authReply : normalReply(line, ['PIPELINING', 'AUTH PLAIN'])),
  });
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const marker = (): string => join(dir, 'passwordeval-ran');

/** A user file (0600) for the fake server; `lines` follow the account's first five lines. */
function writeRc(...lines: string[]): string {
  const rc = join(dir, 'rc');
  const text = ['account default', 'host 127.0.0.1', `port ${server.port}`, 'from a@example.org', 'user bob', ...lines, ''].join('\n');
  writeFileSync(rc, text);
  chmodSync(rc, 0o600);
  return rc;
}

/** A `logger` first on the PATH that appends what it was asked to log (used when there is no /dev/log). */
function fakeLogger(): { path: string; file: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const file = join(dir, 'syslog');
  writeFileSync(join(bin, 'logger'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${file}'\n`, { mode: 0o755 });
  return { path: `${bin}:${process.env['PATH'] ?? ''}`, file };
}

const read = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

interface EveryOutput {
  /** With --debug, the msmtp log file and syslog; without --debug, the JSON log; --pretend. */
  readonly runs: { readonly debug: CliResult; readonly plain: CliResult; readonly pretend: CliResult };
  readonly outputs: Outputs;
}

/** The same mail sent three ways, so every sink sees the same failure. */
async function everyOutput(rc: string): Promise<EveryOutput> {
  const logger = fakeLogger();
  const log = join(dir, 'log');
  const json = join(dir, 'log.json');
  const common = ['-C', rc, 'r@example.net'];
  const debug = await runOutbox(['--debug', `--logfile=${log}`, '--syslog=LOG_MAIL', ...common], { input: MAIL, env: { PATH: logger.path } });
  const plain = await runOutbox([`--logfile=${json}`, '--logfile-format=json', ...common], { input: MAIL });
  const pretend = await runOutbox(['--pretend', ...common], { input: MAIL });
  return {
    runs: { debug, plain, pretend },
    outputs: {
      'stdout (--debug)': debug.stdout,
      'stderr (--debug)': debug.stderr,
      'log file': read(log),
      syslog: read(logger.file),
      stdout: plain.stdout,
      stderr: plain.stderr,
      'JSON log': read(json),
      'stdout (--pretend)': pretend.stdout,
      'stderr (--pretend)': pretend.stderr,
    },
  };
}

/** Where the syslog sink went: our fake logger, unless this machine has a syslog socket. */
const syslogIsFake = !existsSync('/dev/log');

describe('a failing passwordeval', () => {
  it('exits 78 naming file:line and the reason in every output, never the command or the secret, and sends nothing', async () => {
    const rc = writeRc('auth plain', `passwordeval printf '%s' '${SECRET}' >/dev/null; exit 3`);
    const { runs, outputs } = await everyOutput(rc);
    const message = `${rc}:7: passwordeval: the command failed with exit status 3`;
    expect(runs.debug.status, runs.debug.stderr).toBe(78);
    expect(runs.plain.status).toBe(78);
    expect(runs.plain.stderr).toBe(`outbox: ${message}\n`);
    expect(outputs['log file']).toContain(`errormsg='${message}' exitcode=EX_CONFIG`);
    expect(outputs['JSON log']).toContain(message);
    if (syslogIsFake) expect(outputs.syslog).toContain(`errormsg='${message}'`);
    expect(runs.pretend.status).toBe(0);
    expect(runs.pretend.stdout).toContain('passwordeval = <redacted>');
    expectNoSecret(outputs, [SECRET], ['printf', 'exit 3']);
    expect(server.clients).toEqual([]);
  });

  it.each([
    ['kill -TERM $$', 'the command was killed by SIGTERM'],
    [`printf '' '${SECRET}'`, 'the command printed nothing'],
  ])('%s: %s', async (command, reason) => {
    const rc = writeRc('auth plain', `passwordeval ${command}`);
    const result = await runOutbox(['-C', rc, 'r@example.net'], { input: MAIL });
    expect(result.status).toBe(78);
    expect(result.stderr).toBe(`outbox: ${rc}:7: passwordeval: ${reason}\n`);
    expect(server.clients).toEqual([]);
  });

  it('given with --passwordeval is named as the command line', async () => {
    const rc = writeRc('auth plain', 'passwordeval printf pw');
    const result = await runOutbox(['-C', rc, `--passwordeval=echo ${SECRET}; exit 5`, 'r@example.net'], { input: MAIL });
    expect(result.status).toBe(78);
    expect(result.stderr).toBe('outbox: passwordeval (command line): the command failed with exit status 5\n');
  });
});

describe('a password that travels to a server that refuses it', () => {
  it('is in no output, encoded or not', async () => {
    authReply = '535 5.7.8 bad credentials';
    const rc = writeRc('auth plain', `passwordeval printf '%s' '${SECRET}'`);
    const { runs, outputs } = await everyOutput(rc);
    expect(runs.debug.status).toBe(77);
    expect(runs.debug.stdout).toMatch(/^--> AUTH PLAIN <redacted>$/m);
    expect(outputs['log file']).toContain('exitcode=EX_NOPERM');
    expectNoSecret(outputs, [SECRET], ['printf']);
  });
});

describe('a failing or misused eval', () => {
  it('exits 74 naming its line, in no output the command', async () => {
    const rc = writeRc(`eval printf '%s' '${SECRET}' >/dev/null; exit 4`);
    const { runs, outputs } = await everyOutput(rc);
    for (const run of Object.values(runs)) {
      expect(run.status).toBe(74);
      expect(run.stderr).toBe(`outbox: ${rc}:6: eval: the command failed with exit status 4\n`);
    }
    expectNoSecret(outputs, [SECRET], ['printf']);
  });

  it('printing the bare password (meant as passwordeval) is refused without showing the line', async () => {
    const rc = writeRc(`eval printf '%s\\n' '${SECRET}'`);
    const { runs, outputs } = await everyOutput(rc);
    expect(runs.plain.status).toBe(78);
    expect(runs.plain.stderr).toContain(`${rc}:6: eval: the command printed an unknown command`);
    expectNoSecret(outputs, [SECRET], ['printf']);
  });
});

describe('when passwordeval runs', () => {
  const evalMarking = `passwordeval touch '${join('DIR', 'passwordeval-ran')}'; printf '%s' '${SECRET}'`;
  const passwordeval = (): string => evalMarking.replace('DIR', dir);

  it('before connecting: the command has run when the connection arrives', async () => {
    const rc = writeRc('auth plain', passwordeval());
    const result = await runOutbox(['-C', rc, 'r@example.net'], { input: MAIL });
    expect(result.status, result.stderr).toBe(0);
    expect(server.commands.some((c) => c.startsWith('AUTH PLAIN '))).toBe(true);
    expect(markerAtConnect).toEqual([true]);
  });

  it('while the mail is still being read (issue 17): it has run before the mail ends', async () => {
    const rc = writeRc('auth plain', passwordeval());
    let ranBeforeEnd = false;
    async function* mail(): AsyncGenerator<Buffer> {
      yield Buffer.from('From: a@example.org\nSubject: s\n\nfirst part\n');
      // Bounded: 200 polls of 25 ms; the command runs once the header is read.
      for (let i = 0; i < 200 && !existsSync(marker()); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      ranBeforeEnd = existsSync(marker());
      yield Buffer.from('second part\n');
    }
    const result = await runOutbox(['-C', rc, 'r@example.net'], { input: mail() });
    expect(result.status, result.stderr).toBe(0);
    expect(ranBeforeEnd).toBe(true);
    expect(markerAtConnect).toEqual([true]);
    expect(server.commands.some((c) => c.startsWith('AUTH PLAIN '))).toBe(true);
  });

  it('a mail that fails its own checks is the error reported, not the password lookup', async () => {
    const rc = writeRc('auth plain', 'passwordeval exit 3');
    const result = await runOutbox(['-C', rc], { input: MAIL });
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/no recipients/);
    expect(markerAtConnect).toEqual([]);
  });

  it('with auth on and a user, before connecting too', async () => {
    authReply = '535 5.7.8 no';
    const rc = writeRc('auth on', passwordeval());
    await runOutbox(['-C', rc, 'r@example.net'], { input: MAIL });
    expect(markerAtConnect).toEqual([true]);
  });

  it.each([
    ['auth off', ['auth off']],
    ['auth external', ['auth external']],
    ['auth on without a user', ['auth on', 'user']],
  ])('never with %s', async (_name, lines) => {
    const rc = writeRc(...lines, passwordeval());
    await runOutbox(['-C', rc, 'r@example.net'], { input: MAIL });
    expect(markerAtConnect).toEqual([false]);
    expect(existsSync(marker())).toBe(false);
  });

  it('never for --serverinfo, which does not authenticate', async () => {
    const rc = writeRc('auth plain', passwordeval());
    const result = await runOutbox(['-C', rc, '--serverinfo']);
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(marker())).toBe(false);
  });
});
