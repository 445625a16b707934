import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { OutboxError } from '../../src/errors.js';
import {
  flattenMailboxes,
  parseAddressList,
  parseRecipientArgument,
  type AddressEntry,
  type Mailbox,
} from '../../src/message/address-list.js';

type Case = [input: string, expected: AddressEntry[]];

const one = (address: string, name?: string): AddressEntry[] => [name === undefined ? { address } : { name, address }];

function table(title: string, cases: Case[]): void {
  describe(title, () => {
    it.each(cases)('%j', (input, expected) => {
      expect(parseAddressList(input)).toEqual(expected);
    });
  });
}

table('display names', [
  ['John Smith <john@example.com>', one('john@example.com', 'John Smith')],
  ['"Smith, John" <john@example.com>', one('john@example.com', 'Smith, John')],
  ['"John \\"Johnny\\" Smith" <j@x>', one('j@x', 'John "Johnny" Smith')],
  ['"back\\\\slash" <j@x>', one('j@x', 'back\\slash')],
  ['"  spaced  out " <j@x>', one('j@x', '  spaced  out ')],
  ['John    Smith <j@x>', one('j@x', 'John Smith')],
  ['"John"Smith <j@x>', one('j@x', 'JohnSmith')],
  ['"John" "Smith" <j@x>', one('j@x', 'John Smith')],
  ['"" <j@x>', one('j@x')],
  ['Jörg Müller <j@x>', one('j@x', 'Jörg Müller')],
]);

table('angle-addr and addr-spec', [
  ['<john@example.com>', one('john@example.com')],
  ['john@example.com', one('john@example.com')],
  ['  john@example.com  ', one('john@example.com')],
  ['john.q.public@mail.example.com', one('john.q.public@mail.example.com')],
  ['a@b, c@d', [{ address: 'a@b' }, { address: 'c@d' }]],
  ['a@b,Name <c@d>,<e@f>', [{ address: 'a@b' }, { name: 'Name', address: 'c@d' }, { address: 'e@f' }]],
  ['', []],
  ['   ', []],
]);

table('comments', [
  ['a(comment)@b', one('a@b')],
  ['a@(comment)b', one('a@b')],
  ['a@b (John Smith)', one('a@b')],
  ['(lead) John (middle) Smith (end) <j@x> (after)', one('j@x', 'John Smith')],
  ['a@b (one (two (three)) back)', one('a@b')],
  ['a@b (escaped \\) paren and \\( and "quote)', one('a@b')],
  ['<(inside)j@x(there)>', one('j@x')],
  ['John(no space)Smith <j@x>', one('j@x', 'John Smith')],
]);

table('groups', [
  ['Team: a@x, b@y;', [{ group: 'Team', mailboxes: [{ address: 'a@x' }, { address: 'b@y' }] }]],
  ['undisclosed-recipients:;', [{ group: 'undisclosed-recipients', mailboxes: [] }]],
  ['undisclosed-recipients: ;', [{ group: 'undisclosed-recipients', mailboxes: [] }]],
  ['"The Team": Al <a@x>;', [{ group: 'The Team', mailboxes: [{ name: 'Al', address: 'a@x' }] }]],
  ['G: ,a@x,,;', [{ group: 'G', mailboxes: [{ address: 'a@x' }] }]],
  ['G: a@x; (done), c@d', [{ group: 'G', mailboxes: [{ address: 'a@x' }] }, { address: 'c@d' }]],
  ['a@b, G:;, c@d', [{ address: 'a@b' }, { group: 'G', mailboxes: [] }, { address: 'c@d' }]],
]);

table('folded lines', [
  ['John\r\n Smith <j@x>', one('j@x', 'John Smith')],
  ['a@b,\r\n\tc@d', [{ address: 'a@b' }, { address: 'c@d' }]],
  ['a@b,\n c@d', [{ address: 'a@b' }, { address: 'c@d' }]],
  ['"John\r\n Smith" <j@x>', one('j@x', 'John Smith')],
  ['a@b (fold\r\n inside comment)', one('a@b')],
  ['a@[127.0.0.1\r\n ]', one('a@[127.0.0.1]')],
]);

