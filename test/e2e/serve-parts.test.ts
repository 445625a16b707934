/**
 * `outbox serve`'s relay with sendmail mode's parts (issues 14, 15, 16): the
 * built CLI serving on loopback port 0, relaying to capture servers, a fake
 * server that refuses on request, and a Maildir for `mda`. Each part's fate
 * is checked where it lands; the client's reply (SMTP's one, LMTP's one per
 * recipient) must tell the truth about it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer } from '../helpers/fake-server.js';
import { closedPort, makeSandbox, startCounting, type CountingServer, type Sandbox } from '../helpers/queue.js';
import { sendRaw, startServe, type ServeProcess } from '../helpers/serve-cli.js';

const SENDER = 'sender@example.com';
const MAIL = 'Subject: parts\n\nbody\n';

let box: Sandbox;
let stop: Array<{ close(): Promise<void> } | ServeProcess> = [];

beforeEach(() => {
  box = makeSandbox();
});
afterEach(async () => {
  for (const item of stop.splice(0)) await ('stop' in item ? item.stop() : item.close());
  box.cleanup();
});

async function capture(name: string): Promise<CountingServer> {
  const server = await startCounting({ folder: join(box.root, name) });
  stop.push(server);
  return server;
}

/** `outbox serve -C FILE` with accounts a (chosen by SENDER) and others, each block given its lines. */
async function serve(accounts: Record<string, string>, defaults = '', ...args: string[]): Promise<ServeProcess> {
  const blocks = Object.entries(accounts).map(([name, lines]) => `account ${name}\n${lines}\n`);
  const file = box.config(`defaults\ntls off\nqueue_dir ${box.queue}\nlogfile ${logFile()}\nlogfile_time_format none\n${defaults}\n${blocks.join('\n')}`);
  const server = await startServe(['-C', file, ...args], { PATH: process.env['PATH'], ...box.env }, join(box.root, `serve-${stop.length}.log`));
  stop.push(server);
  return server;
}

const logFile = () => join(box.root, 'outbox.log');
const at = (port: number) => `host 127.0.0.1\nport ${port}`;
const maildirFiles = (dir: string): string[] => (existsSync(join(dir, 'new')) ? readdirSync(join(dir, 'new')) : []);

describe('fallback_account through the relay', () => {
  it('the first account cannot be reached: the second delivers, once; the log names it', async () => {
    const delivering = await capture('b');
    const server = await serve({ a: `${at(await closedPort())}\nfrom ${SENDER}\nfallback_account b`, b: at(delivering.port) });
    const { final } = await sendRaw(server.port, SENDER, ['rcpt@example.net'], MAIL);
    expect(final).toEqual([expect.stringMatching(/^250 /)]);
    const [message, ...more] = await delivering.waitForMessages(1);
    expect(more).toEqual([]);
    expect(message).toMatchObject({ mailFrom: SENDER, recipients: ['rcpt@example.net'] });
    expect(delivering.connections()).toBe(1);
    expect(readFileSync(logFile(), 'utf8')).toMatch(/ account=b failover='a: cannot connect to [^']*' exitcode=EX_OK\n$/);
  });

  it('never on a 5xx: the client gets the 550, the second account is not tried', async () => {
    const delivering = await capture('b');
    const refusing = await startFakeServer({ reply: (line) => (line.startsWith('RCPT') ? '550 5.1.1 no such user' : normalReply(line, ['PIPELINING'])) });
    stop.push(refusing);
    const server = await serve({ a: `${at(refusing.port)}\nfrom ${SENDER}\nfallback_account b`, b: at(delivering.port) });
    const { final } = await sendRaw(server.port, SENDER, ['rcpt@example.net'], MAIL);
    expect(final).toEqual(['550 5.1.1 no such user']);
    expect(delivering.connections()).toBe(0);
    expect(readFileSync(logFile(), 'utf8')).not.toContain('failover=');
  });
});

describe('route and mda through the relay', () => {
  it('a route sends its recipient through another account; the rest go through the sender\'s', async () => {
    const first = await capture('a');
    const other = await capture('b');
    const server = await serve({ a: `${at(first.port)}\nfrom ${SENDER}`, b: at(other.port) }, 'route *@other.test b');
    const { final } = await sendRaw(server.port, SENDER, ['x@example.net', 'y@other.test'], MAIL);
    expect(final).toEqual([expect.stringMatching(/^250 /)]);
    expect((await first.waitForMessages(1)).map((m) => m.recipients)).toEqual([['x@example.net']]);
    expect((await other.waitForMessages(1)).map((m) => [m.mailFrom, m.recipients])).toEqual([[SENDER, ['y@other.test']]]);
  });

  it('a local recipient lands in the mda maildir: folder, the remote one on the server', async () => {
    const remote = await capture('a');
    const maildir = join(box.root, 'Maildir');
    const server = await serve({ a: `${at(remote.port)}\nfrom ${SENDER}\nmda maildir:${maildir}` });
    const { final } = await sendRaw(server.port, SENDER, ['root', 'c@example.net'], MAIL);
    expect(final).toEqual([expect.stringMatching(/^250 /)]);
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['c@example.net']]);
    const files = maildirFiles(maildir);
    expect(files).toHaveLength(1);
    expect(readFileSync(join(maildir, 'new', files[0]!), 'utf8')).toContain('Subject: parts\n');
  });
});

