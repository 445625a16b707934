/**
 * DSN (RFC 3461) end to end: msmtp's -N and -R, sendmail's -V, against
 * smtp-server (which offers DSN and checks the parameters) and against a
 * server without DSN (69, nothing sent, as msmtp).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { startCaptureServer } from '../helpers/capture-server.js';
import { runOutbox } from '../helpers/run-cli.js';

interface Seen { mailFrom: unknown; rcptTo: unknown[]; dsn: unknown }
let server: SMTPServer | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function start(seen: Seen[]): Promise<number> {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    hideDSN: false,
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      stream.resume();
      stream.on('end', () => {
        const envelope = session.envelope as unknown as { mailFrom: unknown; rcptTo: unknown[]; dsn: unknown };
        seen.push({ mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo, dsn: envelope.dsn });
        callback();
      });
    },
  });
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  return (s.server.address() as { port: number }).port;
}

describe('DSN end to end', () => {
  it('-N, -R and -V reach the server as NOTIFY, ORCPT, RET and ENVID', async () => {
    const seen: Seen[] = [];
    const port = await start(seen);
    const result = await runOutbox(['-d', '--host=127.0.0.1', `--port=${port}`, '-f', 'a@example.com', '-N', 'failure,delay', '-R', 'hdrs', '-V', 'env-42', 'b@example.net'], { input: 'Subject: dsn\n\nx\n' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^--> MAIL FROM:<a@example\.com> .*RET=HDRS ENVID=env-42$/m);
    expect(result.stdout).toContain('--> RCPT TO:<b@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.net');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.dsn).toMatchObject({ ret: 'HDRS', envid: 'env-42' });
    expect(seen[0]!.rcptTo[0]).toMatchObject({ address: 'b@example.net', dsn: { notify: ['FAILURE', 'DELAY'] } });
  });

  it('a server without DSN: 69, and the mail is not sent', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'outbox-dsn-'));
    const capture = await startCaptureServer({ folder });
    try {
      const result = await runOutbox(['--host=127.0.0.1', `--port=${capture.port}`, '-f', 'a@example.com', '-N', 'never', 'b@example.net'], { input: 'Subject: dsn\n\nx\n' });
      expect(result.status).toBe(69);
      expect(result.stderr).toContain('does not offer DSN');
      expect(await capture.messages()).toEqual([]);
    } finally {
      await capture.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
