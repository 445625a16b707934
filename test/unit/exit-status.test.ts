import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { exitCodeName } from '../../src/log/log-record.js';
import { VERSION } from '../../src/cli/version.js';
import { OutboxError, type ErrorCode } from '../../src/errors.js';

describe('exit status table', () => {
  const permanent: Array<[ErrorCode, number]> = [
    ['E_USAGE', 64], ['E_BAD_DATA', 65], ['E_ENVELOPE_REJECTED', 65], ['E_SIZE_EXCEEDED', 65], ['E_HOST_NOT_FOUND', 68],
    ['E_CAPABILITY', 69], ['E_AUTH_FAILED', 77], ['E_MESSAGE_REJECTED', 69], ['E_PARTIAL_DELIVERY', 69], ['E_IO', 74],
    ['E_GREETING', 76], ['E_HELLO_REJECTED', 76], ['E_PROTOCOL', 76], ['E_CONFIG', 78], ['E_NO_ENVELOPE_FROM', 78],
    ['E_TLS_CERTIFICATE', 69], ['E_TLS_HANDSHAKE', 76],
    // Named for what happened; the statuses are msmtp's for the same failures.
    ['E_NO_CREDENTIALS', 69], ['E_NOT_SUPPORTED', 69], ['E_PROXY_FAILED', 69], ['E_NO_SERVER_FOUND', 69],
    ['E_STARTTLS_REFUSED', 76], ['E_ETRN_REFUSED', 76],
    // These are temporary by nature, whatever the flag says.
    ['E_CONNECTION', 75], ['E_TIMEOUT', 75], ['E_DNS_TEMPORARY', 75],
  ];
  for (const [code, status] of permanent) {
    it(`${code} exits ${status}`, () => expect(exitStatusFor(new OutboxError(code, 'x'))).toBe(status));
  }

  it('every transient failure exits 75, whatever its kind', () => {
    for (const [code] of permanent) expect(exitStatusFor(new OutboxError(code, 'x', { transient: true }))).toBe(75);
  });

  it('ETRN: 500/501 (a syntax error) exits 65 and any other refusal 76, as msmtp; 458/459 are temporary (75)', () => {
    const refused = (code: number) => new OutboxError('E_ETRN_REFUSED', 'x', { reply: { code, lines: ['x'] }, command: 'ETRN', transient: code < 500 });
    expect([500, 501, 502, 550, 458, 459].map((code) => exitStatusFor(refused(code)))).toEqual([65, 65, 76, 76, 75, 75]);
  });

  it('every status the table gives has a name in the log', () => {
    const codes: ErrorCode[] = [...permanent.map(([code]) => code), 'E_ETRN_REFUSED'];
    for (const code of codes) {
      for (const error of [new OutboxError(code, 'x'), new OutboxError(code, 'x', { transient: true, reply: { code: 501, lines: [] } })]) {
        expect(exitCodeName(exitStatusFor(error)), code).toMatch(/^EX_/);
      }
    }
  });

  it('a bug is EX_SOFTWARE', () => {
    expect(exitStatusFor(new TypeError('oops'))).toBe(70);
  });

  it('names statuses as msmtp logs them', () => {
    expect(exitCodeName(75)).toBe('EX_TEMPFAIL');
    expect(exitCodeName(0)).toBe('EX_OK');
  });

  it('the version constant matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
