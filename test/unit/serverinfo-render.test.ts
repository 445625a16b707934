import { describe, expect, it } from 'vitest';
import { renderServerInfo, renderServerInfoJson } from '../../src/cli/serverinfo-render.js';
import type { ServerInfo } from '../../src/delivery/serverinfo.js';

const base: ServerInfo = {
  protocol: 'smtp',
  host: 'mx.example',
  port: 587,
  socket: undefined,
  address: '127.0.0.1',
  reverseName: 'localhost',
  greeting: ['mx.example ESMTP Postfix'],
  tls: undefined,
  capabilities: [['PIPELINING', []], ['SIZE', ['10240000']], ['XFOO', ['a', 'b']], ['STARTTLS', []], ['AUTH', ['LOGIN', 'PLAIN', 'X-NEW']], ['8BITMIME', []]],
  mayOfferMoreWithTls: true,
  warnings: ['the server offers AUTH (LOGIN PLAIN X-NEW) without TLS: a password sent now could be read on the way'],
};

describe('renderServerInfo', () => {
  it("follows msmtp's layout, then adds what msmtp leaves out", () => {
    expect(renderServerInfo(base)).toBe([
      'SMTP server at mx.example (localhost [127.0.0.1]), port 587:',
      '    mx.example ESMTP Postfix',
      'Capabilities:',
      '    SIZE 10240000:',
      '        Maximum message size is 10240000 bytes = 9.77 MiB',
      '    PIPELINING:',
      '        Support for command grouping for faster transmission',
      '    STARTTLS:',
      '        Support for TLS encryption via the STARTTLS command',
      '    8BITMIME:',
      '        Support for 8-bit message bodies (RFC 6152)',
      '    AUTH:',
      '        Supported authentication methods:',
      '        PLAIN LOGIN X-NEW',
      '    XFOO a b',
      'This server might advertise more or other capabilities when TLS is active.',
      'Warning: the server offers AUTH (LOGIN PLAIN X-NEW) without TLS: a password sent now could be read on the way',
      '',
    ].join('\n'));
  });

  it('shows TLS parameters and the certificate, and LMTP servers as such', () => {
    const text = renderServerInfo({
      ...base,
      protocol: 'lmtp',
      reverseName: undefined,
      capabilities: [['SIZE', ['0']]],
      mayOfferMoreWithTls: false,
      warnings: [],
      tls: {
        protocol: 'TLSv1.3',
        cipher: 'TLS_AES_256_GCM_SHA384',
        resumed: true,
        certificate: {
          subject: 'CN=mx.example', issuer: 'CN=Test CA',
          validFrom: new Date(2026, 0, 2, 3, 4, 5), validTo: new Date(2027, 0, 2, 3, 4, 5),
          sha256: 'AB:CD', sha1: '01:02',
        },
      },
    });
    expect(text).toContain('LMTP server at mx.example ([127.0.0.1]), port 587:\n');
    expect(text).toContain('TLS session parameters:\n    TLSv1.3, TLS_AES_256_GCM_SHA384 (resumed session)\n');
    expect(text).toContain('    Subject:\n        CN=mx.example\n    Issuer:\n        CN=Test CA\n');
    expect(text).toContain('        Activation time: Fri Jan  2 03:04:05 2026\n');
    expect(text).toContain('        SHA256: AB:CD\n        SHA1 (deprecated): 01:02\n');
    expect(text).toContain('    SIZE 0:\n        Maximum message size is unlimited\n');
  });

  it('names the unix socket instead of the host', () => {
    expect(renderServerInfo({ ...base, socket: '/run/smtp.sock', address: undefined, reverseName: undefined })).toMatch(/^SMTP server at \/run\/smtp\.sock, port 587:\n/);
  });

  it('says so when there are no capabilities (a HELO server)', () => {
    expect(renderServerInfo({ ...base, capabilities: [], mayOfferMoreWithTls: false, warnings: [] })).toContain('No special capabilities.\n');
  });

  it('--json is the collected data', () => {
    expect(JSON.parse(renderServerInfoJson(base))).toMatchObject({ host: 'mx.example', port: 587, capabilities: [['PIPELINING', []], ['SIZE', ['10240000']], ['XFOO', ['a', 'b']], ['STARTTLS', []], ['AUTH', ['LOGIN', 'PLAIN', 'X-NEW']], ['8BITMIME', []]] });
  });
});
