/**
 * The outbox queue end to end, the built CLI against in-process servers on
 * loopback: `queue always` and `on_failure`, the listing (text, --json and
 * `mailq`), -q / --queue-run, --queue-remove, and what is on disk.
 * Each test has its own HOME and queue folder; order and events are checked,
 * never elapsed time.
 */
import { existsSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeServer } from '../helpers/fake-server.js';
import { OUTBOX } from '../helpers/run-cli.js';
import { closedPort, makeSandbox, runAs, startCounting, testMail, waitForBackgroundRuns, waitUntil, type CountingServer, type Sandbox } from '../helpers/queue.js';

let box: Sandbox;
let server: CountingServer | undefined;
const ENVELOPE = ['-f', 'a@example.com', 'b@example.net'];

beforeEach(() => {
  box = makeSandbox();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  box.cleanup();
});

const hostArgs = (port: number): string[] => ['--host=127.0.0.1', `--port=${port}`];

describe('queue always', () => {
  it('queues silently while the server is down, lists the mail, and -q sends what a direct send would', async () => {
    const port = await closedPort();
    const queued = await box.run([...hostArgs(port), '--queue=always', `--queue-dir=${box.queue}`, ...ENVELOPE], { input: testMail(1) });
    expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });

    const [mail, ...others] = await box.list();
    expect(others).toEqual([]);
    expect(mail).toMatchObject({ account: '', from: 'a@example.com', attempts: 0, recipients: [{ address: 'b@example.net', state: 'pending', reply: null }] });
    expect(Object.keys(mail!)).toEqual(expect.arrayContaining(['id', 'account', 'from', 'size', 'queued_at', 'attempts', 'next_attempt', 'recipients']));
    expect(mail!.id).toMatch(/^[0-9A-Z]{15}$/);
    expect(Number.isNaN(Date.parse(mail!.queued_at))).toBe(false);
    expect(Number.isNaN(Date.parse(mail!.next_attempt))).toBe(false);
    const text = await box.run(['-bp', `--queue-dir=${box.queue}`]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(mail!.id);
    expect(text.stdout).toMatch(/pending\s+<b@example\.net>/);
    expect(text.stdout).toContain('from <a@example.com>');

    server = await startCounting({ folder: join(box.root, 'captured'), port });
    const flushed = await box.run(['-q', `--queue-dir=${box.queue}`]);
    expect(flushed, flushed.stderr).toMatchObject({ status: 0, stderr: '' });
    const [viaQueue] = await server.waitForMessages(1);
    expect(mail!.size).toBe(viaQueue!.size);
    expect(await box.list()).toEqual([]);
    expect((await box.run(['--queue-list', `--queue-dir=${box.queue}`])).stdout).toBe('Mail queue is empty\n');

    // The same input sent directly: the same envelope and the same bytes, header fields in the same order.
    const direct = await box.run([...hostArgs(port), ...ENVELOPE], { input: testMail(1) });
    expect(direct.status, direct.stderr).toBe(0);
    const [, sentDirectly] = await server.waitForMessages(2);
    expect(viaQueue!.mailFrom).toBe(sentDirectly!.mailFrom);
    expect(viaQueue!.recipients).toEqual(sentDirectly!.recipients);
    expect(viaQueue!.raw.toString()).toBe(sentDirectly!.raw.toString());
    expect(viaQueue!.raw.toString()).toMatch(/^From: a@example\.com\r\nTo: b@example\.net\r\nSubject: mail 1\r\nDate: .*\r\nMessage-ID: <q1@example\.com>\r\n\r\n/);
  });

  it('takes queue always and queue_dir from a configuration file', async () => {
    const port = await closedPort();
    const queueDir = join(box.root, 'from-file');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${port}\nfrom a@example.com\nqueue always\nqueue_dir ${queueDir}\n`);
    const queued = await box.run(['-C', rc, 'b@example.net'], { input: testMail(2) });
    expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
    const [mail] = await box.list(['-C', rc]);
    expect(mail).toMatchObject({ account: 'default', from: 'a@example.com' });
    expect(readdirSync(join(queueDir, 'queue'))).toEqual([mail!.id]);

    server = await startCounting({ folder: join(box.root, 'captured'), port });
    expect((await box.run(['-q', '-C', rc])).status).toBe(0);
    expect((await server.waitForMessages(1))[0]!.recipients).toEqual(['b@example.net']);
    expect(await box.list(['-C', rc])).toEqual([]);
  });

  it('finds a configuration file named relative to the folder of the enqueue when flushed from elsewhere', async () => {
    const port = await closedPort();
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${port}\nfrom a@example.com\nqueue always\nqueue_dir ${box.queue}\n`);
    const queued = await runAs(OUTBOX, ['-C', basename(rc), 'b@example.net'], box.env, testMail(13), box.root);
    expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
    server = await startCounting({ folder: join(box.root, 'captured'), port });
    const flushed = await runAs(OUTBOX, ['-q', `--queue-dir=${box.queue}`], box.env, '', box.home);
    expect(flushed, flushed.stderr).toMatchObject({ status: 0, stderr: '' });
    expect(await server.waitForMessages(1)).toHaveLength(1);
  });

  it('starts a background flush that delivers the mail and empties the queue', async () => {
    server = await startCounting({ folder: join(box.root, 'captured') });
    const queued = await box.run([...hostArgs(server.port), '--queue=always', `--queue-dir=${box.queue}`, ...ENVELOPE], {
      input: testMail(3),
      env: { OUTBOX_BACKGROUND_FLUSH: '' },
    });
    expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
    const [message] = await server.waitForMessages(1, 10_000);
    expect(message!.raw.toString()).toContain('Message-ID: <q3@example.com>');
    await waitUntil(() => ['queue', 'active', 'tmp'].every((f) => readdirSync(join(box.queue, f)).length === 0), 'the queue to empty');
    await waitForBackgroundRuns(box.queue);
    expect(await box.list()).toEqual([]);
  });

  it('delivers each mail once when several background flushes run at the same time', async () => {
    server = await startCounting({ folder: join(box.root, 'captured') });
    const sends = [20, 21, 22, 23, 24].map((n) =>
      box.run([...hostArgs(server!.port), '--queue=always', `--queue-dir=${box.queue}`, '-f', 'a@example.com', `r${n}@example.net`], {
        input: testMail(n),
        env: { OUTBOX_BACKGROUND_FLUSH: '' },
      }),
    );
    for (const result of await Promise.all(sends)) expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    await server.waitForMessages(5, 15_000);
    await waitUntil(() => ['queue', 'active', 'tmp'].every((f) => readdirSync(join(box.queue, f)).length === 0), 'the queue to empty');
    await waitForBackgroundRuns(box.queue);
    // Each of the five exactly once (a stray mail of another test that found this port is not counted).
    const all = (await server.messages()).map((m) => m.recipients.join(','));
    const received = all.filter((r) => /^r2\d@example\.net$/.test(r)).sort();
    expect(received, all.join(' ')).toEqual(['r20@example.net', 'r21@example.net', 'r22@example.net', 'r23@example.net', 'r24@example.net']);
  });

  it('returns without waiting for the background flush, which keeps the mail when its session breaks', async () => {
    // A server that greets nobody: the background run hangs on it while the caller has long returned.
    const hanging = await startFakeServer({ greeting: { hang: true }, reply: () => ({ hang: true }) });
    try {
      const queued = await box.run([...hostArgs(hanging.port), '--queue=always', `--queue-dir=${box.queue}`, ...ENVELOPE], {
        input: testMail(14),
        env: { OUTBOX_BACKGROUND_FLUSH: '' },
      });
      expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
      await waitUntil(() => hanging.clients.length === 1, 'the background flush to connect');
      expect(readdirSync(join(box.queue, 'active'))).toHaveLength(1);
    } finally {
      await hanging.close();
    }
    await waitUntil(() => readdirSync(join(box.queue, 'active')).length === 0, 'the background flush to give the mail back');
    await waitForBackgroundRuns(box.queue);
    const [mail] = await box.list();
    expect(mail).toMatchObject({ attempts: 1, recipients: [{ state: 'pending' }] });
  });
});

