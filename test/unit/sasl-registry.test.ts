import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTH_METHODS } from '../../src/config/account.js';
import { MECHANISMS, MECHANISM_NAMES, UNSUPPORTED_MECHANISMS, findMechanism } from '../../src/sasl/registry.js';

describe('the SASL registry', () => {
  it('holds every mechanism under its own upper-case name', () => {
    for (const name of MECHANISM_NAMES) {
      expect(MECHANISMS[name].name).toBe(name);
      expect(findMechanism(name.toLowerCase())).toBe(MECHANISMS[name]);
    }
    expect(findMechanism('GSSAPI')).toBeUndefined();
    expect(findMechanism('nope')).toBeUndefined();
  });

  it('says which mechanisms need a secret and which need channel binding', () => {
    expect(MECHANISM_NAMES.filter((m) => !MECHANISMS[m].needsSecret)).toEqual(['EXTERNAL']);
    expect(MECHANISM_NAMES.filter((m) => MECHANISMS[m].needsChannelBinding)).toEqual(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS']);
  });

  it('covers every auth method the configuration accepts, supported or refused with a reason', () => {
    for (const method of AUTH_METHODS) {
      const name = method.toUpperCase();
      expect((MECHANISM_NAMES as readonly string[]).includes(name) || name in UNSUPPORTED_MECHANISMS).toBe(true);
    }
  });

  it('starts sessions that name their mechanism', () => {
    const session = findMechanism('plain')?.start({ user: 'u', secret: 'p' });
    expect(session?.mechanism).toBe('PLAIN');
  });
});

describe('src/sasl is pure', () => {
  const folder = join(import.meta.dirname, '../../src/sasl');
  it.each(readdirSync(folder).filter((file) => file.endsWith('.ts')))('%s imports only node:crypto, errors.ts and its neighbours', (file) => {
    const source = readFileSync(join(folder, file), 'utf8');
    const imports = [...source.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm)].map((m) => m[1] ?? m[2] ?? m[3]);
    // One assertion whatever the count: a file with no imports at all passes by an assertion too.
    expect(imports.filter((specifier) => !/^(node:crypto|\.\.\/errors\.js|\.\/[a-z0-9-]+\.js)$/.test(specifier ?? ''))).toEqual([]);
  });
});
