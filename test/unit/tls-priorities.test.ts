/**
 * tls_priorities: the GnuTLS strings people write map to Node's settings as
 * docs/tls.md says; everything else is refused by name, never ignored.
 */
import { createSecureContext, DEFAULT_CIPHERS } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { mapPriorities, type PriorityMapping } from '../../src/net/tls-priorities.js';

const DEFAULTS: PriorityMapping = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: undefined, ecdhCurve: undefined, sessionTickets: true };

describe('tls_priorities mapping', () => {
  const table: Array<[string, Partial<PriorityMapping>]> = [
    ['NORMAL', {}],
    ['normal', {}],
    ['PERFORMANCE', {}],
    ['SECURE128', {}],
    ['SECURE', {}],
    ['PFS', { ciphers: `${DEFAULT_CIPHERS}:!kRSA` }],
    ['NORMAL:-VERS-ALL:+VERS-TLS1.3', { minVersion: 'TLSv1.3' }],
    ['NORMAL:-VERS-TLS-ALL:+VERS-TLS1.3', { minVersion: 'TLSv1.3' }],
    ['NORMAL:-VERS-TLS1.3', { maxVersion: 'TLSv1.2' }],
    ['NORMAL:!VERS-TLS1.3', { maxVersion: 'TLSv1.2' }],
    ['NORMAL:-VERS-TLS1.0', {}],
    ['NORMAL:-VERS-TLS1.0:-VERS-TLS1.1', {}],
    ['NORMAL:-VERS-SSL3.0', {}],
    ['NORMAL:+VERS-TLS1.1', { minVersion: 'TLSv1.1' }],
    ['NORMAL:+VERS-ALL', { minVersion: 'TLSv1' }],
    ['NORMAL:-VERS-ALL:+VERS-TLS1.2', { maxVersion: 'TLSv1.2' }],
    ['PERFORMANCE:%SERVER_PRECEDENCE', {}],
    ['NORMAL:%COMPAT', {}],
    ['NORMAL:%NO_TICKETS', { sessionTickets: false }],
    ['SECURE256:-VERS-SSL3.0', { ciphers: expect.stringMatching(/^TLS_AES_256_GCM_SHA384:.*@SECLEVEL=4$/), ecdhCurve: 'P-384:P-521:X448' }],
    ['SECURE192', { ciphers: expect.stringMatching(/@SECLEVEL=3$/), ecdhCurve: 'P-384:P-521:X448' }],
    [' NORMAL : -VERS-TLS1.3 ', { maxVersion: 'TLSv1.2' }],
  ];
  for (const [priorities, expected] of table) {
    it(`maps ${JSON.stringify(priorities)}`, () => {
      const mapped = mapPriorities(priorities);
      expect(mapped).toEqual({ ...DEFAULTS, ...expected });
      // Node (OpenSSL) accepts every mapping as it is.
      expect(() => createSecureContext({
        minVersion: mapped.minVersion, maxVersion: mapped.maxVersion,
        ...(mapped.ciphers ? { ciphers: mapped.ciphers } : {}), ...(mapped.ecdhCurve ? { ecdhCurve: mapped.ecdhCurve } : {}),
      })).not.toThrow();
    });
  }

  const refused: Array<[string, string]> = [
    ['', "element ''"],
    ['NONE:+VERS-TLS1.2', "element 'NONE'"],
    ['LEGACY', "element 'LEGACY'"],
    ['@SYSTEM', "element '@SYSTEM'"],
    ['-VERS-TLS1.0', "element '-VERS-TLS1.0': a priority string must start with"],
    ['NORMAL:-CIPHER-ALL:+AES-256-GCM', "element '-CIPHER-ALL': only protocol versions"],
    ['NORMAL:-RSA', "element '-RSA'"],
    ['NORMAL:+VERS-SSL3.0', "element '+VERS-SSL3.0'"],
    ['NORMAL:+VERS-DTLS1.2', "element '+VERS-DTLS1.2'"],
    ['NORMAL:%UNSAFE_RENEGOTIATION', "element '%UNSAFE_RENEGOTIATION': this flag has no equivalent"],
    ['NORMAL:%PROFILE_HIGH', "element '%PROFILE_HIGH'"],
    ['NORMAL:VERS-TLS1.2', "element 'VERS-TLS1.2'"],
    ['NORMAL::-VERS-TLS1.0', 'two colons'],
    ['NORMAL:-VERS-ALL', 'enables no TLS version'],
    ['NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.2', 'not one contiguous range'],
  ];
  for (const [priorities, message] of refused) {
    it(`refuses ${JSON.stringify(priorities)}`, () => {
      let error: unknown;
      try {
        mapPriorities(priorities);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OutboxError);
      expect((error as OutboxError).code).toBe('E_CONFIG');
      expect((error as OutboxError).message).toContain(`tls_priorities '${priorities}'`);
      expect((error as OutboxError).message).toContain(message);
    });
  }
});