describe('queue on_failure', () => {
  it('queues a mail whose server is down: exit 0, one attempt, the error kept', async () => {
    const port = await closedPort();
    const result = await box.run([...hostArgs(port), '--queue=on_failure', `--queue-dir=${box.queue}`, ...ENVELOPE], { input: testMail(4) });
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    const [mail] = await box.list();
    expect(mail).toMatchObject({ attempts: 1, recipients: [{ address: 'b@example.net', state: 'pending' }] });
    expect(mail!.last_error).toMatch(/refused|connect/i);
    // Still down: -q says the queue is not empty (75) and counts the attempt.
    expect((await box.run(['-q', `--queue-dir=${box.queue}`])).status).toBe(75);
    expect((await box.list())[0]).toMatchObject({ id: mail!.id, attempts: 2 });
  });

  it('does not queue a permanent refusal, and queues a 451 with the recipient reply', async () => {
    server = await startCounting({
      folder: join(box.root, 'captured'),
      refuseRecipient: (address) =>
        address.startsWith('gone') ? { code: 550, text: '5.1.1 no such user' } : address.startsWith('busy') ? { code: 451, text: '4.3.0 try later' } : undefined,
    });
    const args = [...hostArgs(server.port), '--queue=on_failure', `--queue-dir=${box.queue}`, '-f', 'a@example.com'];
    const refused = await box.run([...args, 'gone@example.net'], { input: testMail(5) });
    const withoutQueue = await box.run([...hostArgs(server.port), '-f', 'a@example.com', 'gone@example.net'], { input: testMail(5) });
    expect(refused).toEqual(withoutQueue);
    expect(refused.status).toBe(65);
    expect(refused.stderr).toContain('550');
    expect(await box.list()).toEqual([]);

    const later = await box.run([...args, 'busy@example.net'], { input: testMail(6) });
    expect(later).toEqual({ status: 0, stdout: '', stderr: '' });
    const [mail] = await box.list();
    expect(mail).toMatchObject({ attempts: 1, recipients: [{ address: 'busy@example.net', state: 'pending', reply: '451 4.3.0 try later' }] });
    expect(await server.messages()).toEqual([]);
  });

  it('LMTP: keeps who was delivered when another recipient is refused for now, and retries only the other', async () => {
    const full = new Set<string>();
    server = await startCounting({
      folder: join(box.root, 'captured'),
      protocol: 'lmtp',
      lmtpDeliveryReply: (address) => {
        if (!address.startsWith('full') || full.has(address)) return undefined;
        full.add(address);
        return { code: 452, text: '4.2.2 mailbox full' };
      },
    });
    const args = ['--protocol=lmtp', ...hostArgs(server.port), '--queue=on_failure', `--queue-dir=${box.queue}`, '-f', 'a@example.com'];
    const result = await box.run([...args, 'ok@example.net', 'full@example.net'], { input: testMail(15) });
    expect(result).toEqual({ status: 0, stdout: '', stderr: '' });
    const [mail] = await box.list();
    expect(mail!.recipients).toEqual([
      { address: 'ok@example.net', state: 'delivered', reply: expect.stringMatching(/^250 /) },
      { address: 'full@example.net', state: 'pending', reply: '452 4.2.2 mailbox full' },
    ]);
    expect((await box.run(['-q', `--queue-dir=${box.queue}`])).status).toBe(0);
    const received = await server.waitForMessages(2);
    expect(received.map((m) => m.recipients)).toEqual([['ok@example.net'], ['full@example.net']]);
    expect(await box.list()).toEqual([]);
  });
});