describe('a mail whose parts fare differently', () => {
  /** a delivers to the capture server, b (by route) is down, root goes to the Maildir. */
  async function mixed(...args: string[]): Promise<{ server: ServeProcess; remote: CountingServer; maildir: string }> {
    const remote = await capture('a');
    const maildir = join(box.root, 'Maildir');
    const server = await serve({ a: `${at(remote.port)}\nfrom ${SENDER}\nmda maildir:${maildir}`, b: at(await closedPort()) }, 'route *@down.test b', ...args);
    return { server, remote, maildir };
  }
  const recipients = ['ok@example.net', 'x@down.test', 'root'];

  it('LMTP: each recipient gets its own part\'s reply; nothing is queued', async () => {
    const { server, remote, maildir } = await mixed('--lmtp');
    const { final } = await sendRaw(server.port, SENDER, recipients, MAIL, true);
    expect(final).toEqual([expect.stringMatching(/^250 2\.0\.0 <ok@example\.net> /), expect.stringMatching(/^451 4\.\d\.\d .*cannot connect/), expect.stringMatching(/^250 2\.0\.0 <root> /)]);
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['ok@example.net']]);
    expect(maildirFiles(maildir)).toHaveLength(1);
    expect(await box.list()).toEqual([]);
  });

  it('SMTP: 250 for the whole, and the part that failed temporarily is queued (the others are not sent again)', async () => {
    const { server, remote, maildir } = await mixed();
    const { final } = await sendRaw(server.port, SENDER, recipients, MAIL);
    expect(final).toEqual([expect.stringMatching(/^250 /)]);
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['ok@example.net']]);
    expect(maildirFiles(maildir)).toHaveLength(1);
    const queued = await box.list();
    expect(queued.map((m) => [m.account, m.attempts, m.recipients.map((r) => [r.address, r.state])])).toEqual([['b', 1, [['x@down.test', 'pending']]]]);
  });

  it('a per-recipient mailbox that cannot be written for one local recipient: LMTP answers each; SMTP queues only that one', async () => {
    const remote = await capture('a');
    mkdirSync(join(box.root, 'md'));
    writeFileSync(join(box.root, 'md', 'bob'), 'a file, not a Maildir');
    const server = await serve({ a: `${at(remote.port)}\nfrom ${SENDER}\nmda maildir:${join(box.root, 'md', '%T')}` }, '', '--lmtp');
    const lmtp = await sendRaw(server.port, SENDER, ['root', 'bob', 'ok@example.net'], MAIL, true);
    expect(lmtp.final).toEqual([expect.stringMatching(/^250 /), expect.stringMatching(/^554 5\.\d\.\d local delivery failed: the maildir could not be written/), expect.stringMatching(/^250 /)]);
    expect(maildirFiles(join(box.root, 'md', 'root'))).toHaveLength(1);
    expect(await box.list()).toEqual([]);
    await server.stop();
    const smtp = await serve({ a: `${at(remote.port)}\nfrom ${SENDER}\nmda maildir:${join(box.root, 'md', '%T')}` });
    expect((await sendRaw(smtp.port, SENDER, ['root', 'bob', 'ok@example.net'], MAIL)).final).toEqual([expect.stringMatching(/^250 /)]);
    expect(maildirFiles(join(box.root, 'md', 'root'))).toHaveLength(2);
    const queued = await box.list();
    expect(queued.map((m) => [m.via, m.recipients.map((r) => r.address)])).toEqual([['mda', ['bob']]]);
  });

  it('SMTP: a next hop speaking LMTP that takes one recipient of two: 250, and only the other is queued', async () => {
    const lmtp = await startCounting({ folder: join(box.root, 'lmtp'), protocol: 'lmtp', lmtpDeliveryReply: (address) => (address.startsWith('full@') ? { code: 452, text: '4.2.2 mailbox full' } : undefined) });
    stop.push(lmtp);
    const server = await serve({ a: `${at(lmtp.port)}\nprotocol lmtp\nfrom ${SENDER}` });
    expect((await sendRaw(server.port, SENDER, ['ok@example.net', 'full@example.net'], MAIL)).final).toEqual([expect.stringMatching(/^250 /)]);
    const queued = await box.list();
    expect(queued.map((m) => m.recipients.map((r) => [r.address, r.state]))).toEqual([[['ok@example.net', 'delivered'], ['full@example.net', 'pending']]]);
  });

  it('SMTP: when the failed part cannot be queued either, 451: a duplicate rather than a lost mail', async () => {
    const remote = await capture('a');
    writeFileSync(join(box.root, 'blocker'), 'a file, not a folder');
    const b = `${at(await closedPort())}\nqueue_dir ${join(box.root, 'blocker', 'q')}`;
    const server = await serve({ a: `${at(remote.port)}\nfrom ${SENDER}`, b }, 'route *@down.test b');
    const { final } = await sendRaw(server.port, SENDER, ['ok@example.net', 'x@down.test'], MAIL);
    expect(final).toEqual([expect.stringMatching(/^451 /)]);
    expect((await remote.waitForMessages(1)).map((m) => m.recipients)).toEqual([['ok@example.net']]);
  });

  it('SMTP: when no part is delivered, one reply: the permanent failure wins over a temporary one', async () => {
    const refusing = await startFakeServer({ reply: (line) => (line.startsWith('RCPT') ? '550 5.1.1 no such user' : normalReply(line, ['PIPELINING'])) });
    stop.push(refusing);
    const server = await serve({ a: `${at(refusing.port)}\nfrom ${SENDER}`, b: at(await closedPort()) }, 'route *@down.test b');
    const { final } = await sendRaw(server.port, SENDER, ['x@down.test', 'nobody@example.net'], MAIL);
    expect(final).toEqual(['550 5.1.1 no such user']);
    expect(await box.list()).toEqual([]);
  });
});
