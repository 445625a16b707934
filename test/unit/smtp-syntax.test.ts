import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { serializeCommand } from '../../src/smtp/command.js';
import { isDomainOrLiteral, isEsmtpValue, parseParams, parsePath } from '../../src/smtp/syntax.js';

describe('parsePath', () => {
  it.each([
    ['<a@b.example>', 'a@b.example', ''],
    ['<first.last+tag@sub.example.org> SIZE=10', 'first.last+tag@sub.example.org', ' SIZE=10'],
    ["<!#$%&'*+-/=?^_`{|}~@x>", "!#$%&'*+-/=?^_`{|}~@x", ''],
    ['<"quoted \\" >string"@example.com>', '"quoted \\" >string"@example.com', ''],
    ['<user@[192.0.2.1]>', 'user@[192.0.2.1]', ''],
    ['<user@[IPv6:2001:db8::1]>', 'user@[IPv6:2001:db8::1]', ''],
    ['<@relay.example,@other.example:user@final.example>', 'user@final.example', ''],
    ['<a@x-y.example>', 'a@x-y.example', ''],
  ])('accepts %s', (text, address, rest) => {
    expect(parsePath(text)).toEqual({ ok: true, value: { address, nonAscii: false, rest } });
  });

  it.each([
    ['a@b.example', 'enclosed'],
    ['<a@b.example', 'missing'],
    ['<a@b.example>x', 'junk'],
    ['<a.@b.example>', 'syntax'],
    ['<.a@b.example>', 'syntax'],
    ['<a..b@b.example>', 'syntax'],
    ['<a b@b.example>', 'syntax'],
    ['<a@b.example.>', 'syntax'],
    ['<a@-b.example>', 'syntax'],
    ['<a@b-.example>', 'syntax'],
    ['<a@b_c.example>', 'syntax'],
    ['<a>', 'syntax'],
    ['<@b.example>', 'syntax'],
    ['<a@[300.1.1.1]>', 'syntax'],
    ['<a@[IPv6:nope]>', 'syntax'],
    ['<a@b@c>', 'syntax'],
    ['<>', 'null path'],
    [`<${'a'.repeat(250)}@b.example>`, '256'],
  ])('refuses %s', (text, why) => {
    const parsed = parsePath(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.why).toContain(why);
  });

  it('admits <> only where asked, and the bare Postmaster only where asked', () => {
    expect(parsePath('<> BODY=8BITMIME', { allowNull: true })).toEqual({
      ok: true,
      value: { address: '', nonAscii: false, rest: ' BODY=8BITMIME' },
    });
    expect(parsePath('<Postmaster>', { allowPostmaster: true })).toEqual({
      ok: true,
      value: { address: 'Postmaster', nonAscii: false, rest: '' },
    });
    expect(parsePath('<Postmaster>').ok).toBe(false);
  });

  it('admits a Local-part alone (<root>) only where asked, and never junk', () => {
    expect(parsePath('<root>').ok).toBe(false);
    expect(parsePath('<root>', { allowLocalPart: true })).toEqual({ ok: true, value: { address: 'root', nonAscii: false, rest: '' } });
    expect(parsePath('<"a b"> NOTIFY=NEVER', { allowLocalPart: true })).toEqual({ ok: true, value: { address: '"a b"', nonAscii: false, rest: ' NOTIFY=NEVER' } });
    for (const bad of ['<a..b>', '<.a>', '<a b>', '<a@>', '<@b>', '<a;b>']) expect(parsePath(bad, { allowLocalPart: true }).ok, bad).toBe(false);
  });

  it('accepts UTF-8 in local part and domain (RFC 6531) and says so', () => {
    expect(parsePath('<jörg@bücher.example>')).toEqual({
      ok: true,
      value: { address: 'jörg@bücher.example', nonAscii: true, rest: '' },
    });
  });
});

describe('parseParams', () => {
  it('reads keywords (upper-cased) with and without values', () => {
    expect(parseParams(' size=123 BODY=8BITMIME SMTPUTF8')).toEqual({
      ok: true,
      value: { SIZE: '123', BODY: '8BITMIME', SMTPUTF8: true },
    });
    expect(parseParams('')).toEqual({ ok: true, value: {} });
  });

  it.each([
    [' SIZE=1  BODY=7BIT', 'extra space'],
    [' SIZE=', 'bad parameter'],
    [' SIZE=a=b', 'bad parameter'],
    [' -X=1', 'bad parameter'],
    [' SIZE=1 size=2', 'twice'],
  ])('refuses %j', (text, why) => {
    const parsed = parseParams(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.why).toContain(why);
  });
});

describe('isDomainOrLiteral', () => {
  it.each(['localhost', 'mail.example.org', 'a1-b2.example', '[127.0.0.1]', '[IPv6:::1]', '[x-tag:abc]'])(
    'accepts %s',
    (text) => expect(isDomainOrLiteral(text)).toBe(true),
  );

  it.each(['', 'a b', 'under_score.example', 'dot.', '[127.0.0]', '[IPv6:1::2::3]', '127.0.0.1x[', `${'a'.repeat(256)}`])(
    'refuses %j',
    (text) => expect(isDomainOrLiteral(text)).toBe(false),
  );
});

describe('esmtp-value', () => {
  it('is one grammar: what the client may write is what the server reads', () => {
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.stringMatching(/^[!-~]{1,12}$/), fc.constantFrom('a=b', 'é', '', ' ', '\x7f'));
    fc.assert(
      fc.property(value, (v) => {
        const written = (() => {
          try {
            return serializeCommand({ verb: 'MAIL', reversePath: 'a@b.example', params: [['X', v]] });
          } catch {
            return undefined;
          }
        })();
        expect(written !== undefined, JSON.stringify(v)).toBe(isEsmtpValue(v));
        if (written) expect(parseParams(written.slice('MAIL FROM:<a@b.example>'.length, -2))).toEqual({ ok: true, value: { X: v } });
      }),
    );
  });
});
