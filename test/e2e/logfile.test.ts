/**
 * The log line of sendmail mode (-X / logfile), exactly as msmtp writes it,
 * for a success and a failure; JSON with --logfile-format=json; many
 * concurrent runs appending to one file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';

let server: FakeServer;
let dir: string;
const MAIL = 'From: a@example.org\nDate: Sat, 21 Nov 2026 12:00:00 +0000\nMessage-ID: <log@example.org>\nSubject: log\n\nHello.\n';

beforeEach(async () => {
  server = await startFakeServer({
    reply: (line) => (line.includes('bad@') ? '550 5.1.1 no such user' : line === '.' ? ['250-2.0.0 queued', "250 as X'1"] : normalReply(line)),
  });
  dir = mkdtempSync(join(tmpdir(), 'outbox-log-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function send(recipients: string[], ...extra: string[]) {
  const log = join(dir, 'log');
  return runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.org', `--logfile=${log}`, '--logfile-time-format=none', ...extra, ...recipients], { input: MAIL })
    .then((result) => ({ result, log: readFileSync(log, 'utf8') }));
}

describe('the log line', () => {
  it("success: msmtp's fields, mailsize counting each line end once, the final reply", async () => {
    const { result, log } = await send(['good@example.org']);
    expect(result.status).toBe(0);
    const mailsize = MAIL.length;
    expect(log).toBe(`host=127.0.0.1 tls=off auth=off from=a@example.org recipients=good@example.org mailsize=${mailsize} smtpstatus=250 smtpmsg='250-2.0.0 queued\\n250 as X?1' exitcode=EX_OK\n`);
  });

  it('failure: the refusing reply, errormsg, and every recipient', async () => {
    const { result, log } = await send(['good@example.org', 'bad@example.org']);
    expect(result.status).toBe(65);
    expect(log).toBe("host=127.0.0.1 tls=off auth=off from=a@example.org recipients=good@example.org,bad@example.org smtpstatus=550 smtpmsg='550 5.1.1 no such user' errormsg='recipient address bad@example.org not accepted by the server' exitcode=EX_DATAERR\n");
  });

  it('--logfile-format=json (logfile_format json): one object per mail with per-recipient results, bytes and phases', async () => {
    const { log } = await send(['good@example.org'], '--logfile-format=json');
    const record = JSON.parse(log.trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ from: 'a@example.org', recipients: ['good@example.org'], exitcode: 'EX_OK' });
    const text = JSON.stringify(record);
    expect(text).toContain('good@example.org');
    expect(text).toMatch(/"octetsSent":\d+/);
    expect(text).toMatch(/"transaction":\d/);
  });

  it('-X - writes the line to standard output', async () => {
    const result = await runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.org', '-X', '-', '--logfile-time-format=none', 'good@example.org'], { input: MAIL });
    expect(result.stdout).toMatch(/^host=127\.0\.0\.1 .*exitcode=EX_OK\n$/);
  });

  it('concurrent runs append whole lines', async () => {
    const log = join(dir, 'shared');
    const runs = Array.from({ length: 12 }, () => runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '-f', 'a@example.org', `--logfile=${log}`, 'good@example.org'], { input: MAIL }));
    expect((await Promise.all(runs)).every((r) => r.status === 0)).toBe(true);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(12);
    for (const line of lines) expect(line).toMatch(/^[A-Z][a-z]{2} [ 0-9]\d \d{2}:\d{2}:\d{2} host=127\.0\.0\.1 .* exitcode=EX_OK$/);
  }, 60_000);
});
