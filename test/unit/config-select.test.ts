import { describe, expect, it } from 'vitest';
import type { Configuration } from '../../src/config/files.js';
import { fnmatch } from '../../src/config/fnmatch.js';
import { parseConfigFile } from '../../src/config/parser.js';
import {
  chooseAccount,
  commandLineAccount,
  withoutSubaddress,
  type ChooseRequest,
} from '../../src/config/select.js';
import { OutboxError } from '../../src/errors.js';

function config(text: string, file = 'rc'): Configuration {
  const parsed = parseConfigFile(text, file, { home: '/h', runCommand: () => ({ stdout: '', status: 1 }) });
  return { files: [{ path: file, role: 'user', loaded: true }], accounts: parsed.accounts };
}

const SELECTION = config(`account exact
host h1
from Bob@Work.example

account pat
host h2
from *@play.example

account plus
host h3
from alice+lists@ex.org

account cls
host h4
from [a-c]*@cls.example

account bob
host h5
from bob@ex.org

account default
host hd
`);

function chosen(request: ChooseRequest, cfg = SELECTION): string {
  const { account, how } = chooseAccount(cfg, request);
  return `${account.name}/${how.kind}`;
}

describe('fnmatch with flags 0', () => {
  it.each([
    ['*@play.example', 'x@play.example', true],
    ['*@play.example', 'x+y@play.example', true],
    ['*@play.example', 'x@PLAY.example', false],
    ['*@play.example', '@play.example', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'aöc', true],
    ['[a-c]*', 'b@x', true],
    ['[a-c]*', 'd@x', false],
    ['[!a-c]*', 'd@x', true],
    ['[^a-c]*', 'a@x', false],
    ['[]]x', ']x', true],
    ['[!]]x', 'ax', true],
    ['[a-]x', '-x', true],
    ['[[:digit:]]*', '7seven', true],
    ['[[:alpha:]]*', '7seven', false],
    ['[[:bogus:]]', 'a', false],
    ['[abc', '[abc', true],
    ['[abc', 'a', false],
    ['\\*x', '*x', true],
    ['\\*x', 'ax', false],
    ['*', '', true],
    ['*/*', 'a/b', true],
    ['*.example', '.example', true],
    ['**a**b**', 'xaybz', true],
    ['*a*b', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac', false],
  ])('%j %j → %s', (pattern, text, result) => {
    expect(fnmatch(pattern, text)).toBe(result);
  });
});

describe('withoutSubaddress', () => {
  it.each([
    ['bob+tag@ex.org', 'bob@ex.org'],
    ['a+b+c@ex.org', 'a@ex.org'],
    ['bob+@ex.org', 'bob@ex.org'],
    ['bob@ex.org', undefined],
    ['x@y+z.example', undefined],
    ['bob+tag', undefined],
  ])('%j → %j', (address, result) => expect(withoutSubaddress(address)).toBe(result));
});

describe('chooseAccount', () => {
  it('takes -a NAME exactly', () => {
    expect(chosen({ account: 'pat' })).toBe('pat/named');
    expect(chosen({ account: 'default' })).toBe('default/named');
    expect(() => chosen({ account: 'Pat' })).toThrow(new OutboxError('E_CONFIG', 'account Pat not found in rc'));
  });

  it('prefers -a over the envelope-from', () => {
    expect(chosen({ account: 'exact', envelopeFrom: 'x@play.example' })).toBe('exact/named');
  });

  it.each([
    ['bob@work.example', 'exact/envelope-from'],
    ['BOB@WORK.EXAMPLE', 'exact/envelope-from'],
    ['bob+tag@work.example', 'exact/envelope-from'],
    ['x@play.example', 'pat/envelope-from'],
    ['x+y@play.example', 'pat/envelope-from'],
    ['x@PLAY.example', 'default/default'],
    ['alice+lists@ex.org', 'plus/envelope-from'],
    ['alice+other@ex.org', 'default/default'],
    ['alice@ex.org', 'default/default'],
    ['b@cls.example', 'cls/envelope-from'],
    ['b+x@cls.example', 'cls/envelope-from'],
    ['d@cls.example', 'default/default'],
    ['bob+@ex.org', 'bob/envelope-from'],
    ['nobody@nowhere', 'default/default'],
  ])('chooses by envelope-from %s → %s', (envelopeFrom, result) => {
    expect(chosen({ envelopeFrom })).toBe(result);
  });

  it('tries the full address on every account before dropping the +tag', () => {
    const cfg = config('account plain\nhost a\nfrom bob@ex.org\naccount tagged\nhost b\nfrom bob+tag@ex.org\n');
    expect(chosen({ envelopeFrom: 'bob+tag@ex.org' }, cfg)).toBe('tagged/envelope-from');
    expect(chosen({ envelopeFrom: 'bob+other@ex.org' }, cfg)).toBe('plain/envelope-from');
  });

  it('matches a from set in defaults, and compares from before substitution', () => {
    const cfg = config('defaults\nfrom team@ex.org\naccount a\nhost a\naccount b\nhost b\nfrom %U@ex.org\n');
    expect(chosen({ envelopeFrom: 'team@ex.org' }, cfg)).toBe('a/envelope-from');
    expect(() => chosen({ envelopeFrom: 'root@ex.org' }, cfg)).toThrow('account default not found in rc');
    expect(chosen({ envelopeFrom: '%U@ex.org' }, cfg)).toBe('b/envelope-from');
  });

  it('falls back to default without an envelope-from', () => {
    expect(chosen({})).toBe('default/default');
  });

  it('puts the envelope-from into from unless allow_from_override is off', () => {
    expect(chooseAccount(SELECTION, { envelopeFrom: 'x@play.example' }).account.from).toBe('x@play.example');
    expect(chooseAccount(SELECTION, { envelopeFrom: 'nobody@nowhere' }).account.from).toBe('nobody@nowhere');
    const fixed = config('account a\nhost h\nfrom a@b\nallow_from_override off\naccount default : a\n');
    expect(chooseAccount(fixed, { envelopeFrom: 'other@c', account: 'a' }).account.from).toBe('a@b');
    expect(chooseAccount(fixed, { envelopeFrom: 'a@b' })).toMatchObject({ account: { name: 'a', from: 'a@b' } });
    expect(chooseAccount(fixed, { envelopeFrom: 'x@y' }).account).toMatchObject({ name: 'default', from: 'a@b' });
    expect(chooseAccount(fixed, { commandLine: { from: 'cli@x' }, account: 'a' }).account.from).toBe('a@b');
  });

  it('lays the command line over the account', () => {
    const { account } = chooseAccount(SELECTION, { account: 'pat', commandLine: { port: 2525, tls: true, user: 'me' } });
    expect(account).toMatchObject({ host: 'h2', port: 2525, tls: true, user: 'me', from: '*@play.example' });
  });

  describe('without a default account', () => {
    const noDefault = config('account a\nhost ha\nfrom a@x\n');
    const env = { SMTPSERVER: 'mx.example', EMAIL: 'me@example.org' };

    it('uses SMTPSERVER and EMAIL', () => {
      const { account, how } = chooseAccount(noDefault, { env });
      expect(how).toEqual({ kind: 'environment' });
      expect(account).toMatchObject({ host: 'mx.example', from: 'me@example.org', port: 25, file: null });
    });

    it('takes -f over EMAIL, and needs one of them to send', () => {
      expect(chooseAccount(noDefault, { env: { SMTPSERVER: 'mx' }, envelopeFrom: 'f@x' }).account.from).toBe('f@x');
      expect(() => chooseAccount(noDefault, { env: { SMTPSERVER: 'mx' } })).toThrow('account default not found in rc');
      expect(chooseAccount(noDefault, { env: { SMTPSERVER: 'mx' }, sendmail: false }).account.host).toBe('mx');
    });

    it('does not fall back for -a', () => {
      expect(() => chooseAccount(noDefault, { env, account: 'zz' })).toThrow('account zz not found in rc');
    });

    it('names the files read', () => {
      const both: Configuration = {
        ...noDefault,
        files: [{ path: '/etc/msmtprc', role: 'system', loaded: true }, ...noDefault.files],
      };
      expect(() => chooseAccount(both, {})).toThrow(new OutboxError('E_CONFIG', 'account default not found in /etc/msmtprc and rc'));
      const none: Configuration = { files: [{ path: '/etc/msmtprc', role: 'system', loaded: false, reason: 'x' }], accounts: [] };
      expect(() => chooseAccount(none, { account: 'foo' })).toThrow('account foo not found: no configuration file available');
    });
  });

  it('checks the chosen account only', () => {
    const cfg = config('account broken\nport 25\naccount ok\nhost h\n');
    expect(chosen({ account: 'ok' }, cfg)).toBe('ok/named');
    expect(() => chosen({ account: 'broken' }, cfg)).toThrow(new OutboxError('E_CONFIG', 'rc:1: account broken: host not set'));
  });
});

describe('checks on the chosen account (msmtp check_account)', () => {
  const check = (lines: string) => () => chooseAccount(config(`account a\nhost h\n${lines}\n`), { account: 'a' });

  it.each([
    ['protocol lmtp', 'port not set'],
    ['tls_key_file /k', 'tls_key_file requires tls_cert_file'],
    ['tls_cert_file /c', 'tls_cert_file requires tls_key_file'],
    ['tls_trust_file\ntls_crl_file /c', 'tls_crl_file requires tls_trust_file'],
    ['tls\ntls_trust_file', 'tls requires either tls_trust_file (highly recommended) or tls_fingerprint or a disabled tls_certcheck'],
  ])('%j → %s', (lines, problem) => {
    expect(check(lines)).toThrow(`rc:1: account a: ${problem}`);
  });

  it.each([
    ['', 25],
    ['tls\ntls_starttls off', 465],
    ['tls_starttls off', 25],
    ['protocol lmtp\nport 24', 24],
    ['tls\ntls_trust_file\ntls_certcheck off', 25],
    ['tls\ntls_trust_file\ntls_fingerprint ' + Array(32).fill('00').join(':'), 25],
  ])('accepts %j with port %d', (lines, port) => {
    expect(check(lines)().account.port).toBe(port);
  });

  it('fills in the SOCKS port only with a proxy', () => {
    expect(check('proxy_host 127.0.0.1')().account.proxy_port).toBe(1080);
    expect(check('')().account.proxy_port).toBeNull();
    expect(check('proxy_host p\nproxy_port 9050')().account.proxy_port).toBe(9050);
  });

  it('accepts a socket without a host', () => {
    const { account } = chooseAccount(config('account a\nsocket /run/s\n'), { account: 'a' });
    expect(account).toMatchObject({ host: null, socket: '/run/s', port: 25 });
  });
});

describe('commandLineAccount (--host)', () => {
  it('builds the account from the command line alone', () => {
    const { account, how } = commandLineAccount({ commandLine: { host: 'mx', port: 587 }, envelopeFrom: 'a@b' });
    expect(how).toEqual({ kind: 'command-line' });
    expect(account).toMatchObject({ host: 'mx', port: 587, from: 'a@b', file: null, domain: 'localhost' });
  });
});

describe('where the chosen account got each setting', () => {
  const rc = config('account a\nhost h\nfrom a@example.org\npasswordeval pass show a\n');

  it('keeps the file lines, and says "command line" for what the command line replaced', () => {
    const fromFile = chooseAccount(rc, { account: 'a' }).account;
    expect(fromFile.sources).toMatchObject({ host: { file: 'rc', line: 2 }, passwordeval: { file: 'rc', line: 4 } });
    const overridden = chooseAccount(rc, { account: 'a', envelopeFrom: 'b@example.org', commandLine: { passwordeval: 'other' } }).account;
    expect(overridden.sources).toMatchObject({ host: { file: 'rc', line: 2 }, passwordeval: 'command line', from: 'command line' });
  });

  it('has only command-line sources for --host', () => {
    expect(commandLineAccount({ commandLine: { host: 'h', passwordeval: 'x' } }).account.sources).toEqual({ host: 'command line', passwordeval: 'command line' });
  });
});