table('encoded words', [
  ['=?utf-8?Q?J=C3=B6rg?= <j@x>', one('j@x', 'Jörg')],
  ['=?UTF-8?B?SsO2cmc=?= Smith <j@x>', one('j@x', 'Jörg Smith')],
  ['=?utf-8?q?J=C3=B6rg?= =?utf-8?q?_M=C3=BCller?= <j@x>', one('j@x', 'Jörg Müller')],
  ['=?iso-8859-1?q?Andr=E9?= <a@x>', one('a@x', 'André')],
  ['=?us-ascii?q?Plain?= <a@x>', one('a@x', 'Plain')],
  ['=?x-unknown?q?abc?= <a@x>', one('a@x', '=?x-unknown?q?abc?=')],
  ['=?utf-8?b?!!!?= <a@x>', one('a@x', '=?utf-8?b?!!!?=')],
  ['"=?utf-8?q?quoted?=" <a@x>', one('a@x', '=?utf-8?q?quoted?=')],
  ['=?utf-8?q?a=0D=0Ab?= <a@x>', one('a@x', '=?utf-8?q?a=0D=0Ab?=')],
  ['=?utf-8?q?J._Public?= <j@x>', one('j@x', 'J. Public')],
  ['=?utf-8?q?T=C3=A9am?=: a@x;', [{ group: 'Téam', mailboxes: [{ address: 'a@x' }] }]],
]);

table('obsolete syntax', [
  ['<@route.example:a@b>', one('a@b')],
  ['<@r1.example,@r2.example:a@b>', one('a@b')],
  ['Name <@r1, @r2 : a@b>', one('a@b', 'Name')],
  ['a@b,,c@d', [{ address: 'a@b' }, { address: 'c@d' }]],
  [',a@b,', one('a@b')],
  [', , ,', []],
  ['John Q. Public <j@x>', one('j@x', 'John Q. Public')],
  ['Dr. J. .Q <j@x>', one('j@x', 'Dr. J. .Q')],
  ['a . b @ c . d', one('a.b@c.d')],
  ['john."q".public@x', one('john.q.public@x')],
  ['a."b c"@x', one('"a.b c"@x')],
]);

table('addresses without a domain', [
  ['root', one('root')],
  ['root, postmaster', [{ address: 'root' }, { address: 'postmaster' }]],
  ['Admin <root>', one('root', 'Admin')],
  ['"q u"', one('"q u"')],
  ['G: root;', [{ group: 'G', mailboxes: [{ address: 'root' }] }]],
]);

table('quoted local parts', [
  ['"q u"@example.org', one('"q u"@example.org')],
  ['"simple"@x', one('simple@x')],
  ['"a.b"@x', one('a.b@x')],
  ['"a..b"@x', one('"a..b"@x')],
  ['".a"@x', one('".a"@x')],
  ['"a\\"b"@x', one('"a\\"b"@x')],
  ['"a\\\\b"@x', one('"a\\\\b"@x')],
  ['"a\\b"@x', one('ab@x')],
  ['"a@b"@x', one('"a@b"@x')],
  ['""@x', one('""@x')],
  ['Q <"q u"@example.org>', one('"q u"@example.org', 'Q')],
]);

table('domain literals', [
  ['a@[127.0.0.1]', one('a@[127.0.0.1]')],
  ['a@[ 127.0.0.1 ]', one('a@[127.0.0.1]')],
  ['a@[IPv6:2001:db8::1]', one('a@[IPv6:2001:db8::1]')],
  ['<a@[192.0.2.1]>', one('a@[192.0.2.1]')],
]);

table('UTF-8 addresses (RFC 6532)', [
  ['jörg@exämple.org', one('jörg@exämple.org')],
  ['用户@例子.广告', one('用户@例子.广告')],
  ['Ünï <ü@é.example>', one('ü@é.example', 'Ünï')],
  ['"ö ü"@x', one('"ö ü"@x')],
  ['😀@x', one('😀@x')],
]);

