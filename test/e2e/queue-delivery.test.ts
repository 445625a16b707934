/**
 * How a queue flush delivers, end to end against in-process servers:
 * greylisting and the back-off (-q against --queue-run), per-recipient
 * outcomes and RFC 3464 bounces (queue_bounce off, the null sender), many
 * mails over one connection with RSET only when a transaction was left
 * open, and the queue lifetime. Order and events are checked, never time.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer } from '../helpers/fake-server.js';
import { makeSandbox, startCounting, testMail, verbs, waitUntil, type CountingServer, type Sandbox } from '../helpers/queue.js';
import type { ReplySpec } from '../helpers/capture-server.js';

let box: Sandbox;
let server: CountingServer | undefined;

beforeEach(() => {
  box = makeSandbox();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  box.cleanup();
});

const GONE: ReplySpec = { code: 550, text: '5.1.1 no such user' };
const refuseGone = (address: string): ReplySpec | undefined => (address.startsWith('gone') ? GONE : undefined);

async function start(refuseRecipient?: (address: string) => ReplySpec | undefined): Promise<CountingServer> {
  server = await startCounting({ folder: join(box.root, 'captured'), ...(refuseRecipient ? { refuseRecipient } : {}) });
  return server;
}

/** Queues a mail (`queue always`, no background flush) for the server. */
async function enqueue(s: { port: number }, args: readonly string[], n: number, extra: readonly string[] = []): Promise<void> {
  const result = await box.run(['--host=127.0.0.1', `--port=${s.port}`, '--queue=always', `--queue-dir=${box.queue}`, ...extra, ...args], { input: testMail(n) });
  expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
}

const flush = (mode = '-q', extra: readonly string[] = [`--queue-dir=${box.queue}`]) => box.run([mode, ...extra]);
const entries = (folder: string): string[] => (existsSync(join(box.queue, folder)) ? readdirSync(join(box.queue, folder)) : []);

describe('greylisting', () => {
  it('-q leaves a 450 pending and exits 75; --queue-run waits for the back-off; -q delivers to the pending recipient only', async () => {
    const seen = new Set<string>();
    const s = await start((address) => {
      if (!address.startsWith('grey') || seen.has(address)) return undefined;
      seen.add(address);
      return { code: 450, text: '4.7.1 greylisted, come back later' };
    });
    await enqueue(s, ['-f', 'a@example.com', 'grey@example.net', 'c@example.net'], 1);
    const first = await flush();
    expect(first.status).toBe(75);
    expect((await s.waitForMessages(1)).map((m) => m.recipients)).toEqual([['c@example.net']]);
    const [mail] = await box.list();
    expect(mail).toMatchObject({
      attempts: 1,
      recipients: [
        { address: 'grey@example.net', state: 'pending', reply: '450 4.7.1 greylisted, come back later' },
        { address: 'c@example.net', state: 'delivered' },
      ],
    });
    // About a minute after the attempt (±10 %), read from the record, not from the clock.
    expect(Date.parse(mail!.next_attempt) - Date.parse(mail!.last_attempt!)).toBeGreaterThanOrEqual(54_000);
    expect(s.connections()).toBe(1);

    const run = await flush('--queue-run');
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(s.connections()).toBe(1);
    expect((await box.list())[0]!.attempts).toBe(1);

    const second = await flush();
    expect(second, second.stderr).toMatchObject({ status: 0 });
    expect(s.connections()).toBe(2);
    // The retry goes to the recipient still pending, never again to the one who accepted.
    expect((await s.waitForMessages(2)).map((m) => m.recipients)).toEqual([['c@example.net'], ['grey@example.net']]);
    expect(await box.list()).toEqual([]);
  });
});

