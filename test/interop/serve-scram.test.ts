/**
 * AUTH SCRAM-SHA-256 on `outbox serve` with an independent client: msmtp,
 * whose SCRAM is GNU SASL's (not outbox's src/sasl), asked for that
 * mechanism by name, so it either uses it or fails. The password reaches
 * outbox serve through --auth's passwordeval, as msmtpd takes it; the server
 * keeps only SCRAM's stored keys and a digest.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { interopSetup, runMsmtp, SENDER, testMail, uniqueId } from './helpers.js';
import { startServe, stopAllServers } from './serve-process.js';

const setup = interopSetup();
const PASSWORD = 'pencil-serve';
const TLS = [`--tls-cert-file=${setup.tls.cert}`, `--tls-key-file=${setup.tls.key}`];

afterEach(async () => {
  await stopAllServers();
});

function stored(maildir: string, token: string): string[] {
  const dir = join(maildir, 'new');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((name) => readFileSync(join(dir, name), 'latin1')).filter((text) => text.includes(token));
}

describe('msmtp (GNU SASL) → outbox serve, AUTH SCRAM-SHA-256', () => {
  it('over STARTTLS: the right password is taken (ESMTPSA), a wrong one gets 535 and exit 77', async () => {
    const maildir = join(setup.scratch, uniqueId('serve-scram'));
    const server = await startServe([`--maildir=${maildir}`, ...TLS, `--auth=alice,printf ${PASSWORD}`]);
    const id = uniqueId('msmtp-scram');
    const options = (password: string) => [`--host=${setup.host}`, `--port=${server.port}`, '--tls=on', '--tls-starttls=on',
      `--tls-trust-file=${setup.tls.ca}`, '--auth=scram-sha-256', '--user=alice', `--passwordeval=printf ${password}`, '--debug', '-f', SENDER, '--', setup.users.alice];
    const result = await runMsmtp(options(PASSWORD), testMail(id));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/AUTH SCRAM-SHA-256/);
    expect(result.stdout + result.stderr).toMatch(/<-- 235 /);
    const mails = stored(maildir, id);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/^Received: from \S+ \(unknown \[127\.0\.0\.1\]\)\r\n\tby \S+ \(outbox\) with ESMTPSA id /);

    const wrong = await runMsmtp(options('wrong'), testMail(`${id}-wrong`));
    expect(wrong.status).toBe(77);
    expect(wrong.stdout + wrong.stderr).toMatch(/535/);
    expect(stored(maildir, `${id}-wrong`)).toHaveLength(0);
  });
});
