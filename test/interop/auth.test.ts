/**
 * AUTH against the real Postfix with Dovecot SASL, over STARTTLS on the
 * submission listener: every mechanism Dovecot offers with the right and a
 * wrong password, `auth on` choosing as msmtp does, and no secret in any
 * output, even with --debug.
 */
import { mkdtempSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup, runOutbox, SENDER, testMail, uniqueId, waitForMail, type RunResult } from './helpers.js';

const setup = interopSetup();
const { alice, bob } = setup.users;
const submission = [`--host=${setup.host}`, `--port=${setup.postfix.ports.submission}`, '--tls=on', `--tls-trust-file=${setup.tls.ca}`];
const WRONG = 'Wr0ng-Pa55word-For-Interop';

function passwordFile(secret: string): string {
  const dir = mkdtempSync(join(setup.scratch, 'auth-'));
  const file = join(dir, 'secret');
  writeFileSync(file, `${secret}\n`);
  chmodSync(file, 0o600);
  return file;
}

function expectNoSecret(result: RunResult, ...secrets: string[]): void {
  const seen = `${result.stdout}\n${result.stderr}`;
  for (const secret of secrets) {
    expect(seen).not.toContain(secret);
    expect(seen).not.toContain(Buffer.from(secret).toString('base64'));
    expect(seen).not.toContain(Buffer.from(`\0${alice}\0${secret}`).toString('base64'));
  }
}

async function send(auth: string, secret: string, id: string, extra: string[] = []): Promise<RunResult> {
  return runOutbox(['-d', ...submission, `--auth=${auth}`, `--user=${alice}`, `--passwordeval=cat ${passwordFile(secret)}`, ...extra, '-f', SENDER, bob], testMail(id, { to: bob }));
}

describe('AUTH through Postfix and Dovecot SASL', () => {
  for (const mechanism of ['plain', 'login', 'cram-md5', 'scram-sha-1', 'scram-sha-256']) {
    it(`${mechanism}: the right password delivers; a wrong one exits 77; no secret in any output`, async () => {
      const id = uniqueId(`auth-${mechanism}`);
      const right = await send(mechanism, setup.password, id);
      expect(right.status, right.stderr).toBe(0);
      expect(right.stdout).toMatch(new RegExp(`^--> AUTH ${mechanism.toUpperCase()}`, 'm'));
      expectNoSecret(right, setup.password);
      await waitForMail('postfix', bob, id);
      const wrong = await send(mechanism, WRONG, uniqueId(`auth-${mechanism}-wrong`));
      expect(wrong.status).toBe(77);
      expect(wrong.stderr).toMatch(/535/);
      expectNoSecret(wrong, WRONG);
    });
  }

  it('PLAIN leads the pipelined envelope group: one round trip fewer, accepted by Postfix', async () => {
    const id = uniqueId('auth-pipelined');
    const result = await send('plain', setup.password, id);
    expect(result.status, result.stderr).toBe(0);
    // AUTH, MAIL, RCPT and DATA leave before the first reply arrives.
    // With Postfix's CHUNKING the whole mail is in that write too, as a BDAT committed once AUTH succeeded.
    expect(result.stdout).toMatch(/^--> AUTH PLAIN <redacted>\n--> MAIL FROM:<[^>]*>[^\n]*\n--> RCPT TO:<[^>]+>\n--> (?:DATA|BDAT \d+)\n<-- 235 /m);
    await waitForMail('postfix', bob, id);
    const wrong = await send('plain', WRONG, uniqueId('auth-pipelined-wrong'));
    expect(wrong.status).toBe(77);
    expect(wrong.stderr).toMatch(/authentication with PLAIN failed: 535/);
  });

  it('auth on over TLS chooses SCRAM-SHA-256 first, as msmtp', async () => {
    const id = uniqueId('auth-on');
    const result = await send('on', setup.password, id);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^--> AUTH SCRAM-SHA-256/m);
  });

  it('passwordeval runs only when a password is needed', async () => {
    const marker = join(mkdtempSync(join(setup.scratch, 'eval-')), 'ran');
    const result = await runOutbox([...submission, '--auth=off', `--passwordeval=touch ${marker}; echo x`, '-f', SENDER, bob], testMail(uniqueId('noauth'), { to: bob }));
    expect(result.status, result.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});
