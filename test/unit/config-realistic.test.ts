/**
 * A realistic multi-account file through the whole pipeline (choice, layering,
 * secrets, --pretend), then the same files through the installed msmtp
 * (`msmtp -C FILE -P …`) and through outbox, compared: the account chosen,
 * every setting both print, and the errors. The comparison runs only where
 * msmtp is installed and there is no /etc/msmtprc to disturb it. Known,
 * documented differences are asserted as differences (docs/configuration.md,
 * "Differences from msmtp").
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { expandAccount, type SubstitutionInputs } from '../../src/config/expand.js';
import { loadConfiguration, type Configuration, type FileSystem } from '../../src/config/files.js';
import { pretendLines, renderPretend } from '../../src/config/pretend.js';
import { resolvePassword } from '../../src/config/secrets.js';
import { chooseAccount, commandLineAccount, type ChooseRequest } from '../../src/config/select.js';
import type { CommandRunner } from '../../src/config/shell.js';
import { nodeFileSystem, shellRunner, systemSubstitutionInputs } from '../../src/config/system.js';

/** A realistic ~/.msmtprc: defaults, four accounts, inheritance, passwordeval, patterns. */
const REALISTIC_RC = `# ~/.msmtprc
defaults
port 587
tls on
tls_trust_file /etc/ssl/certs/ca-certificates.crt
logfile ~/.msmtp.log
timeout 30

# Work: plain address, password from a command
account work
host smtp.work.example
from bob@work.example
auth on
user bob
passwordeval echo work-secret

# Mailing lists go out through work, any address of the lists domain
account lists : work
from *@lists.work.example
dsn_notify failure,delay

# Any bob at any .example domain, through work
account anybob : work
from bob@*.example

# Home: implicit TLS on 465, a pattern for the whole domain
account home
host mail.home.example
port 465
tls_starttls off
from *@home.example
auth plain
user me@home.example
passwordeval echo home-secret
set_from_header on

account default : home
`;

const HOME_DIR = '/home/bob';

