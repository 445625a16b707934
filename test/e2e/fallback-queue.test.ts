/**
 * `fallback_account` with the queue (issue 16), the built CLI against
 * servers on loopback port 0: `queue on_failure` queues only when the whole
 * chain failed temporarily, and `outbox -q` tries the chain too, mails with
 * the same chain sharing one session through the account that answered.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeServer } from '../helpers/fake-server.js';
import { closedPort, makeSandbox, startCounting, testMail, type CountingServer, type Sandbox } from '../helpers/queue.js';

let box: Sandbox;
let servers: Array<{ close(): Promise<void> }> = [];

beforeEach(() => {
  box = makeSandbox();
});
afterEach(async () => {
  for (const server of servers) await server.close();
  servers = [];
  box.cleanup();
});

const ENVELOPE = ['-f', 'a@example.com', 'b@example.net'];
const logFile = () => join(box.root, 'log');

/** Accounts a → b; `a` and `b` are their ports. */
function chain(a: number, b: number): string {
  return `defaults\nqueue on_failure\nqueue_dir ${box.queue}\nlogfile ${logFile()}\nlogfile_time_format none\n\n`
    + `account a\nhost 127.0.0.1\nport ${a}\nfallback_account b\n\naccount b\nhost 127.0.0.1\nport ${b}\n`;
}

async function capture(): Promise<CountingServer> {
  const server = await startCounting({ folder: join(box.root, `captured-${servers.length}`) });
  servers.push(server);
  return server;
}

describe('queue on_failure', () => {
  it('does not queue a mail the fallback delivered', async () => {
    const b = await capture();
    const rc = box.config(chain(await closedPort(), b.port));
    const result = await box.run(['-C', rc, '-a', 'a', ...ENVELOPE], { input: testMail(1) });
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(await b.messages()).toHaveLength(1);
    expect(await box.list()).toEqual([]);
  });

  it('does not queue when the fallback refuses for good (5xx): the chain failed, not temporarily', async () => {
    const refusing = await startFakeServer({ greeting: '554 5.3.2 no service', reply: () => '221 bye' });
    servers.push(refusing);
    const rc = box.config(chain(await closedPort(), refusing.port));
    const result = await box.run(['-C', rc, '-a', 'a', ...ENVELOPE], { input: testMail(2) });
    expect(result.status).toBe(76);
    expect(result.stderr).toMatch(/^outbox: account a: cannot connect to .*; account b: the SMTP server at 127\.0\.0\.1 refused the session: 554 5\.3\.2 no service\n$/);
    expect(await box.list()).toEqual([]);
  });

  it('queues when the whole chain failed temporarily; -q then goes down the chain, two mails over one session', async () => {
    const a = await closedPort();
    const rc = box.config(chain(a, await closedPort()));
    for (const n of [3, 4]) {
      const queued = await box.run(['-C', rc, '-a', 'a', ...ENVELOPE], { input: testMail(n) });
      expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
    }
    const listed = await box.list();
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatchObject({ account: 'a', last_error: expect.stringMatching(/^account a: cannot connect to .*; account b: cannot connect to /) });

    // b comes up; the queue finds the accounts again in today's file.
    const b = await capture();
    writeFileSync(rc, chain(a, b.port));
    const flushed = await box.run(['-q', `--queue-dir=${box.queue}`]);
    expect(flushed).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await b.messages()).map((m) => m.raw.toString().match(/Subject: (.*)\r\n/)?.[1])).toEqual(['mail 3', 'mail 4']);
    expect(b.connections()).toBe(1);
    expect(await box.list()).toEqual([]);
    const delivered = readFileSync(logFile(), 'utf8').split('\n').filter((line) => line.includes('queue=delivered'));
    expect(delivered).toHaveLength(2);
    for (const line of delivered) expect(line).toMatch(new RegExp(`^host=127\\.0\\.0\\.1 .* account=b failover='a: cannot connect to 127\\.0\\.0\\.1 port ${a}: [^']*' queue=delivered queueid=\\S+ exitcode=EX_OK$`));
  });

  it('-q keeps the mail queued, naming every account, while the whole chain is down', async () => {
    const rc = box.config(chain(await closedPort(), await closedPort()));
    expect((await box.run(['-C', rc, '-a', 'a', ...ENVELOPE], { input: testMail(5) })).status).toBe(0);
    const flushed = await box.run(['-q', `--queue-dir=${box.queue}`]);
    expect(flushed.status).toBe(75);
    const [mail] = await box.list();
    expect(mail).toMatchObject({ attempts: 2, last_error: expect.stringMatching(/^account a: cannot connect .*; account b: cannot connect /) });
  });
});
