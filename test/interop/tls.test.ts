/**
 * outbox over TLS against the real Postfix: STARTTLS on the submission
 * listener and implicit TLS on smtps, verified against the setup's throwaway
 * CA; refusals when the name or the CA is wrong; session resumption on the
 * second connection; --serverinfo compared field by field with msmtp's.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup, runMsmtp, runOutbox, SENDER, testMail, uniqueId, waitForMail, settledMail } from './helpers.js';

const setup = interopSetup();
const { alice } = setup.users;
const submission = [`--host=${setup.host}`, `--port=${setup.postfix.ports.submission}`, '--tls=on', `--tls-trust-file=${setup.tls.ca}`];
const smtps = [`--host=${setup.host}`, `--port=${setup.postfix.ports.smtps}`, '--tls=on', '--tls-starttls=off', `--tls-trust-file=${setup.tls.ca}`];

function cacheEnv(): NodeJS.ProcessEnv {
  return { XDG_CACHE_HOME: mkdtempSync(join(setup.scratch, 'cache-')) };
}

describe('outbox → Postfix over TLS', () => {
  for (const [name, args] of [['STARTTLS (submission)', submission], ['implicit TLS (smtps)', smtps]] as const) {
    it(`${name}: delivered with verification on`, async () => {
      const id = uniqueId('tls');
      const result = await runOutbox([...args, '-f', SENDER, alice], testMail(id), { env: cacheEnv() });
      expect(result.status, result.stderr).toBe(0);
      const [stored] = await waitForMail('postfix', alice, id);
      // Postfix records the protocol in its Received header: ESMTPS means over TLS.
      expect(stored!.raw.toString()).toMatch(/with ESMTPS/);
    });
  }

  it('refuses when the name does not match (69), and when the CA is not trusted (69); nothing arrives', async () => {
    const id = uniqueId('tls-refused');
    const wrongName = await runOutbox([...submission, '--tls-host-override=wrong.example', '-f', SENDER, alice], testMail(id), { env: cacheEnv() });
    expect(wrongName.status).toBe(69);
    const wrongCa = await runOutbox([`--host=${setup.host}`, `--port=${setup.postfix.ports.submission}`, '--tls=on', '--tls-trust-file=system', '-f', SENDER, alice], testMail(id), { env: cacheEnv() });
    expect(wrongCa.status).toBe(69);
    expect(await settledMail('postfix', alice, id)).toHaveLength(0);
  });

  it('the second connection resumes the TLS session', async () => {
    const env = cacheEnv();
    const first = await runOutbox(['--serverinfo', ...submission], undefined, { env });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('(resumed session)');
    const second = await runOutbox(['--serverinfo', ...submission], undefined, { env });
    expect(second.stdout).toContain('(resumed session)');
  });

  it('--serverinfo shows everything msmtp shows (server line, greeting, certificate, capabilities)', async () => {
    const ours = await runOutbox(['--serverinfo', ...submission], undefined, { env: cacheEnv() });
    const theirs = await runMsmtp(['--serverinfo', ...submission], undefined);
    expect(ours.status, ours.stderr).toBe(0);
    expect(theirs.status, theirs.stderr).toBe(0);
    const o = ours.stdout.split('\n');
    const m = theirs.stdout.split('\n');
    // Same server line and greeting.
    expect(o[0]).toBe(m[0]);
    expect(o[1]).toBe(m[1]);
    // The same fingerprints.
    for (const label of ['SHA256:', 'SHA1 (deprecated):']) {
      expect(o.find((l) => l.trim().startsWith(label))?.trim()).toBe(m.find((l) => l.trim().startsWith(label))?.trim());
    }
    // Every capability msmtp lists, outbox lists too, with the same explanation line.
    const capabilities = (lines: string[]) => lines.slice(lines.indexOf('Capabilities:') + 1).filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim());
    for (const keyword of capabilities(m)) expect(capabilities(o)).toContain(keyword);
    // And more than msmtp (8BITMIME, CHUNKING, ENHANCEDSTATUSCODES are offered by Postfix).
    expect(capabilities(o)).toEqual(expect.arrayContaining(['8BITMIME:', 'CHUNKING:', 'ENHANCEDSTATUSCODES:']));
    // Subject and issuer name the same certificate (the two libraries spell distinguished names alike for CN).
    const after = (lines: string[], label: string) => lines[lines.indexOf(label) + 1]?.trim();
    expect(after(o, '    Subject:')).toContain(setup.tls.names[0]!);
    expect(after(m, '    Subject:')).toContain(setup.tls.names[0]!);
  });
});
