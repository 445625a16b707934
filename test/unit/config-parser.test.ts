import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { layer, resolveAccount } from '../../src/config/layer.js';
import { parseConfigFile, type ParsedFile } from '../../src/config/parser.js';
import type { CommandOutcome, CommandRunner } from '../../src/config/shell.js';
import type { Account } from '../../src/config/account.js';
import { OutboxError } from '../../src/errors.js';

/** A runner that answers from a table and records what it ran. */
function fakeRunner(outputs: Record<string, CommandOutcome | string> = {}): CommandRunner & { ran: string[] } {
  const ran: string[] = [];
  const run = (command: string): CommandOutcome => {
    ran.push(command);
    const out = outputs[command];
    if (out === undefined) return { stdout: '', status: 127 };
    return typeof out === 'string' ? { stdout: out, status: 0 } : out;
  };
  return Object.assign(run, { ran });
}

function parse(text: string, runCommand: CommandRunner = fakeRunner()): ParsedFile {
  return parseConfigFile(text, 'rc', { home: '/home/u', runCommand });
}

function account(parsed: ParsedFile, name: string): Account {
  const definition = parsed.accounts.find((a) => a.name === name);
  if (!definition) throw new Error(`no account ${name}`);
  return resolveAccount(definition, definition.defaults, definition.explicit);
}

function failure(text: string, runCommand?: CommandRunner): OutboxError {
  try {
    parse(text, runCommand);
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    return error as OutboxError;
  }
  throw new Error('no error');
}

describe('layer', () => {
  it('lets later layers win, null included, and ignores undefined', () => {
    expect(layer({ host: 'a', port: 1, user: 'u' }, { host: 'b', user: null }, { port: undefined })).toEqual({
      host: 'b',
      port: 1,
      user: null,
    });
  });

  it('resolves an account over the built-in defaults', () => {
    const a = resolveAccount({ name: 'x', file: 'rc', line: 3 }, { tls: true }, { port: 465 });
    expect(a).toMatchObject({ name: 'x', file: 'rc', line: 3, tls: true, port: 465, domain: 'localhost', auth: 'off' });
  });
});

describe('parseConfigFile: sections and inheritance', () => {
  it('applies defaults to the accounts that follow, in order, without resetting', () => {
    const parsed = parse('defaults\nport 1\naccount a\nhost ha\ndefaults\ntls on\naccount b\nhost hb\n');
    expect(account(parsed, 'a')).toMatchObject({ port: 1, tls: false, host: 'ha', line: 3 });
    expect(account(parsed, 'b')).toMatchObject({ port: 1, tls: true, host: 'hb', line: 7 });
  });

  it('inherits what the parents set explicitly, not what their defaults gave them', () => {
    const parsed = parse('defaults\nport 1\naccount y\nhost hy\ndefaults\nport 2\naccount x : y\n');
    expect(account(parsed, 'x')).toMatchObject({ host: 'hy', port: 2 });
  });

  it('inherits from several parents, later ones winning, then its own lines', () => {
    const parsed = parse('account y\nport 5\nhost hy\naccount z\nport 7\nhost hz\nauth on\naccount x : y, z\nhost h\n');
    expect(account(parsed, 'x')).toMatchObject({ host: 'h', port: 7, auth: 'on' });
  });

  it('passes inherited settings on to grandchildren', () => {
    const parsed = parse('account y\nhost hy\nport 1\naccount x : y\nport 2\naccount z : x\n');
    expect(account(parsed, 'z')).toMatchObject({ host: 'hy', port: 2 });
  });

  it.each(['x:y', 'x :y', 'x: y', 'x : y', 'x\t:\ty'])('reads the header %j', (header) => {
    const parsed = parse(`account y\nhost hy\naccount ${header}\n`);
    expect(account(parsed, 'x').host).toBe('hy');
  });

  it('supports account default : NAME', () => {
    const parsed = parse('account work\nhost w\nfrom a@w\naccount default : work\nport 2525\n');
    expect(account(parsed, 'default')).toMatchObject({ host: 'w', from: 'a@w', port: 2525 });
    expect(parsed.accounts.map((a) => a.name)).toEqual(['work', 'default']);
  });

  it('allows blanks inside an account name', () => {
    expect(parse('account my work\nhost h\n').accounts[0]!.name).toBe('my work');
  });

  it('puts settings before the first section into an implicit account default (as msmtp)', () => {
    const parsed = parse('# c\nhost h\nport 1\ndefaults\nport 2\naccount x\nhost hx\n');
    expect(parsed.accounts.map((a) => [a.name, a.line])).toEqual([
      ['default', 2],
      ['x', 6],
    ]);
    expect(account(parsed, 'default')).toMatchObject({ host: 'h', port: 1 });
    expect(account(parsed, 'x')).toMatchObject({ host: 'hx', port: 2 });
    expect(account(parse('host h\naccount z : default\n'), 'z').host).toBe('h');
    expect(failure('host h\naccount default\n').message).toBe('rc:2: account default was already defined');
  });

  it('has no implicit account when the file starts with defaults or account', () => {
    expect(parse('defaults\nport 1\nhost h\n').accounts).toEqual([]);
    expect(parse('account z\nhost h\n').accounts.map((a) => a.name)).toEqual(['z']);
  });

  it('records the lines that hold a password', () => {
    expect(parse('account a\npassword x\npassword\naccount b\npasswordeval p\n').passwordLines).toEqual([2]);
  });

  it('accepts an empty file and a file of comments', () => {
    expect(parse('').accounts).toEqual([]);
    expect(parse('# nothing\n\n   \n').accounts).toEqual([]);
  });
});

