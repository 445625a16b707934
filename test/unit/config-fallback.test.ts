/**
 * `fallback_account` (issue 16): the chain an account falls over along,
 * unknown names and loops refused when the files are read (at the line of
 * the `fallback_account` command), each fallback resolved from its own lines,
 * and what --pretend shows.
 */
import { describe, expect, it } from 'vitest';
import { chooseAccount } from '../../src/config/select.js';
import { describeChain, fallbackChain } from '../../src/config/fallback.js';
import { loadConfiguration, type LoadRequest } from '../../src/config/files.js';
import { pretendLines, renderPretend } from '../../src/config/pretend.js';
import { OutboxError } from '../../src/errors.js';
import { thrownOutboxError } from '../helpers/thrown.js';

const USER = '/home/u/.msmtprc';
const SYSTEM = '/sys/msmtprc';

function request(user: string, system?: string): LoadRequest {
  const files: Record<string, string> = { [USER]: user, ...(system !== undefined ? { [SYSTEM]: system } : {}) };
  const read = (path: string): string => {
    const content = files[path];
    if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return content;
  };
  return {
    env: { OUTBOX_SYSTEM_CONFIG: SYSTEM },
    home: '/home/u',
    euid: 1000,
    fs: { readFile: (p) => Buffer.from(read(p)), stat: () => ({ uid: 1000, mode: 0o100600 }), exists: (p) => p in files },
    runCommand: () => ({ stdout: '', status: 1 }),
  };
}

const load = (user: string, system?: string) => loadConfiguration(request(user, system));

function chainOf(user: string, account: string, commandLine = {}): string[] {
  const config = load(user);
  const chosen = chooseAccount(config, { account, commandLine });
  return fallbackChain(config.accounts, chosen.account).map((a) => a.name);
}

const THREE = `account a
host a.example
fallback_account b

account b
host b.example
port 2525
fallback_account c

account c
host c.example
`;

describe('the chain', () => {
  it('follows fallback_account from the chosen account to an account without one', () => {
    expect(chainOf(THREE, 'a')).toEqual(['b', 'c']);
    expect(chainOf(THREE, 'b')).toEqual(['c']);
    expect(chainOf(THREE, 'c')).toEqual([]);
  });

  it('uses each fallback as its own lines define it; the command line changes only the chosen account', () => {
    const config = load(THREE);
    const chosen = chooseAccount(config, { account: 'a', commandLine: { port: 587, timeout: 9 } });
    const [b, c] = fallbackChain(config.accounts, chosen.account);
    expect(chosen.account).toMatchObject({ host: 'a.example', port: 587, timeout: 9 });
    expect(b).toMatchObject({ name: 'b', host: 'b.example', port: 2525, timeout: 'off', file: USER, line: 5 });
    expect(c).toMatchObject({ name: 'c', host: 'c.example', port: 25 });
  });

  it('may name an account defined later in the file, or in the system file', () => {
    expect(chainOf('account a\nhost h\nfallback_account z\naccount z\nhost hz\n', 'a')).toEqual(['z']);
    const config = load('account a\nhost h\nfallback_account sys\n', 'account sys\nhost hs\n');
    expect(fallbackChain(config.accounts, chooseAccount(config, { account: 'a' }).account).map((a) => a.host)).toEqual(['hs']);
  });

  it('is inherited from defaults and from `account x : y`; an empty argument unsets it', () => {
    const text = 'defaults\nfallback_account backup\naccount backup\nhost hb\nfallback_account\naccount a\nhost ha\naccount x : a\n';
    expect(chainOf(text, 'a')).toEqual(['backup']);
    expect(chainOf(text, 'x')).toEqual(['backup']);
    expect(chainOf(text, 'backup')).toEqual([]);
  });

  it('checks each fallback as msmtp checks an account, when the chain is built', () => {
    const error = thrownOutboxError(() => chainOf('account a\nhost h\nfallback_account b\naccount b\nprotocol lmtp\nhost hb\n', 'a'));
    expect(error).toMatchObject({ code: 'E_CONFIG', message: `${USER}:4: account b: port not set` });
  });

  it('is empty for an account without a file (--host)', () => {
    expect(fallbackChain([], { name: '(command line)', fallback_account: null })).toEqual([]);
  });
});

describe('refused when the files are read', () => {
  const cases: Array<[string, string, string]> = [
    ['an unknown account', 'account a\nhost h\nfallback_account nobody\n', `${USER}:3: fallback_account: account nobody not found`],
    ['an account that falls back to itself', 'account a\nhost h\nfallback_account a\n', `${USER}:3: fallback_account: the chain a → a comes back to account a`],
    [
      'a loop of two',
      'account a\nhost h\nfallback_account b\naccount b\nhost h\nfallback_account a\n',
      `${USER}:3: fallback_account: the chain a → b → a comes back to account a`,
    ],
    [
      'a loop that does not include the first account (reported at a member of the loop)',
      'account a\nhost h\nfallback_account b\naccount b\nhost h\nfallback_account c\naccount c\nhost h\nfallback_account b\n',
      `${USER}:6: fallback_account: the chain b → c → b comes back to account b`,
    ],
    [
      'fallback_account in defaults that reaches its own account (the defaults line is named)',
      'defaults\nfallback_account backup\naccount backup\nhost hb\naccount a\nhost ha\n',
      `${USER}:2: fallback_account: the chain backup → backup comes back to account backup`,
    ],
  ];
  it.each(cases)('%s', (_, text, message) => {
    const error = thrownOutboxError(() => load(text));
    expect(error).toBeInstanceOf(OutboxError);
    expect(error).toMatchObject({ code: 'E_CONFIG', message });
  });

  it('in whichever account it is, even one that is not used', () => {
    const error = thrownOutboxError(() => load('account a\nhost h\naccount unused\nhost h\nfallback_account gone\n'));
    expect(error.message).toBe(`${USER}:5: fallback_account: account gone not found`);
  });

  it('a chain that ends is accepted however long', () => {
    const text = Array.from({ length: 20 }, (_, i) => `account n${i}\nhost h${i}\n${i < 19 ? `fallback_account n${i + 1}\n` : ''}`).join('');
    expect(chainOf(text, 'n0')).toHaveLength(19);
  });
});

describe('--pretend', () => {
  it('describes the chain: the next account, then the rest in brackets', () => {
    expect(describeChain(['b'])).toBe('b');
    expect(describeChain(['b', 'c'])).toBe('b (→ c)');
    expect(describeChain(['b', 'c', 'd'])).toBe('b (→ c → d)');
  });

  it('adds one line at the end, only when there is a chain, and leaves the other lines as they were', () => {
    const config = load(THREE);
    const chosen = chooseAccount(config, { account: 'a' });
    const without = renderPretend(pretendLines({ chosen }));
    const withChain = renderPretend(pretendLines({ chosen, fallbacks: ['b', 'c'] }));
    expect(withChain.replace('fallback_account = b (→ c)\n', '')).toBe(without);
    expect(withChain).toMatch(/\naliases = \(not set\)\nfallback_account = b \(→ c\)\nreading recipients from the command line\n$/);
    expect(renderPretend(pretendLines({ chosen, fallbacks: [] }))).toBe(without);
    expect(renderPretend(pretendLines({ chosen, mode: 'serverinfo', fallbacks: ['b'] }))).not.toContain('fallback_account');
  });
});