describe('recipient madness', () => {
  const header =
    'Undisclosed:;, "Doe, John" (the boss) <john.doe@example.com>,\r\n' +
    '\t=?utf-8?Q?J=C3=B6rg?= M. <@relay.example,@hub.example:joerg@example.de>,, root,\r\n' +
    ' Team (core): alice(home)@example.org, "bob smith"@[ 192.0.2.1 ] , "carol"@example.net;,\r\n' +
    ' <"q u"@example.org> (trailing (nested) comment), ünïcødé@exämple.org ,';

  it('flattens to exactly these mailboxes', () => {
    expect(flattenMailboxes(parseAddressList(header))).toEqual([
      { name: 'Doe, John', address: 'john.doe@example.com' },
      { name: 'Jörg M.', address: 'joerg@example.de' },
      { address: 'root' },
      { address: 'alice@example.org' },
      { address: '"bob smith"@[192.0.2.1]' },
      { address: 'carol@example.net' },
      { address: '"q u"@example.org' },
      { address: 'ünïcødé@exämple.org' },
    ]);
  });

  it('keeps the groups in the unflattened list', () => {
    const groups = parseAddressList(header).filter((e) => 'group' in e);
    expect(groups.map((g) => ('group' in g ? [g.group, g.mailboxes.length] : []))).toEqual([
      ['Undisclosed', 0],
      ['Team', 3],
    ]);
  });
});

describe('parseRecipientArgument', () => {
  it.each<[string, string[]]>([
    ['alice@example.org', ['alice@example.org']],
    ['alice@x.example bob@y.example', ['alice@x.example', 'bob@y.example']],
    ['  alice@x \t bob@y   carol@z ', ['alice@x', 'bob@y', 'carol@z']],
    ['alice bob', ['alice', 'bob']],
    ['alice bob@y', ['alice', 'bob@y']],
    ['alice@x(c)bob@y', ['alice@x', 'bob@y']],
    ['Alice <a@x>, bob@y', ['a@x', 'bob@y']],
    ['Alice Liddell <a@x> bob@y', ['a@x', 'bob@y']],
    ['a@x, b@y c@z', ['a@x', 'b@y', 'c@z']],
    ['Team: a@x b@y;', ['a@x', 'b@y']],
    ['"q u"@x root', ['"q u"@x', 'root']],
    ['undisclosed-recipients:;', []],
    ['', []],
  ])('%j', (arg, expected) => {
    expect(parseRecipientArgument(arg)).toEqual(expected);
  });

  it.each([
    ['alice@x <bob@y', "unbalanced '<'"],
    ['<>', 'null path'],
    ['a@b; c@d', "expected ','"],
    ['alice@x bob@', "expected a domain after '@'"],
    ['alice@x\nbob@y', 'line break'],
    ['alice@x "bob', 'unterminated quoted string'],
    ['a@b >', "expected an address but found '>'"],
  ])('refuses %j as a whole', (arg, fragment) => {
    expect(() => parseRecipientArgument(arg)).toThrow(fragment);
    expect(() => parseRecipientArgument(arg)).toThrow(/^cannot parse recipient /);
  });
});

