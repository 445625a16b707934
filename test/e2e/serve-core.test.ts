/**
 * The product server (startServer) end to end on loopback, against two
 * independent clients: nodemailer over STARTTLS with AUTH, and outbox's own
 * built CLI (STARTTLS or implicit TLS, AUTH PLAIN with a passwordeval, DSN),
 * with a CA made at test time. The backend keeps messages in memory.
 */
import nodemailer from 'nodemailer';
import { createSecureContext } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer, ServerConfig, ServerLogEvent } from '../../src/server/server-config.js';
import { SERVER_DEFAULTS } from '../../src/server/server-config.js';
import { startServer } from '../../src/server/server.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/certs.js';
import { MemoryBackend } from '../helpers/memory-backend.js';
import { runOutbox } from '../helpers/run-cli.js';
import { expectNoSecret } from '../helpers/secrets.js';

const USER = 'ann@example.org';
const SECRET = 'c0rrect horse';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.cleanup());

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(implicit = false) {
  const backend = new MemoryBackend();
  const events: ServerLogEvent[] = [];
  const config: ServerConfig = {
    ...SERVER_DEFAULTS,
    hostname: 'mx.test',
    backend,
    // Not loopback on purpose: AUTH must wait for TLS, as on a public address.
    loopback: false,
    tls: { context: createSecureContext({ cert: certs.server.cert, key: certs.server.key }), implicit },
    auth: { verify: async (user, password) => user === USER && password === SECRET },
    onLog: (event) => events.push(event),
  };
  const server = await startServer(config, { host: '127.0.0.1', port: 0 });
  servers.push(server);
  return { server, backend, events };
}

describe('outbox serve with nodemailer', () => {
  it('takes a message over STARTTLS after AUTH, with Received and the envelope', async () => {
    const { server, backend } = await serve();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.port,
      secure: false,
      requireTLS: true,
      tls: { ca: certs.ca, servername: 'localhost' },
      auth: { user: USER, pass: SECRET },
    });
    const info = await transport.sendMail({
      from: USER,
      to: 'bob@example.net',
      subject: 'over TLS',
      text: 'hello\n.dot\n',
      dsn: { notify: ['success', 'failure'], ret: 'hdrs', envid: 'E1' },
    });
    transport.close();
    expect(info.accepted).toEqual(['bob@example.net']);
    expect(info.response).toBe('250 2.0.0 Ok: queued as M1');
    const [message] = backend.committed;
    expect(message?.envelope).toMatchObject({
      mailFrom: USER,
      recipients: ['bob@example.net'],
      tls: true,
      authenticatedUser: USER,
      mailParams: { RET: 'HDRS', ENVID: 'E1' },
    });
    expect(message?.envelope.rcptParams[0]?.['NOTIFY']).toBe('SUCCESS,FAILURE');
    expect(message?.data).toMatch(/^Received: from \S+ \(unknown \[127\.0\.0\.1\]\)\r\n\tby mx\.test \(outbox\) with ESMTPSA id [0-9A-F]{12}\r\n\tfor <bob@example\.net>; /);
    expect(message?.data).toContain('Subject: over TLS\r\n');
    expect(message?.data).toContain('\r\n\r\nhello\r\n.dot\r\n');
  });

  it('refuses a wrong password with 535 (nodemailer reports it)', async () => {
    const { server, backend, events } = await serve();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: server.port,
      requireTLS: true,
      tls: { ca: certs.ca, servername: 'localhost' },
      auth: { user: USER, pass: 'wrong' },
    });
    await expect(transport.sendMail({ from: USER, to: 'bob@example.net', text: 'x' })).rejects.toMatchObject({ responseCode: 535 });
    transport.close();
    expect(backend.committed).toEqual([]);
    expect(events).toContainEqual({ type: 'auth-failed', remoteAddress: '127.0.0.1', user: USER });
    expect(JSON.stringify(events)).not.toContain('wrong');
  });
});

describe('outbox serve with outbox itself', () => {
  const send = (port: number, extra: string[] = []) =>
    runOutbox(
      [
        '-d',
        '--host=localhost',
        `--port=${port}`,
        '--tls=on',
        `--tls-trust-file=${certs.caFile}`,
        '--auth=plain',
        `--user=${USER}`,
        `--passwordeval=echo '${SECRET}'`,
        ...extra,
        '-f',
        USER,
        'bob@example.net',
      ],
      { input: 'Subject: from outbox\n\nline one\n.leading dot\n' },
    );

  it('delivers over STARTTLS with AUTH PLAIN, and no secret shows in the debug output', async () => {
    const { server, backend } = await serve();
    const result = await send(server.port, ['-N', 'success', '-R', 'hdrs']);
    expect(result.status, result.stderr).toBe(0);
    const [message] = backend.committed;
    expect(message?.envelope).toMatchObject({ mailFrom: USER, recipients: ['bob@example.net'], tls: true, authenticatedUser: USER });
    expect(message?.envelope.mailParams['RET']).toBe('HDRS');
    expect(message?.envelope.rcptParams[0]?.['NOTIFY']).toBe('SUCCESS');
    expect(message?.data).toMatch(/ with ESMTPSA id /);
    // outbox sends with BDAT where CHUNKING is offered: the message came in counted chunks.
    expect(result.stdout + result.stderr).toMatch(/BDAT \d+ LAST/);
    expect(message?.data).toMatch(/\r\n\r\nline one\r\n\.leading dot\r\n$/);
    expectNoSecret({ stdout: result.stdout, stderr: result.stderr }, [SECRET]);
  });

  it('delivers over implicit TLS', async () => {
    const { server, backend } = await serve(true);
    const result = await send(server.port, ['--tls-starttls=off']);
    expect(result.status, result.stderr).toBe(0);
    expect(backend.committed[0]?.envelope).toMatchObject({ tls: true, authenticatedUser: USER });
  });

  it('exits with a permanent failure on a wrong password', async () => {
    const { server, backend } = await serve();
    const result = await runOutbox(
      ['--host=localhost', `--port=${server.port}`, '--tls=on', `--tls-trust-file=${certs.caFile}`, '--auth=plain', `--user=${USER}`, "--passwordeval=echo nope", '-f', USER, 'bob@example.net'],
      { input: 'Subject: x\n\nx\n' },
    );
    expect(result.status).toBe(77); // EX_NOPERM, as msmtp for an authentication failure
    expect(backend.committed).toEqual([]);
  });
});
