/**
 * Through a real SOCKS5 proxy (Dante from Debian's packages) to the real
 * Postfix: the host name is resolved by the proxy, and TLS runs through the
 * tunnel with verification on.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { interopSetup, runOutbox, SENDER, testMail, uniqueId, waitForMail } from './helpers.js';

const setup = interopSetup();
const { alice } = setup.users;
const proxy = ['--proxy-host=127.0.0.1', `--proxy-port=${setup.socks.port}`];

describe('outbox → Dante (SOCKS5) → Postfix', () => {
  it('plain SMTP to a host name the proxy resolves', async () => {
    const id = uniqueId('socks');
    const result = await runOutbox(['--host=localhost', `--port=${setup.postfix.ports.smtp}`, ...proxy, '-f', SENDER, alice], testMail(id));
    expect(result.status, result.stderr).toBe(0);
    await waitForMail('postfix', alice, id);
    // Dante logged the connection it made for us, to the Postfix port.
    expect(readFileSync(setup.socks.log, 'utf8')).toMatch(new RegExp(`tcp/connect.*\\.${setup.postfix.ports.smtp}\\b`));
  });

  it('STARTTLS through the tunnel, verified against the CA', async () => {
    const id = uniqueId('socks-tls');
    const result = await runOutbox(['--host=localhost', `--port=${setup.postfix.ports.submission}`, '--tls=on', `--tls-trust-file=${setup.tls.ca}`, ...proxy, '-f', SENDER, alice], testMail(id));
    expect(result.status, result.stderr).toBe(0);
    await waitForMail('postfix', alice, id);
  });
});