describe('per recipient', () => {
  it('delivers to the accepted recipient and bounces the refused one to the sender with the null path', async () => {
    const s = await start(refuseGone);
    await enqueue(s, ['-f', 'a@example.com', 'ok@example.net', 'gone@example.net'], 2);
    const result = await flush();
    expect(result, result.stderr).toMatchObject({ status: 0 });
    const [original, bounce, ...more] = await s.waitForMessages(2);
    expect(more).toEqual([]);
    expect(original).toMatchObject({ mailFrom: 'a@example.com', recipients: ['ok@example.net'] });
    expect(bounce).toMatchObject({ mailFrom: '', recipients: ['a@example.com'] });
    const text = bounce!.raw.toString();
    expect(text).toMatch(/^From: .*MAILER-DAEMON@/im);
    expect(text).toMatch(/^To: .*a@example\.com/im);
    expect(text).toMatch(/^Content-Type: multipart\/report;[^]*report-type="?delivery-status/im);
    expect(text).toMatch(/^Final-Recipient: rfc822; ?gone@example\.net/im);
    expect(text).toContain('550 5.1.1 no such user');
    expect(text).not.toMatch(/^Final-Recipient: rfc822; ?ok@example\.net/im);
    expect(text).toContain('Message-ID: <q2@example.com>');
    expect(await box.list()).toEqual([]);
    expect(entries('failed')).toEqual([]);
  });

  it('with queue_bounce off sends no bounce and keeps the mail in failed/', async () => {
    const s = await start(refuseGone);
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${s.port}\nfrom a@example.com\nqueue always\nqueue_bounce off\nqueue_dir ${box.queue}\n`);
    expect((await box.run(['-C', rc, 'ok@example.net', 'gone@example.net'], { input: testMail(3) })).status).toBe(0);
    const result = await flush('-q', ['-C', rc]);
    expect(result, result.stderr).toMatchObject({ status: 0 });
    const received = await s.waitForMessages(1);
    expect(received.map((m) => m.recipients)).toEqual([['ok@example.net']]);
    const [kept, ...others] = entries('failed');
    expect(others).toEqual([]);
    const record = JSON.parse(readFileSync(join(box.queue, 'failed', kept!, 'envelope.json'), 'utf8'));
    expect(record.recipients.map((r: { address: string; state: string }) => [r.address, r.state])).toEqual([['ok@example.net', 'delivered'], ['gone@example.net', 'failed']]);
    expect(await box.list(['-C', rc])).toEqual([]);
    expect(await s.messages()).toHaveLength(1);
  });

  it('never bounces a mail whose sender is the null path', async () => {
    const s = await start(refuseGone);
    await enqueue(s, ['-f', '<>', 'gone@example.net'], 4);
    const result = await flush();
    expect(result, result.stderr).toMatchObject({ status: 0 });
    expect(entries('failed')).toHaveLength(1);
    expect(await box.list()).toEqual([]);
    expect(await s.messages()).toEqual([]);
    expect(verbs(s.commands).filter((v) => v === 'MAIL')).toHaveLength(1);
  });
});

describe('one connection', () => {
  it('sends several mails over one connection to the capture server, without RSET when none is needed', async () => {
    const s = await start();
    for (const n of [5, 6, 7]) await enqueue(s, ['-f', 'a@example.com', `r${n}@example.net`], n);
    expect((await flush()).status).toBe(0);
    const received = await s.waitForMessages(3);
    expect(received.map((m) => m.recipients)).toEqual([['r5@example.net'], ['r6@example.net'], ['r7@example.net']]);
    expect(s.connections()).toBe(1);
    const sent = verbs(s.commands);
    expect(sent.filter((v) => v === 'MAIL')).toHaveLength(3);
    expect(sent).not.toContain('RSET');
    expect(sent.at(-1)).toBe('QUIT');
  });

  it('says RSET once, after a transaction left open by a refused recipient', async () => {
    const s = await start(refuseGone);
    await enqueue(s, ['-f', '<>', 'gone@example.net'], 8);
    await enqueue(s, ['-f', 'a@example.com', 'ok@example.net'], 9);
    expect((await flush()).status).toBe(0);
    expect((await s.waitForMessages(1)).map((m) => m.recipients)).toEqual([['ok@example.net']]);
    expect(s.connections()).toBe(1);
    const sent = verbs(s.commands).filter((v) => ['MAIL', 'RSET', 'QUIT'].includes(v));
    expect(sent).toEqual(['MAIL', 'RSET', 'MAIL', 'QUIT']);
  });

  it('sends several mails over one connection to smtp-server', async () => {
    let connections = 0;
    const received: string[][] = [];
    const smtp = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onConnect: (_session, callback) => {
        connections++;
        callback();
      },
      onData: (stream, session, callback) => {
        stream.resume();
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (smtp.server.address() as { port: number }).port;
      for (const n of [1, 2, 3]) await enqueue({ port }, ['-f', 'a@example.com', `s${n}@example.net`], n);
      const result = await flush();
      expect(result, result.stderr).toMatchObject({ status: 0 });
      expect(received).toEqual([['s1@example.net'], ['s2@example.net'], ['s3@example.net']]);
      expect(connections).toBe(1);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});

describe('a session that ends', () => {
  it('a 421 ends the session: that mail waits, the next goes over a new connection', async () => {
    let mailsThisConnection = 0;
    let connections = 0;
    const fake = await startFakeServer({
      onConnection: () => {
        connections++;
        mailsThisConnection = 0;
      },
      reply: (line) => {
        if (line.startsWith('MAIL') && ++mailsThisConnection === 2) return '421 4.3.2 shutting down';
        return normalReply(line);
      },
    });
    try {
      for (const n of [1, 2, 3]) await enqueue(fake, ['-f', 'a@example.com', `r${n}@example.net`], n);
      const [, second] = await box.list();
      const result = await flush();
      expect(result.status).toBe(75);
      expect(connections).toBe(2);
      expect(fake.messages).toHaveLength(2);
      expect(fake.messages.map((m) => /^Subject: (.*)$/m.exec(m)![1]!.trim())).toEqual(['mail 1', 'mail 3']);
      const [left, ...others] = await box.list();
      expect(others).toEqual([]);
      expect(left).toMatchObject({ id: second!.id, attempts: 1, recipients: [{ address: 'r2@example.net', state: 'pending' }] });
      expect(left!.last_error).toContain('421');
    } finally {
      await fake.close();
    }
  });
});

describe('queue lifetime', () => {
  it('gives up after queue_lifetime and bounces with the last reply', async () => {
    const s = await start((address) => (address.startsWith('busy') ? { code: 451, text: '4.3.0 try later' } : undefined));
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${s.port}\nfrom a@example.com\nqueue on_failure\nqueue_lifetime 1s\nqueue_dir ${box.queue}\n`);
    expect(await box.run(['-C', rc, 'busy@example.net'], { input: testMail(5) })).toEqual({ status: 0, stdout: '', stderr: '' });
    const [mail] = await box.list(['-C', rc]);
    expect(mail!.recipients[0]!.reply).toBe('451 4.3.0 try later');
    const connections = s.connections();
    // Wait out the lifetime (bounded); what is asserted is the flush's outcome, not the time it took.
    await waitUntil(() => Date.now() > Date.parse(mail!.queued_at) + 1500, 'the queue lifetime to pass');

    const result = await flush('-q', ['-C', rc]);
    expect(result, result.stderr).toMatchObject({ status: 0 });
    const [bounce, ...more] = await s.waitForMessages(1);
    expect(more).toEqual([]);
    expect(bounce).toMatchObject({ mailFrom: '', recipients: ['a@example.com'] });
    expect(bounce!.raw.toString()).toMatch(/^Final-Recipient: rfc822; ?busy@example\.net/im);
    expect(bounce!.raw.toString()).toContain('451 4.3.0 try later');
    // The expired mail was not tried again: the one connection of this flush carried the bounce only.
    expect(s.connections()).toBe(connections + 1);
    expect(verbs(s.commands).filter((v) => v === 'RCPT')).toHaveLength(2);
    expect(await box.list(['-C', rc])).toEqual([]);
  });
});

