import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { MAX_COMMAND_LENGTH, serializeCommand, type Command } from '../../src/smtp/command.js';

function refusal(command: Command): OutboxError {
  try {
    serializeCommand(command);
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    expect((error as OutboxError).code).toBe('E_BAD_DATA');
    return error as OutboxError;
  }
  throw new Error('not refused');
}

describe('serializeCommand', () => {
  it('writes each command as RFC 5321 spells it', () => {
    expect(serializeCommand({ verb: 'EHLO', domain: 'client.example' })).toBe('EHLO client.example\r\n');
    expect(serializeCommand({ verb: 'LHLO', domain: 'localhost' })).toBe('LHLO localhost\r\n');
    expect(serializeCommand({ verb: 'MAIL', reversePath: '' })).toBe('MAIL FROM:<>\r\n');
    expect(serializeCommand({ verb: 'MAIL', reversePath: 'a@b', params: [['BODY', '8BITMIME'], ['SMTPUTF8', true]] })).toBe('MAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8\r\n');
    expect(serializeCommand({ verb: 'RCPT', forwardPath: '"q u"@example.org', params: [['NOTIFY', 'SUCCESS,FAILURE']] })).toBe('RCPT TO:<"q u"@example.org> NOTIFY=SUCCESS,FAILURE\r\n');
    expect(serializeCommand({ verb: 'DATA' })).toBe('DATA\r\n');
    expect(serializeCommand({ verb: 'QUIT' })).toBe('QUIT\r\n');
  });

  it('refuses CR, LF and NUL in every argument', () => {
    for (const bad of ['\r', '\n', '\0', 'a@b\r\nRCPT TO:<evil@x>']) {
      expect(refusal({ verb: 'MAIL', reversePath: `x${bad}` }).message).toMatch(/contains a (CR|LF|NUL)/);
      refusal({ verb: 'RCPT', forwardPath: bad });
      refusal({ verb: 'EHLO', domain: `host${bad}` });
    }
  });

  it('refuses malformed ESMTP parameters', () => {
    refusal({ verb: 'MAIL', reversePath: 'a@b', params: [['BO DY', '8BITMIME']] });
    refusal({ verb: 'MAIL', reversePath: 'a@b', params: [['BODY', '8BIT MIME']] });
    refusal({ verb: 'MAIL', reversePath: 'a@b', params: [['BODY', 'a=b']] });
    refusal({ verb: 'MAIL', reversePath: 'a@b', params: [['BODY', '']] });
  });

  it('refuses over-long commands', () => {
    expect(refusal({ verb: 'RCPT', forwardPath: `${'x'.repeat(MAX_COMMAND_LENGTH)}@example.org` }).message).toMatch(/longer than/);
  });

  it('counts the limit in octets: an SMTPUTF8 address of two-octet characters', () => {
    // "RCPT TO:<" + local + "@example.org>" + CRLF is 24 octets besides the local part.
    const fits = 'é'.repeat((MAX_COMMAND_LENGTH - 24) / 2);
    const line = serializeCommand({ verb: 'RCPT', forwardPath: `${fits}@example.org`, params: [] });
    expect(Buffer.byteLength(line)).toBe(MAX_COMMAND_LENGTH);
    // One more character: under the limit in UTF-16 code units (4,108), over it in octets (8,194).
    const over = `${fits}é@example.org`;
    expect(`RCPT TO:<${over}>\r\n`.length).toBeLessThan(MAX_COMMAND_LENGTH);
    expect(refusal({ verb: 'RCPT', forwardPath: over }).message).toMatch(/longer than 8192 octets/);
  });
});