describe('queue housekeeping', () => {
  it('uses $XDG_STATE_HOME/outbox/queue, else ~/.local/state/outbox/queue, made 0700', async () => {
    const port = await closedPort();
    for (const env of [{}, { XDG_STATE_HOME: '' }]) {
      const queued = await box.run([...hostArgs(port), '--queue=always', ...ENVELOPE], { input: testMail(12), env });
      expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
    }
    for (const dir of [join(box.root, 'state', 'outbox', 'queue'), join(box.home, '.local', 'state', 'outbox', 'queue')]) {
      expect(statSync(dir).mode & 0o777, dir).toBe(0o700);
      expect(readdirSync(join(dir, 'queue')), dir).toHaveLength(1);
    }
    expect(await box.list([])).toHaveLength(1);
  });

  it('--queue-remove removes a mail without a bounce; an unknown id exits 66', async () => {
    const port = await closedPort();
    for (const n of [7, 8]) await box.run([...hostArgs(port), '--queue=always', `--queue-dir=${box.queue}`, ...ENVELOPE], { input: testMail(n) });
    const [first, second] = await box.list();
    const removed = await box.run(['--queue-remove', first!.id, `--queue-dir=${box.queue}`]);
    expect(removed).toMatchObject({ status: 0, stdout: `${first!.id}: removed\n` });
    expect((await box.list()).map((m) => m.id)).toEqual([second!.id]);
    const unknown = await box.run(['--queue-remove', first!.id, `--queue-dir=${box.queue}`]);
    expect(unknown.status).toBe(66);
    expect(unknown.stderr).toContain(first!.id);
    expect(readdirSync(join(box.queue, 'queue'))).toEqual([second!.id]);
  });

  it('-q on a missing or an empty queue exits 0 without connecting', async () => {
    server = await startCounting({ folder: join(box.root, 'captured') });
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${server.port}\nfrom a@example.com\nqueue_dir ${box.queue}\n`);
    expect(await box.run(['-q', '-C', rc])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect((await box.run(['-bp', '-C', rc])).stdout).toBe('Mail queue is empty\n');
    // The same, once the folder exists and is empty.
    const queued = await box.run(['-C', rc, '--queue=always', 'b@example.net'], { input: testMail(9) });
    expect(queued.status).toBe(0);
    const [mail] = await box.list(['-C', rc]);
    expect((await box.run(['--queue-remove', mail!.id, '-C', rc])).status).toBe(0);
    expect(await box.run(['-q', '-C', rc])).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(server.connections()).toBe(0);
  });

  it('keeps the folder 0700, the files 0600, and no password in the queue', async () => {
    const secret = 'secret123';
    const port = await closedPort();
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${port}\nfrom a@example.com\nauth plain\nuser alice\npassword ${secret}\nqueue always\nqueue_dir ${box.queue}\n`);
    expect((await box.run(['-C', rc, 'b@example.net'], { input: testMail(10) })).status).toBe(0);
    expect(statSync(box.queue).mode & 0o777).toBe(0o700);
    const files: string[] = [];
    for (const folder of readdirSync(box.queue)) {
      expect(statSync(join(box.queue, folder)).mode & 0o777, folder).toBe(0o700);
      for (const entry of readdirSync(join(box.queue, folder))) {
        expect(statSync(join(box.queue, folder, entry)).mode & 0o777, entry).toBe(0o700);
        for (const file of readdirSync(join(box.queue, folder, entry))) files.push(join(box.queue, folder, entry, file));
      }
    }
    expect(files.map((f) => f.slice(f.lastIndexOf('/') + 1)).sort()).toEqual(['envelope.json', 'message']);
    for (const file of files) {
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
      expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
    }

    // The flush reads the password from the file again, and logs in with it.
    const logins: string[] = [];
    const smtp = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth: (auth, _session, callback) => {
        logins.push(`${auth.username}:${auth.password}`);
        callback(null, { user: auth.username });
      },
      onData: (stream, _session, callback) => {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', () => resolve()));
    try {
      const flushed = await box.run(['-q', '-C', rc]);
      expect(flushed, flushed.stderr).toMatchObject({ status: 0 });
      expect(logins).toEqual([`alice:${secret}`]);
    } finally {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});

describe('secrets', () => {
  it('queueing runs no passwordeval: only the flush asks for the password', async () => {
    const port = await closedPort();
    const marker = join(box.root, 'evaluated');
    const rc = box.config(`account default\nhost 127.0.0.1\nport ${port}\nfrom a@example.com\nauth plain\nuser alice\npasswordeval echo x >> ${marker}; exit 1\nqueue always\nqueue_dir ${box.queue}\n`);
    expect(await box.run(['-C', rc, 'b@example.net'], { input: testMail(16) })).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(existsSync(marker)).toBe(false);
    expect((await box.run(['-q', '-C', rc])).status).toBe(75);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('called by another name', () => {
  it('as mailq it lists the queue; as sendmail it sends', async () => {
    const port = await closedPort();
    symlinkSync(OUTBOX, join(box.root, 'mailq'));
    symlinkSync(OUTBOX, join(box.root, 'sendmail'));
    const env = { ...box.env, HOME: box.home };
    const empty = await runAs(join(box.root, 'mailq'), [`--queue-dir=${box.queue}`], env);
    expect(empty).toEqual({ status: 0, stdout: 'Mail queue is empty\n', stderr: '' });
    const queued = await runAs(join(box.root, 'sendmail'), [...hostArgs(port), '--queue=always', `--queue-dir=${box.queue}`, ...ENVELOPE], env, testMail(11));
    expect(queued).toEqual({ status: 0, stdout: '', stderr: '' });
    const [mail] = await box.list();
    const listed = await runAs(join(box.root, 'mailq'), [`--queue-dir=${box.queue}`], env);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toContain(mail!.id);
    const json = await runAs(join(box.root, 'mailq'), ['--json', `--queue-dir=${box.queue}`], env);
    expect(JSON.parse(json.stdout)).toEqual(await box.list());
  });
});
