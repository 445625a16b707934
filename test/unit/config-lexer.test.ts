import { describe, expect, it } from 'vitest';
import { lex, lexLine } from '../../src/config/lexer.js';
import { OutboxError } from '../../src/errors.js';

const at = { file: 'rc', line: 1 };

describe('lexLine', () => {
  it.each([
    ['host smtp.example', 'host', 'smtp.example'],
    ['  host   smtp.example  ', 'host', 'smtp.example'],
    ['host\tsmtp.example', 'host', 'smtp.example'],
    ['host smtp.example\r', 'host', 'smtp.example'],
    ['tls', 'tls', ''],
    ['tls   ', 'tls', ''],
    ['host h # not a comment', 'host', 'h # not a comment'],
    ['host h#x', 'host', 'h#x'],
    ['host "h o"', 'host', 'h o'],
    ['host " a b "', 'host', ' a b '],
    ['host ""', 'host', ''],
    ['host "', 'host', '"'],
    ['host ""x"', 'host', '"x'],
    ['host "ho', 'host', '"ho'],
    ['host ho"', 'host', 'ho"'],
    ['host "h" x', 'host', '"h" x'],
    // No escapes inside quotes (msmtp 1.8.23 keeps backslashes as they are).
    ['password "a\\"b\\\\c"', 'password', 'a\\"b\\\\c'],
    ['HOST h', 'HOST', 'h'],
    ['from  Joe Bloggs  ', 'from', 'Joe Bloggs'],
  ])('%j → %s %j', (text, command, argument) => {
    expect(lexLine(text, at)).toEqual({ ...at, command, argument });
  });

  it.each(['', '   ', '\t', '# comment', '   # indented comment', '#', '\r'])('%j is skipped', (text) => {
    expect(lexLine(text, at)).toBeNull();
  });
});

describe('lex', () => {
  it('numbers lines from 1, counting blank and comment lines', () => {
    const lines = lex('# c\n\naccount a\n  host h\n', 'f');
    expect(lines).toEqual([
      { file: 'f', line: 3, command: 'account', argument: 'a' },
      { file: 'f', line: 4, command: 'host', argument: 'h' },
    ]);
  });

  it('reads bytes and CRLF files, and a last line without a newline', () => {
    const lines = lex(Buffer.from('account a\r\nhost h\r\nport 25'), 'f');
    expect(lines.map((l) => [l.line, l.command, l.argument])).toEqual([
      [1, 'account', 'a'],
      [2, 'host', 'h'],
      [3, 'port', '25'],
    ]);
  });

  it('has no line-length limit', () => {
    const token = 'x'.repeat(100_000);
    expect(lex(`password ${token}\n`, 'f')[0]!.argument).toBe(token);
  });

  it('keeps UTF-8 text', () => {
    expect(lex(Buffer.from('from_full_name Jörg Müller\n'), 'f')[0]!.argument).toBe('Jörg Müller');
  });

  it.each([
    [Buffer.from([0x68, 0x6f, 0x73, 0x74, 0x20, 0xff, 0x0a]), 'f:1: the line is not valid UTF-8'],
    [Buffer.from('account a\nhost h\u0000x\n'), 'f:2: the line contains a NUL character'],
  ])('refuses %j at its line', (bytes, message) => {
    expect(() => lex(bytes, 'f')).toThrow(new OutboxError('E_CONFIG', message));
  });
});