describe('parseConfigFile: errors carry file:line', () => {
  it.each([
    ['account x\nhost h\nfoo bar\n', 'rc:3: unknown command foo'],
    ['account x\nhost\n', 'rc:2: command host needs an argument'],
    ['account x\nhost h\naccount x\n', 'rc:3: account x was already defined'],
    ['account x : y\n', 'rc:1: account y not (yet) defined'],
    ['account x : x\n', 'rc:1: account x not (yet) defined'],
    ['account y\naccount x : y,,y\n', 'rc:2: missing account name'],
    ['account y\naccount x :\n', 'rc:2: missing account name'],
    ['account y\naccount x : y, \n', 'rc:2: missing account name'],
    ['account\n', 'rc:1: missing account name'],
    ['account : y\n', 'rc:1: missing account name'],
    ['account x,y\n', 'rc:1: an account name must not contain colons or commas'],
    ['account y\naccount x : y:z\n', 'rc:2: an account name must not contain colons or commas'],
    ['defaults foo\n', 'rc:1: command defaults does not take an argument'],
    ['account x\n\u0001 x\n', 'rc:2: unknown command ?'],
    ['account x\nport 99999\n', 'rc:2: invalid argument 99999 for command port'],
  ])('%j → %s', (text, message) => {
    const error = failure(text);
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toBe(message);
  });
});

describe('parseConfigFile: where each setting was set', () => {
  const at = (line: number) => ({ file: 'rc', line });

  it('records the line of each setting: defaults, inherited, own, later wins', () => {
    const text = 'defaults\npasswordeval d-cmd\nport 1\naccount a\nhost ha\npasswordeval a-cmd\naccount b : a\nport 2\naccount c\nhost hc\n';
    const parsed = parse(text);
    expect(account(parsed, 'a').sources).toMatchObject({ passwordeval: at(6), port: at(3), host: at(5) });
    expect(account(parsed, 'b').sources).toMatchObject({ passwordeval: at(6), port: at(8), host: at(5) });
    expect(account(parsed, 'c').sources).toMatchObject({ passwordeval: at(2), port: at(3), host: at(10) });
  });

  it('gives what an eval line printed the eval line', () => {
    const parsed = parse('account x\nhost h\n\neval pe\n', fakeRunner({ pe: 'passwordeval pass show smtp\n' }));
    expect(account(parsed, 'x').sources?.passwordeval).toEqual(at(4));
  });

  it('passes on what a parent set, not its defaults', () => {
    const parsed = parse('account a\nhost ha\ndefaults\ntls on\naccount b : a\n');
    expect(account(parsed, 'b').sources).toEqual({ host: at(2), tls: at(4) });
    expect(account(parsed, 'a').sources).toEqual({ host: at(2) });
  });
});

