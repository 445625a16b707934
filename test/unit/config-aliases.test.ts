import { describe, expect, it } from 'vitest';
import { expandAccountAliases, expandAliases, parseAliases } from '../../src/config/aliases.js';
import { OutboxError } from '../../src/errors.js';
import { thrownOutboxError } from '../helpers/thrown.js';

const FILE = `# Example aliases file
root: joe@example.com, jane@example.com   # trailing comment
Joe: admin
admin: boss@example.com,  cron
cron:cronmaster@example.com
loop1: loop2
loop2: loop1
self: self
spaced : x@example.com
empty:
`;

const table = parseAliases(FILE, '/etc/aliases');
const withDefault = parseAliases(`${FILE}default: catchall@example.com\n`, '/etc/aliases');


describe('expandAliases', () => {
  it.each([
    [['root'], ['joe@example.com', 'jane@example.com']],
    [['Joe'], ['boss@example.com', 'cronmaster@example.com']],
    [['admin', 'cron'], ['boss@example.com', 'cronmaster@example.com', 'cronmaster@example.com']],
    [['spaced'], ['x@example.com']],
    [['joe'], ['joe']],
    [['ROOT'], ['ROOT']],
    [['root@localhost'], ['root@localhost']],
    [['unknown', 'a@b'], ['unknown', 'a@b']],
  ])('%j → %j (without default)', (recipients, result) => {
    expect(expandAliases(recipients, table)).toEqual(result);
  });

  it.each([
    [['joe'], ['catchall@example.com']],
    [['root', 'nobody', 'x@y'], ['joe@example.com', 'jane@example.com', 'catchall@example.com', 'x@y']],
  ])('%j → %j (with default:)', (recipients, result) => {
    expect(expandAliases(recipients, withDefault)).toEqual(result);
  });

  it('expands default: recursively', () => {
    const t = parseAliases('a: zzz\ndefault: root\nroot: r@x\n', 'al');
    expect(expandAliases(['a', 'b'], t)).toEqual(['r@x', 'r@x']);
  });

  it('keeps duplicates, as msmtp does', () => {
    expect(expandAliases(['a'], parseAliases('a: b, c\nb: x@1, y@2\nc: b\n', 'al'))).toEqual(['x@1', 'y@2', 'x@1', 'y@2']);
  });

  it.each([['loop1'], ['self']])('stops the loop %s', (name) => {
    const error = thrownOutboxError(() => expandAliases([name], table));
    expect(error.code).toBe('E_CONFIG');
    expect(error.message).toMatch(new RegExp(`^/etc/aliases:\\d+: too many redirects when expanding alias ${name}$`));
  });

  it('stops a default: that names an unknown local name', () => {
    expect(() => expandAliases(['x'], parseAliases('default: nobody\n', 'al'))).toThrow('al:1: too many redirects when expanding alias x');
  });

  it('allows a chain of 17 lookups and refuses 18, as msmtp', () => {
    const chain = (n: number) =>
      parseAliases(Array.from({ length: n }, (_, i) => `a${i + 1}: a${i + 2}`).join('\n') + `\na${n + 1}: end@x\n`, 'al');
    expect(expandAliases(['a1'], chain(16))).toEqual(['end@x']);
    expect(() => expandAliases(['a1'], chain(17))).toThrow('too many redirects when expanding alias a1');
  });

  it('refuses an alias that lists no address (msmtp would send RCPT TO:<>)', () => {
    expect(() => expandAliases(['empty'], table)).toThrow('/etc/aliases:10: alias empty lists no address');
  });
});

describe('parseAliases', () => {
  it.each([
    ['a: b\nfoo\n', "al:2: single ':' delimiter expected"],
    ['r: s@x:t\n', "al:1: single ':' delimiter expected"],
    ['a: b\n: y@x\n', "al:2: invalid alias ''"],
  ])('%j → %s', (text, message) => {
    expect(thrownOutboxError(() => parseAliases(text, 'al')).message).toBe(message);
  });

  it('takes the first definition of a name', () => {
    expect(expandAliases(['a'], parseAliases('a: one@x\na: two@x\n', 'al'))).toEqual(['one@x']);
  });
});

describe('expandAccountAliases', () => {
  it('reads the file only when a recipient is local', () => {
    const read: string[] = [];
    const readFile = (path: string) => (read.push(path), 'root: r@x\n');
    expect(expandAccountAliases({ aliases: '/al' }, ['a@b'], readFile)).toEqual(['a@b']);
    expect(read).toEqual([]);
    expect(expandAccountAliases({ aliases: '/al' }, ['root', 'a@b'], readFile)).toEqual(['r@x', 'a@b']);
    expect(read).toEqual(['/al']);
    expect(expandAccountAliases({ aliases: null }, ['root'], readFile)).toEqual(['root']);
  });

  it('reports a missing file as a configuration error', () => {
    const readFile = () => {
      throw Object.assign(new Error('x'), { code: 'ENOENT' });
    };
    expect(() => expandAccountAliases({ aliases: '/nope' }, ['root'], readFile)).toThrow(
      new OutboxError('E_CONFIG', '/nope: No such file or directory'),
    );
  });
});
