import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Account } from '../../src/config/account.js';
import {
  autoFrom,
  expandAccount,
  expandDomain,
  expandFrom,
  needsMailFrom,
  requireEnvelopeFrom,
  type SubstitutionInputs,
} from '../../src/config/expand.js';
import { OutboxError } from '../../src/errors.js';

function inputs(overrides: Partial<SubstitutionInputs> = {}): SubstitutionInputs & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    userName: () => (asked.push('U'), 'joe'),
    hostName: () => (asked.push('H'), 'box'),
    canonicalHostName: async () => (asked.push('C'), 'box.example.org'),
    mailname: () => (asked.push('M'), 'example.org'),
    ...overrides,
  };
}

const account = (settings: Partial<Account>): Account => ({ ...DEFAULT_SETTINGS, name: 'a', file: 'rc', line: 1, ...settings });

describe('expandFrom', () => {
  it.each([
    ['%U@%H', 'joe@box'],
    ['%U@%C', 'joe@box.example.org'],
    ['%U@%M', 'joe@example.org'],
    ['%U.%U@%M', 'joe.joe@example.org'],
    ['%%U', '%joe'],
    ['%X@%U', '%X@joe'],
    ['%U%', 'joe%'],
    ['plain@example.com', 'plain@example.com'],
  ])('%j → %j', async (from, result) => {
    expect(await expandFrom(from, inputs())).toBe(result);
  });

  it('asks only for the values the patterns need', async () => {
    const i = inputs();
    await expandFrom('%U@x', i);
    expect(i.asked).toEqual(['U']);
  });

  it('replaces %F with the mail\'s From, and leaves it when the mail was not read', async () => {
    expect(await expandFrom('%F', inputs({ mailFrom: 'author@example.net' }))).toBe('author@example.net');
    expect(await expandFrom('%F', inputs())).toBe('%F');
  });

  it('substitutes %M first, so a mailname with %U is substituted again (as msmtp)', async () => {
    expect(await expandFrom('%M', inputs({ mailname: () => '%U.example' }))).toBe('joe.example');
  });

  it('lets a %M error through', async () => {
    const error = new OutboxError('E_CONFIG', '/etc/mailname: No such file or directory');
    await expect(expandFrom('x@%M', inputs({ mailname: () => { throw error; } }))).rejects.toBe(error);
  });
});

describe('expandDomain', () => {
  it.each([
    ['%H', 'box'],
    ['%C', 'box.example.org'],
    ['%M', 'example.org'],
    ['%U', '%U'],
    ['localhost', 'localhost'],
  ])('%j → %j', async (domain, result) => {
    expect(await expandDomain(domain, inputs())).toBe(result);
  });
});

describe('expandAccount', () => {
  it('expands from and domain', async () => {
    const a = await expandAccount(account({ from: '%U@%H', domain: '%C' }), inputs());
    expect(a).toMatchObject({ from: 'joe@box', domain: 'box.example.org' });
  });

  it('applies auto_from: user@maildomain, or just user', async () => {
    expect((await expandAccount(account({ auto_from: true, maildomain: 'ex.org', from: 'x@y' }), inputs())).from).toBe('joe@ex.org');
    expect((await expandAccount(account({ auto_from: true }), inputs())).from).toBe('joe');
    expect((await expandAccount(account({ auto_from: true, maildomain: '' }), inputs())).from).toBe('joe');
    expect(autoFrom('u', 'd')).toBe('u@d');
  });

  it('keeps a missing from missing', async () => {
    expect((await expandAccount(account({}), inputs())).from).toBeNull();
  });
});

describe('needsMailFrom and requireEnvelopeFrom', () => {
  it('says when the From header must be read first', () => {
    expect(needsMailFrom({ from: '%F', auto_from: false })).toBe(true);
    expect(needsMailFrom({ from: '%F', auto_from: true })).toBe(false);
    expect(needsMailFrom({ from: 'a@b', auto_from: false })).toBe(false);
    expect(needsMailFrom({ from: null, auto_from: false })).toBe(false);
  });

  it('refuses to send without an envelope-from, and accepts an empty one', () => {
    expect(() => requireEnvelopeFrom(account({}))).toThrow(new OutboxError('E_NO_ENVELOPE_FROM', 'rc:1: account a: envelope-from address is missing'));
    expect(requireEnvelopeFrom(account({ from: '' }))).toBe('');
  });
});
