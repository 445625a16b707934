/**
 * The configuration of local delivery (issue 15: `mda`, `local_domains`,
 * `force_mda`) and of recipient routing (issue 16: `route`): the command's
 * word splitting as a shell would split it, the refusal of shell syntax that
 * would silently mean something else without a shell, and routes' rules.
 */
import { describe, expect, it } from 'vitest';
import { loadConfiguration, parseCommand, parseConfigFile, type FileSystem } from '../../src/config/index.js';
import { parseMda, splitWords } from '../../src/config/mda.js';
import { routeFor, type Route } from '../../src/config/routes.js';
import { chooseAccount } from '../../src/config/select.js';
import { OutboxError } from '../../src/errors.js';

const HOME = '/home/u';
const parse = (text: string, file = '/home/u/.msmtprc') => parseConfigFile(text, file, { home: HOME, runCommand: () => ({ stdout: '', status: 1 }) });

describe('splitWords: a shell simple command, without expansions', () => {
  it.each([
    ['procmail -d %T', ['procmail', '-d', '%T']],
    ['  a   b\tc  ', ['a', 'b', 'c']],
    ["a 'b c' d", ['a', 'b c', 'd']],
    ['a "b c" d', ['a', 'b c', 'd']],
    ['a"b"\'c\'d', ['abcd']],
    ['a "" b', ['a', '', 'b']],
    ["''", ['']],
    ['a\\ b', ['a b']],
    ['"a\\"b"', ['a"b']],
    ['"a\\\\b"', ['a\\b']],
    ['"a\\xb"', ['a\\xb']],
    ["'a\\b'", ['a\\b']],
    ['"%T"', ['%T']],
    ["'|' ';' \"&\" '$HOME'", ['|', ';', '&', '$HOME']],
    ['\\|', ['|']],
    ['a\\\nb', ['ab']],
    ['dovecot-lda -f %F -d %T', ['dovecot-lda', '-f', '%F', '-d', '%T']],
  ])('%j → %j', (text, words) => expect(splitWords(text)).toEqual(words));

  it.each([
    ['procmail | tee x', /\| would need a shell/],
    ['procmail; rm -rf /', /; would need a shell/],
    ['procmail > /tmp/x', /> would need a shell/],
    ['procmail < /tmp/x', /< would need a shell/],
    ['procmail &', /& would need a shell/],
    ['$(id)', /\$ would need a shell/],
    ['`id`', /` would need a shell/],
    ['"$HOME"', /\$ inside/],
    ['a (b)', /\( would need a shell/],
    ["'unterminated", /unterminated single quote/],
    ['"unterminated', /unterminated double quote/],
    ['trailing\\', /backslash at the end/],
  ])('%j is refused', (text, message) => expect(() => splitWords(text)).toThrow(message));
});

describe('parseMda', () => {
  it('reads the built-in mailboxes, with ~ and %T kept for delivery', () => {
    expect(parseMda('maildir:~/Maildir', HOME)).toEqual({ kind: 'maildir', path: '/home/u/Maildir' });
    expect(parseMda('mbox:/var/mail/%T', HOME)).toEqual({ kind: 'mbox', path: '/var/mail/%T' });
    expect(() => parseMda('maildir:Maildir', HOME)).toThrow(/absolute path/);
  });

  it('reads a command, its program with ~ expanded', () => {
    expect(parseMda('~/bin/deliver -f %F %T', HOME)).toEqual({ kind: 'command', words: ['/home/u/bin/deliver', '-f', '%F', '%T'] });
  });
});

describe('the commands', () => {
  it('mda keeps the text as written and checks it; empty unsets', () => {
    expect(parseCommand('mda', 'procmail -d %T', HOME)).toEqual({ mda: 'procmail -d %T' });
    expect(parseCommand('mda', '', HOME)).toEqual({ mda: null });
  });

  it('local_domains takes commas or blanks, ignoring ASCII case', () => {
    expect(parseCommand('local_domains', 'Host.Example, localhost  mail.example', HOME)).toEqual({ local_domains: ['host.example', 'localhost', 'mail.example'] });
  });

  it('force_mda is on/off', () => {
    expect(parseCommand('force_mda', '', HOME)).toEqual({ force_mda: true });
    expect(() => parseCommand('force_mda', 'maybe', HOME)).toThrow(/invalid argument maybe for command force_mda/);
  });

  it('a bad mda is an error at its file:line', () => {
    expect(() => parse('account a\nhost h\nmda procmail | tee /tmp/x\n')).toThrow(new OutboxError('E_CONFIG', '/home/u/.msmtprc:3: invalid argument for command mda: | would need a shell: outbox runs the command without one (quote it if it is meant literally)'));
  });

  it('an account with an mda needs no host until a recipient is not local', () => {
    const config = { files: [], accounts: parse('account default\nmda maildir:/var/mail/root\nforce_mda on\n').accounts };
    expect(chooseAccount(config).account.mda).toBe('maildir:/var/mail/root');
    const plain = { files: [], accounts: parse('account default\nfrom a@b\n').accounts };
    expect(() => chooseAccount(plain)).toThrow(/host not set/);
  });
});

describe('route', () => {
  it('is read in defaults only, in file order, with its line', () => {
    const parsed = parse('defaults\nroute *@work.example work\nroute boss@home.example my home\naccount work\nhost w\naccount my home\nhost h\n');
    expect(parsed.routes).toEqual([
      { pattern: '*@work.example', account: 'work', file: '/home/u/.msmtprc', line: 2 },
      { pattern: 'boss@home.example', account: 'my home', file: '/home/u/.msmtprc', line: 3 },
    ]);
  });

  it('in an account, or before any section, is an error at its line', () => {
    expect(() => parse('account a\nhost h\nroute * a\n')).toThrow(new OutboxError('E_CONFIG', '/home/u/.msmtprc:3: command route is allowed only in a defaults section'));
    expect(() => parse('route * a\n')).toThrow(/:1: command route is allowed only in a defaults section/);
    expect(() => parse('defaults\nroute *\n')).toThrow(/:2: command route needs a pattern and an account/);
  });

  it('naming an account that neither file defines is an error at the route line', () => {
    const files: Record<string, string> = {
      '/etc/msmtprc': 'account sys\nhost s\n',
      '/home/u/.msmtprc': 'defaults\nroute *@a.example sys\nroute *@b.example nope\naccount default\nhost d\n',
    };
    const fs: FileSystem = {
      readFile: (path) => {
        if (!(path in files)) throw Object.assign(new Error('no'), { code: 'ENOENT' });
        return Buffer.from(files[path]!);
      },
      stat: () => ({ uid: 0, mode: 0o600 }),
      exists: (path) => path in files,
    };
    const load = () => loadConfiguration({ env: {}, home: HOME, euid: 0, fs, runCommand: () => ({ stdout: '', status: 1 }) });
    expect(load).toThrow(new OutboxError('E_CONFIG', '/home/u/.msmtprc:3: route: account nope not defined'));
    files['/home/u/.msmtprc'] = 'defaults\nroute *@a.example sys\naccount default\nhost d\n';
    expect(load().routes).toEqual([{ pattern: '*@a.example', account: 'sys', file: '/home/u/.msmtprc', line: 2 }]);
  });

  it('matches as msmtp matches from: globs case-sensitively, plain addresses ignoring case; first match wins', () => {
    const at = (pattern: string, account: string): Route => ({ pattern, account, file: 'rc', line: 1 });
    const routes = [at('Boss@Work.example', 'boss'), at('*@work.example', 'work'), at('*@*.work.example', 'sub'), at('root', 'local'), at('*', 'rest')];
    expect(routeFor(routes, 'boss@work.example')?.account).toBe('boss');
    expect(routeFor(routes, 'ann@work.example')?.account).toBe('work');
    expect(routeFor(routes, 'ann@WORK.example')?.account).toBe('rest');
    expect(routeFor(routes, 'ann@lists.work.example')?.account).toBe('sub');
    expect(routeFor(routes, 'root')?.account).toBe('local');
    expect(routeFor(routes.slice(0, 3), 'x@y.example')).toBeUndefined();
  });
});