function fs(files: Record<string, string>): FileSystem {
  return {
    readFile: (path) => {
      if (!(path in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return Buffer.from(files[path]!);
    },
    stat: () => ({ uid: 1000, mode: 0o100600 }),
    exists: (path) => path in files,
  };
}

function recordingRunner(): CommandRunner & { ran: string[] } {
  const ran: string[] = [];
  return Object.assign((command: string) => (ran.push(command), { stdout: `${command.replace(/^echo /, '')}\n`, status: 0 }), { ran });
}

function load(runner = recordingRunner()): Configuration {
  return loadConfiguration({
    env: { OUTBOX_SYSTEM_CONFIG: '/etc/msmtprc' },
    home: HOME_DIR,
    euid: 1000,
    fs: fs({ [`${HOME_DIR}/.msmtprc`]: REALISTIC_RC }),
    runCommand: runner,
  });
}

const inputs: SubstitutionInputs = {
  userName: () => 'bob',
  hostName: () => 'laptop',
  canonicalHostName: () => 'laptop.home.example',
  mailname: () => 'home.example',
};

describe('a realistic multi-account file', () => {
  const config = load();

  it.each<[string, ChooseRequest, string, string]>([
    ['-a work', { account: 'work' }, 'work', 'named'],
    ['-a lists', { account: 'lists' }, 'lists', 'named'],
    ['-f exact', { envelopeFrom: 'bob@work.example' }, 'work', 'envelope-from'],
    ['-f exact, other case', { envelopeFrom: 'BOB@Work.Example' }, 'work', 'envelope-from'],
    ['-f pattern', { envelopeFrom: 'announce@lists.work.example' }, 'lists', 'envelope-from'],
    ['-f pattern, case-sensitive', { envelopeFrom: 'announce@LISTS.work.example' }, 'default', 'default'],
    ['-f subaddress of an exact address', { envelopeFrom: 'bob+news@work.example' }, 'work', 'envelope-from'],
    ['-f subaddress matched by a pattern', { envelopeFrom: 'bob+x@shop.example' }, 'anybob', 'envelope-from'],
    ['-f pattern matching the subaddress itself', { envelopeFrom: 'me+x@home.example' }, 'home', 'envelope-from'],
    ['-f pattern', { envelopeFrom: 'me@home.example' }, 'home', 'envelope-from'],
    ['-f no match', { envelopeFrom: 'someone@else.example' }, 'default', 'default'],
    ['no -f', {}, 'default', 'default'],
  ])('%s', (_, request, name, kind) => {
    const { account, how } = chooseAccount(config, request);
    expect(account.name).toBe(name);
    expect(how.kind).toBe(kind);
    if (request.envelopeFrom !== undefined) expect(account.from).toBe(request.envelopeFrom);
  });

  it('layers defaults, inheritance and the account\'s own lines', () => {
    const lists = chooseAccount(config, { account: 'lists' }).account;
    expect(lists).toMatchObject({
      host: 'smtp.work.example',
      port: 587,
      tls: true,
      timeout: 30,
      auth: 'on',
      user: 'bob',
      passwordeval: 'echo work-secret',
      from: '*@lists.work.example',
      dsn_notify: ['failure', 'delay'],
      logfile: '/home/bob/.msmtp.log',
      file: '/home/bob/.msmtprc',
      line: 18,
    });
    const fallback = chooseAccount(config, {}).account;
    expect(fallback).toMatchObject({ name: 'default', host: 'mail.home.example', port: 465, tls_starttls: false, set_from_header: 'on' });
  });

  it('runs passwordeval only when a password is asked for', async () => {
    const runner = recordingRunner();
    const cfg = load(runner);
    const { account } = chooseAccount(cfg, { envelopeFrom: 'bob@work.example' });
    expect(runner.ran).toEqual([]);
    const secret = await resolvePassword(account, { runCommand: async (c) => runner(c), readFile: () => '', home: HOME_DIR });
    expect(secret).toEqual({ password: 'work-secret', source: 'passwordeval' });
    expect(runner.ran).toEqual(['echo work-secret']);
  });

  it('pretends in msmtp\'s format without running passwordeval', async () => {
    const runner = recordingRunner();
    const cfg = load(runner);
    const chosen = chooseAccount(cfg, { envelopeFrom: 'bob+news@work.example' });
    const account = await expandAccount(chosen.account, inputs);
    const text = renderPretend(pretendLines({ files: cfg.files, chosen: { ...chosen, account } }));
    expect(runner.ran).toEqual([]);
    expect(text).toBe(`ignoring system configuration file /etc/msmtprc: No such file or directory
loaded user configuration file /home/bob/.msmtprc
account chosen by envelope from address bob+news@work.example: work
using account work from /home/bob/.msmtprc
host = smtp.work.example
port = 587
source ip = (not set)
proxy host = (not set)
proxy port = 0
socket = (not set)
timeout = 30 seconds
protocol = smtp
domain = localhost
auth = choose
user = bob
password = (not set)
passwordeval = <redacted>
ntlmdomain = (not set)
tls = on
tls_starttls = on
tls_trust_file = /etc/ssl/certs/ca-certificates.crt
tls_crl_file = (not set)
tls_fingerprint = (not set)
tls_key_file = (not set)
tls_cert_file = (not set)
tls_certcheck = on
tls_min_dh_prime_bits = (not set)
tls_priorities = (not set)
tls_host_override = (not set)
auto_from = off
maildomain = (not set)
from = bob+news@work.example
from_full_name = (not set)
allow_from_override = on
set_from_header = auto
set_date_header = auto
set_msgid_header = auto
set_to_header = off
remove_bcc_headers = on
dsn_notify = (not set)
dsn_return = (not set)
logfile = /home/bob/.msmtp.log
logfile_time_format = (not set)
syslog = (not set)
aliases = (not set)
reading recipients from the command line
`);
  });
});

describe('pretendLines', () => {
  const config = load();

  it('says how the account was chosen', () => {
    const notes = (request: ChooseRequest, cfg: Configuration = config) =>
      pretendLines({ chosen: chooseAccount(cfg, request) }).filter((l) => l.kind === 'note').map((l) => (l.kind === 'note' ? l.text : ''));
    expect(notes({ account: 'home' })).toEqual(['using account home from /home/bob/.msmtprc', 'reading recipients from the command line']);
    expect(notes({})[0]).toBe('falling back to default account');
    const empty: Configuration = { files: [], accounts: [] };
    expect(notes({ env: { SMTPSERVER: 'mx', EMAIL: 'e@x' } }, empty)).toEqual([
      'falling back to default account',
      'using environment variables EMAIL and SMTPSERVER',
      'reading recipients from the command line',
    ]);
  });

  it('prints --host, serverinfo and rmqs modes, -t, the extracted sender and (read from mail)', () => {
    const chosen = commandLineAccount({ commandLine: { host: 'mx', password: 'pw', from: '%F' } });
    const lines = pretendLines({ chosen, readRecipientsFromMail: true, extractedEnvelopeFrom: 'a@b' });
    const text = renderPretend(lines);
    expect(text.startsWith('envelope from address extracted from mail: a@b\nusing account specified on command line\nhost = mx\n')).toBe(true);
    expect(text).toContain('\npassword = *\n');
    expect(text).toContain('\nfrom = (read from mail)\n');
    expect(text.endsWith('aliases = (not set)\nreading recipients from the command line and the mail\n')).toBe(true);
    expect(text).not.toContain('pw');
    const serverinfo = renderPretend(pretendLines({ chosen, mode: 'serverinfo' }));
    expect(serverinfo.endsWith('tls_host_override = (not set)\n')).toBe(true);
    const rmqs = renderPretend(pretendLines({ chosen, mode: 'rmqs', rmqsArgument: '@example.org' }));
    expect(rmqs.endsWith('tls_host_override = (not set)\nRMQS argument = @example.org\n')).toBe(true);
  });

  it('formats every kind of value', () => {
    const chosen = commandLineAccount({
      commandLine: {
        host: 'mx',
        auth: 'scram-sha-256',
        dsn_notify: 'never',
        dsn_return: 'headers',
        syslog: 'LOG_MAIL',
        proxy_host: 'p',
        tls_min_dh_prime_bits: 512,
        domain: '',
        maildomain: '',
      },
    });
    const settings = Object.fromEntries(
      pretendLines({ chosen }).flatMap((l) => (l.kind === 'setting' ? [[l.key, l.value]] : [])),
    );
    expect(settings).toMatchObject({
      auth: 'SCRAM-SHA-256',
      dsn_notify: 'NEVER',
      dsn_return: 'HDRS',
      syslog: 'LOG_MAIL',
      'proxy port': '1080',
      tls_min_dh_prime_bits: '512',
      domain: '',
      maildomain: '',
      timeout: 'off',
    });
  });
});

// ---- compared with the real msmtp ----

const msmtpVersion = spawnSync('msmtp', ['--version'], { encoding: 'utf8' });
const available = msmtpVersion.status === 0 && !existsSync('/etc/msmtprc');

interface Outcome {
  readonly status: number;
  /** Notes about the choice ("account chosen by…", "falling back…", "using account…"). */
  readonly choice: string[];
  readonly settings: Map<string, string>;
  /** The error message, normalised to `file:line: message`. */
  readonly error?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'outbox-msmtp-'));
const env = { ...process.env, HOME: dir, XDG_CONFIG_HOME: '' };
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(text: string): string {
  const path = join(dir, `rc${++files}`);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const CHOICE = /^(account chosen by|falling back|using account|using environment)/;

function parseOutput(status: number, stdout: string, stderr: string): Outcome {
  const lines = stdout.split('\n');
  const settings = new Map(lines.flatMap((l) => (/^[a-zA-Z_ ]+ = /.test(l) ? [l.split(/ = (.*)/s).slice(0, 2) as [string, string]] : [])));
  const errorLine = stderr.split('\n').find((l) => l.startsWith('msmtp: '));
  const error = errorLine?.slice('msmtp: '.length).replace(/: line (\d+): /, ':$1: ');
  return { status, choice: lines.filter((l) => CHOICE.test(l)), settings, ...(error ? { error } : {}) };
}

function runMsmtp(file: string, args: readonly string[]): Outcome {
  const result = spawnSync('msmtp', ['-C', file, '-P', ...args], { input: '', env, encoding: 'utf8' });
  return parseOutput(result.status ?? -1, result.stdout, result.stderr);
}

interface Request {
  readonly account?: string;
  readonly envelopeFrom?: string;
}

async function runOutbox(file: string, request: Request): Promise<Outcome> {
  try {
    const config = loadConfiguration({ userFile: file, env, home: dir, euid: process.geteuid?.() ?? null, fs: nodeFileSystem, runCommand: shellRunner() });
    const chosen = chooseAccount(config, { ...request, env });
    const account = await expandAccount(chosen.account, systemSubstitutionInputs({ env }));
    const lines = pretendLines({ files: config.files, chosen: { ...chosen, account } });
    const text = lines.map((l) => (l.kind === 'note' ? l.text : `${l.key} = ${l.value}`)).join('\n');
    return parseOutput(0, text, '');
  } catch (error) {
    return { status: exitStatusFor(error), choice: [], settings: new Map(), error: (error as Error).message };
  }
}

function args(request: Request): string[] {
  return [...(request.account ? ['-a', request.account] : []), ...(request.envelopeFrom !== undefined ? ['-f', request.envelopeFrom] : [])];
}

/** Settings both print, without passwordeval, nor the password when msmtp ran passwordeval to fill it. */
function common(a: Outcome, b: Outcome): [Record<string, string>, Record<string, string>] {
  const keys = [...a.settings.keys()].filter((k) => b.settings.has(k));
  // outbox shows a passwordeval command as <redacted> where msmtp prints it (docs/differences.md).
  const skip = (k: string) => k === 'passwordeval' || (k === 'password' && a.settings.get('passwordeval') !== '(not set)');
  const pick = (o: Outcome) => Object.fromEntries(keys.filter((k) => !skip(k)).map((k) => [k, o.settings.get(k)!]));
  // A successful run prints some forty settings; comparing a handful would prove nothing.
  if (a.status === 0) expect(keys.length).toBeGreaterThan(35);
  return [pick(a), pick(b)];
}

async function compare(text: string, request: Request = { account: 'x' }): Promise<{ msmtp: Outcome; outbox: Outcome }> {
  const file = writeConfig(text);
  const msmtp = runMsmtp(file, args(request));
  const outbox = await runOutbox(file, request);
  return { msmtp, outbox };
}

describe.runIf(available)(`outbox and ${msmtpVersion.stdout?.split('\n')[0] ?? 'msmtp'} read the same files the same way`, () => {
  describe('the realistic file', () => {
    it.each<Request>([
      { account: 'work' },
      { account: 'lists' },
      { account: 'home' },
      { envelopeFrom: 'bob@work.example' },
      { envelopeFrom: 'BOB@Work.Example' },
      { envelopeFrom: 'announce@lists.work.example' },
      { envelopeFrom: 'announce@LISTS.work.example' },
      { envelopeFrom: 'bob+news@work.example' },
      { envelopeFrom: 'me@home.example' },
      { envelopeFrom: 'someone@else.example' },
      {},
    ])('%j', async (request) => {
      const { msmtp, outbox } = await compare(REALISTIC_RC, request);
      expect(outbox.status).toBe(msmtp.status);
      expect(outbox.choice).toEqual(msmtp.choice);
      const [m, o] = common(msmtp, outbox);
      expect(o).toEqual(m);
    });

    it('differs on a subaddress matched by a pattern (msmtp 1.8.16–1.8.24 bug, fixed since)', async () => {
      const { msmtp, outbox } = await compare(REALISTIC_RC, { envelopeFrom: 'bob+x@shop.example' });
      expect(outbox.choice[0]).toBe('account chosen by envelope from address bob+x@shop.example: anybob');
      expect(msmtp.choice[0]).not.toBe(outbox.choice[0]);
    });
  });

  const SINGLE: readonly string[] = [
    'port 0x19', 'port 010', 'source_ip 192.0.2.1', 'proxy_host p', 'proxy_host p\nproxy_port 9050', 'timeout 10',
    'connect_timeout 5', 'domain', 'domain d.example', 'domain %H', 'auth', 'auth off', 'auth plain', 'auth xoauth2',
    'user bob', 'user', 'password s', 'ntlmdomain D', 'tls\ntls_certcheck off', 'tls off', 'tls_starttls off',
    'tls\ntls_starttls off', 'tls_nostarttls', 'tls_nocertcheck', 'tls_trust_file ~/ca.pem', 'tls_trust_file',
    'tls_crl_file ~/crl', `tls_fingerprint ${Array(20).fill('ab').join(' ')}`, 'tls_key_file ~/k\ntls_cert_file ~/c',
    'tls_priorities NORMAL', 'tls_host_override hh', 'tls_min_dh_prime_bits 512', 'tls_force_sslv3 on', 'from',
    'from a@b', 'from %U@%H', 'allow_from_override off', 'dsn_notify never', 'dsn_notify success,failure,delay',
    'dsn_return headers', 'dsn_return full', 'dsn_notify off', 'set_from_header', 'set_from_header on',
    'set_date_header off', 'add_missing_from_header off', 'add_missing_date_header off', 'remove_bcc_headers off',
    'keepbcc', 'keepbcc off', 'logfile ~/log', 'logfile -', 'logfile_time_format %F', 'syslog', 'syslog LOG_LOCAL7',
    'aliases ~/al', 'auto_from', 'auto_from on\nmaildomain ex.org', 'maildomain', 'host "h o"', 'host h # x',
    'eval echo port 26', "eval printf 'port 27'", 'eval echo', 'eval echo password s3',
  ];

  it.each(SINGLE)('%j', async (line) => {
    const { msmtp, outbox } = await compare(`account x\nhost h\n${line}\n`);
    expect(outbox.status).toBe(msmtp.status);
    const [m, o] = common(msmtp, outbox);
    expect(o).toEqual(m);
  });

  const ERRORS: readonly string[] = [
    'account x\nhost h\nfoo bar', 'account x\nhost', 'account x\nhost h\naccount x', 'account x : y', 'account x,y',
    'account y\nhost h\naccount x : y,,y', 'defaults foo', 'account x\nport 0', 'account x\nport 65536',
    'account x\ntimeout 0', 'account x\nprotocol SMTP', 'account x\nauth PLAIN', 'account x\ntls yes',
    'account x\ntls_nostarttls off', 'account x\ntls_fingerprint AB:CD', 'account x\ndsn_notify failure, delay',
    'account x\ndsn_return hdrs', 'account x\nset_date_header on', 'account x\nadd_missing_from_header auto',
    'account x\nsyslog LOG_LOCAL8', 'account x\neval', 'account x\nHOST h',
  ];

  it.each(ERRORS)('refuses %j with the same message', async (text) => {
    const { msmtp, outbox } = await compare(`${text}\n`);
    expect(msmtp.status).toBe(78);
    expect(outbox.status).toBe(78);
    expect(outbox.error).toBe(msmtp.error);
  });

  it.each([
    ['account x\n', 'host not set'],
    ['account x\nhost h\nprotocol lmtp\n', 'port not set'],
    ['account x\nhost h\ntls\ntls_trust_file\n', 'tls requires either tls_trust_file (highly recommended) or tls_fingerprint or a disabled tls_certcheck'],
    ['account x\nhost h\ntls_key_file /k\n', 'tls_key_file requires tls_cert_file'],
    ['account x\nhost h\ntls_trust_file\ntls_crl_file /c\n', 'tls_crl_file requires tls_trust_file'],
  ])('checks the chosen account: %j', async (text, problem) => {
    const { msmtp, outbox } = await compare(text);
    expect([msmtp.status, outbox.status]).toEqual([78, 78]);
    expect(msmtp.error).toMatch(new RegExp(`: ${problem.replace(/[()]/g, '\\$&')}$`));
    expect(outbox.error).toMatch(new RegExp(`: account x: ${problem.replace(/[()]/g, '\\$&')}$`));
  });

  it('fails the same way on a failing eval (74)', async () => {
    const { msmtp, outbox } = await compare('account x\nhost h\neval true\n');
    expect([msmtp.status, outbox.status]).toEqual([74, 74]);
  });

  it('names the same missing account', async () => {
    const { msmtp, outbox } = await compare('account a\nhost h\n', { account: 'nope' });
    expect(outbox.error).toBe(msmtp.error);
  });
});