describe('parseConfigFile: eval', () => {
  it('replaces the line with the first line the command prints', () => {
    const runner = fakeRunner({ 'echo port 26': 'port 26\n', 'two lines': 'port 28\nport 29\n', 'crlf': 'port 30\r\n' });
    const parsed = parse('account x\nhost h\neval echo port 26\n', runner);
    expect(account(parsed, 'x').port).toBe(26);
    expect(account(parse('account x\neval two lines\n', runner), 'x').port).toBe(28);
    expect(account(parse('account x\neval crlf\n', runner), 'x').port).toBe(30);
    expect(runner.ran).toEqual(['echo port 26', 'two lines', 'crlf']);
  });

  it('takes output without a final newline, and treats a blank or comment line as nothing', () => {
    const runner = fakeRunner({ a: 'port 27', b: '\n', c: '# c\n' });
    expect(account(parse('account x\neval a\n', runner), 'x').port).toBe(27);
    expect(account(parse('account x\neval b\neval c\n', runner), 'x').port).toBeNull();
  });

  it('lets eval start accounts and set passwords (which count as secrets)', () => {
    const runner = fakeRunner({ acc: 'account y\n', pw: 'password s3\n' });
    const parsed = parse('account x\nhost h\neval acc\nhost hy\neval pw\n', runner);
    expect(account(parsed, 'y')).toMatchObject({ host: 'hy', password: 's3' });
    expect(parsed.passwordLines).toEqual([5]);
  });

  it.each([
    ['eval\n', 'rc:1: command eval needs an argument', 'E_CONFIG'],
    ['eval true\n', 'rc:1: eval: the command printed nothing', 'E_IO'],
    ['eval false\n', 'rc:1: eval: the command failed with exit status 1', 'E_IO'],
    ['eval killed\n', 'rc:1: eval: the command was killed by SIGKILL', 'E_IO'],
    ['eval slow\n', 'rc:1: eval: the command timed out after 120 s', 'E_IO'],
    ['eval foo\n', 'rc:1: eval: the command printed an unknown command (the line is not shown: it may hold a secret)', 'E_CONFIG'],
    ['eval port\n', 'rc:1: eval: the command printed a port line that is not valid (the line is not shown: it may hold a secret)', 'E_CONFIG'],
    ['eval again\n', 'rc:1: eval: the command printed another eval command', 'E_CONFIG'],
  ])('%j → %s', (text, message, code) => {
    const runner = fakeRunner({
      true: '',
      false: { stdout: 'port 1\n', status: 1 },
      killed: { stdout: '', status: null, signal: 'SIGKILL' },
      slow: { stdout: '', status: null, error: 'timed out after 120 s' },
      foo: 'foo bar\n',
      port: 'port hunter2\n',
      again: 'eval echo port 30\n',
    });
    const error = failure(text, runner);
    expect(error.message).toBe(message);
    expect(error.code).toBe(code);
  });

  it('never puts a password printed by eval into an error', () => {
    const runner = fakeRunner({ pw: 'passwrd hunter2\n', bare: 'hunter2\n' });
    expect(failure('account x\neval pw\n', runner).message).not.toContain('hunter2');
    // An eval meant as passwordeval: the password alone is "an unknown command".
    expect(failure('account x\neval bare\n', runner).message).not.toContain('hunter2');
  });

  it('never puts the command into an error, whatever went wrong', () => {
    const command = "curl -su bob:hunter2 https://vault.example/rc";
    const outcomes: CommandOutcome[] = [
      { stdout: '', status: 0 },
      { stdout: '', status: 22 },
      { stdout: '', status: null, signal: 'SIGKILL' },
      { stdout: '', status: null, error: 'could not be run (ENOENT)' },
    ];
    for (const outcome of outcomes) {
      const message = failure(`account x\n\neval ${command}\n`, fakeRunner({ [command]: outcome })).message;
      expect(message).toMatch(/^rc:3: eval: the command /);
      expect(message).not.toContain('curl');
      expect(message).not.toContain('hunter2');
    }
  });
});

describe('parseConfigFile: any bytes', () => {
  const commandWords = ['account', 'defaults', 'host', 'port', 'tls', 'auth', 'from', 'eval', 'password', 'timeout', '#', ':', ','];
  const lineArbitrary = fc.oneof(
    fc.string(),
    fc.tuple(fc.constantFrom(...commandWords), fc.string()).map(([c, a]) => `${c} ${a}`),
  );

  it('either parses or fails with an OutboxError starting with file:line:', () => {
    const runner = fakeRunner({});
    const check = (content: Uint8Array | string) => {
      try {
        parseConfigFile(content, 'cfg', { home: '/h', runCommand: (c) => (c.length % 2 ? { stdout: `${c}\n`, status: 0 } : runner(c)) });
      } catch (error) {
        expect(error).toBeInstanceOf(OutboxError);
        expect((error as Error).message).toMatch(/^cfg:\d+: /);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.array(lineArbitrary, { maxLength: 20 }).map((l) => l.join('\n')), check), { numRuns: 1000 });
  });
});