describe('errors', () => {
  it.each<[string, string, number]>([
    ['"abc', 'unterminated quoted string', 0],
    ['"a\\', 'unterminated quoted string', 0],
    ['a@b, (x', "unbalanced '('", 5],
    ['a@b (x (y)', "unbalanced '('", 4],
    ['a@b)', "unbalanced ')'", 3],
    ['<a@b', "unbalanced '<'", 0],
    ['Name <a@b, c@d', "expected '>' but found ','", 9],
    ['a@b>', "expected ',' but found '>'", 3],
    ['a@[1.2.3.4', "unbalanced '['", 2],
    ['a@b]', "unbalanced ']'", 3],
    ['a@b\nc@d', 'line break not followed by a space or tab', 3],
    ['a@b\r\n', 'line break not followed by a space or tab', 3],
    ['a@b\rc', 'CR not followed by LF', 3],
    ['a@b\r c', 'CR not followed by LF', 3],
    ['"a\nb"@x', 'line break not followed', 2],
    ['a\u0000@b', 'NUL character', 1],
    ['"a\u0000"@b', 'NUL character', 2],
    ['(\u0000) a@b', 'NUL character', 1],
    ['a\u0007@b', 'control character U+0007', 1],
    ['a\\b@c', 'backslash outside a quoted string', 1],
    ['<>', "'<>' (the null path) is not allowed", 0],
    ['Name <>', "'<>' (the null path) is not allowed", 5],
    ['a@b c@d', `expected ',' but found "c"`, 4],
    ['John Smith', `expected ',' but found "Smith"`, 5],
    ['<a b@c>', "expected '>' but found \"b\"", 3],
    ['a@b;', "expected ',' but found ';'", 3],
    ['Team: a@x', `group "Team" not closed with ';'`, 9],
    ['A: B: c@d;;', 'a group inside a group', 4],
    ['a@', "expected a domain after '@'", 2],
    ['a@"b"', "expected a domain after '@' but found a quoted string", 2],
    ['a@b..c', "expected a domain label after '.'", 4],
    ['a@b.', "expected a domain label after '.' but found the end", 4],
    ['a..b@c', "expected a word after '.' in the local part", 2],
    ['@b', "expected an address but found '@'", 0],
    ['<@route a@b>', "expected ':' after the route", 8],
    ['[1.2.3.4]', 'expected an address but found "[1.2.3.4]"', 0],
  ])('%j: %s at offset %i', (input, fragment, offset) => {
    const error = catchError(() => parseAddressList(input));
    expect(error).toBeInstanceOf(OutboxError);
    expect(error).toMatchObject({ code: 'E_USAGE' });
    expect(error.message).toContain(fragment);
    expect(error.message).toMatch(new RegExp(` at offset ${offset}$`));
  });

  it('quotes the whole input and says what is wrong and where', () => {
    expect(() => parseAddressList('a@b, "c d@e')).toThrow(
      'cannot parse address list "a@b, \\"c d@e": unterminated quoted string at offset 5',
    );
  });

  it('shortens a very long input in the message', () => {
    const error = catchError(() => parseAddressList(`${'a'.repeat(1000)} b`));
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('large inputs', () => {
  it('reads deeply nested comments without recursion', () => {
    expect(parseAddressList(`${'('.repeat(100_000)}${')'.repeat(100_000)}a@b`)).toEqual(one('a@b'));
  });

  it('reads long lists and long blank-separated runs', () => {
    expect(parseAddressList(Array(50_000).fill('x@y').join(','))).toHaveLength(50_000);
    expect(parseRecipientArgument(Array(50_000).fill('a').join(' '))).toHaveLength(50_000);
    expect(parseAddressList(`${'=?utf-8?q?a?= '.repeat(50_000)}<a@b>`)).toEqual(one('a@b', 'a'.repeat(50_000)));
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
  }
  throw new Error('expected an error');
}

/* ---- properties ---- */

const SPECIAL_ALPHABET = Array.from('<>()"@,;:\\ .[]abcXYZ\r\n\t=?é');

function expectOnlyUsageErrors(parse: (s: string) => unknown[]): (s: string) => void {
  return (s) => {
    let result: unknown[];
    try {
      result = parse(s);
    } catch (error) {
      expect(error).toBeInstanceOf(OutboxError);
      expect(error).toMatchObject({ code: 'E_USAGE' });
      return;
    }
    const strings: string[] = [];
    JSON.stringify(result, (_, value: unknown) => {
      if (typeof value === 'string') strings.push(value);
      return value;
    });
    for (const text of strings) expect(text).not.toMatch(/[\r\n\u0000]/);
  };
}

const ATEXT = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]/;
const ATOM_PHRASE = new RegExp(`^${ATEXT.source.replace(']', '.]')}+(?: ${ATEXT.source.replace(']', '.]')}+)*$`);
const DOT_ATOM = new RegExp(`^${ATEXT.source}+(?:\\.${ATEXT.source}+)*$`);

const quote = (s: string): string => `"${s.replace(/["\\]/g, '\\$&')}"`;

type NameStyle = 'atoms' | 'quoted' | 'encoded';

function renderName(name: string, style: NameStyle): string {
  if (style === 'encoded') return `=?utf-8?B?${Buffer.from(name, 'utf8').toString('base64')}?=`;
  if (style === 'atoms' && ATOM_PHRASE.test(name) && !name.includes('=?')) return name;
  return quote(name);
}

const nameChar = fc.constantFrom(...Array.from('abc XYZ.<>()"@,;:\\[]=?\té中😀'));
const atextChar = fc.constantFrom(...Array.from("abcxyzABZ019!#$%&'*+-/=?^_`{|}~é中"));
const atom = fc.string({ unit: atextChar, minLength: 1, maxLength: 6 });
const label = fc.string({ unit: fc.constantFrom(...Array.from('abz09-ü')), minLength: 1, maxLength: 6 });

const localPart = fc.oneof(
  fc.array(atom, { minLength: 1, maxLength: 3 }).map((atoms) => ({ written: atoms.join('.'), semantic: atoms.join('.') })),
  fc.string({ unit: fc.oneof(nameChar, atextChar), maxLength: 8 }).map((s) => ({ written: quote(s), semantic: s })),
);
const domain = fc.oneof(
  fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.')),
  fc.constantFrom('[192.0.2.1]', '[IPv6:2001:db8::1]'),
);

interface Generated {
  written: string;
  mailbox: Mailbox;
}

const addrSpec = fc.record({ local: localPart, domain: fc.option(domain, { nil: undefined }) }).map(({ local, domain: d }) => {
  const wire = DOT_ATOM.test(local.semantic) ? local.semantic : quote(local.semantic);
  const suffix = d === undefined ? '' : `@${d}`;
  return { written: local.written + suffix, address: wire + suffix };
});

const nameStyle = fc.constantFrom<NameStyle>('atoms', 'quoted', 'encoded');

const mailbox: fc.Arbitrary<Generated> = fc
  .record({ spec: addrSpec, name: fc.option(fc.string({ unit: nameChar, maxLength: 10 }), { nil: undefined }), style: nameStyle, angle: fc.boolean() })
  .map(({ spec, name, style, angle }) => {
    if (name === undefined) {
      return { written: angle ? `<${spec.written}>` : spec.written, mailbox: { address: spec.address } };
    }
    const parsed: Mailbox = name === '' ? { address: spec.address } : { name, address: spec.address };
    return { written: `${renderName(name, style)} <${spec.written}>`, mailbox: parsed };
  });

const separator = fc.constantFrom(', ', ',', ' ,\r\n ', ' (a (nested) comment) , ', ',,', ',\n\t');

const group = fc
  .record({ name: fc.string({ unit: nameChar, maxLength: 8 }), style: nameStyle, members: fc.array(mailbox, { maxLength: 3 }), sep: separator })
  .map(({ name, style, members, sep }) => ({
    written: `${renderName(name, style)}: ${members.map((m) => m.written).join(sep)};`,
    entry: { group: name, mailboxes: members.map((m) => m.mailbox) } as AddressEntry,
  }));

const entry = fc.oneof(
  { weight: 3, arbitrary: mailbox.map((m) => ({ written: m.written, entry: m.mailbox as AddressEntry })) },
  { weight: 1, arbitrary: group },
);

describe('properties', () => {
  it('throws nothing but OutboxError(E_USAGE) on arbitrary Unicode', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), expectOnlyUsageErrors(parseAddressList)), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: 'binary' }), expectOnlyUsageErrors(parseRecipientArgument)), { numRuns: 500 });
  });

  it('throws nothing but OutboxError(E_USAGE) on strings of special characters', () => {
    const s = fc.string({ unit: fc.constantFrom(...SPECIAL_ALPHABET), maxLength: 40 });
    fc.assert(fc.property(s, expectOnlyUsageErrors(parseAddressList)), { numRuns: 2000 });
    fc.assert(fc.property(s, expectOnlyUsageErrors(parseRecipientArgument)), { numRuns: 2000 });
  });

  it('reads back rendered address lists', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), separator, (entries, sep) => {
        const header = entries.map((e) => e.written).join(sep);
        expect(parseAddressList(header)).toEqual(entries.map((e) => e.entry));
      }),
      { numRuns: 500 },
    );
  });

  it('reads back blank-separated bare addresses as a recipient argument', () => {
    const blanks = fc.constantFrom(' ', '\t', '  ', ' (comment) ');
    fc.assert(
      fc.property(fc.array(addrSpec, { minLength: 1, maxLength: 6 }), blanks, (specs, blank) => {
        const arg = specs.map((s) => s.written).join(blank);
        expect(parseRecipientArgument(arg)).toEqual(specs.map((s) => s.address));
      }),
    );
  });
});