describe('what the record keeps', () => {
  it('sends the DSN requests (-N, -R, -V) of the queued mail as a direct send does', async () => {
    const seen: { ret?: string; envid?: string; notify?: string[] }[] = [];
    const smtp = new SMTPServer({
      logger: false,
      hideDSN: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData: (stream, session, callback) => {
        stream.resume();
        stream.on('end', () => {
          const { dsn, rcptTo } = session.envelope as unknown as { dsn?: { ret?: string; envid?: string }; rcptTo: { dsn?: { notify?: string[] } }[] };
          seen.push({ ret: dsn?.ret, envid: dsn?.envid, notify: rcptTo[0]?.dsn?.notify });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (smtp.server.address() as { port: number }).port;
      const args = ['-N', 'failure,delay', '-R', 'hdrs', '-V', 'env-42', '-f', 'a@example.com', 'b@example.net'];
      const direct = await box.run(['--host=127.0.0.1', `--port=${port}`, ...args], { input: testMail(6) });
      expect(direct.status, direct.stderr).toBe(0);
      await enqueue({ port }, args, 6);
      expect((await flush()).status).toBe(0);
      expect(seen).toHaveLength(2);
      expect(seen[0]).toEqual({ ret: 'HDRS', envid: 'env-42', notify: ['FAILURE', 'DELAY'] });
      expect(seen[1]).toEqual(seen[0]);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});

describe('the log file', () => {
  it('records queued, deferred, delivered and failed in the order they happened', async () => {
    const seen = new Set<string>();
    const s = await start((address) => {
      if (address.startsWith('gone')) return GONE;
      if (address !== 'b@example.net' || seen.has(address)) return undefined;
      seen.add(address);
      return { code: 450, text: '4.7.1 greylisted' };
    });
    const log = join(box.root, 'outbox.log');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${s.port}\nfrom a@example.com\nqueue always\nqueue_dir ${box.queue}\nlogfile ${log}\n`);
    expect((await box.run(['-C', rc, 'b@example.net'], { input: testMail(7) })).status).toBe(0);
    expect((await box.run(['-C', rc, 'gone@example.net'], { input: testMail(8) })).status).toBe(0);
    const [first, second] = await box.list(['-C', rc]);
    expect((await flush('-q', ['-C', rc])).status).toBe(75);
    expect((await flush('-q', ['-C', rc])).status).toBe(0);
    const events = readFileSync(log, 'utf8').trimEnd().split('\n').map((line) => {
      const [, event, id] = /queue=(\w+) queueid=(\w+)/.exec(line) ?? [];
      return `${event} ${id === first!.id ? 'first' : id === second!.id ? 'second' : 'bounce'}`;
    });
    // The first flush defers the greylisted mail and gives up the refused one (its bounce goes out in the same run).
    expect(events).toEqual(['queued first', 'queued second', 'deferred first', 'failed second', 'delivered bounce', 'delivered first']);
  });
});
