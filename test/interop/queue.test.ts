/**
 * The outbox queue against the real Postfix (issue 13's proof): mails queued
 * with `queue always` and flushed with `outbox -q` over one connection, a
 * greylisted recipient (450, then accepted), a refused one bounced to its
 * sender and received by Postfix, and mutt handing its mail to outbox with
 * `queue always` while the server is down.
 *
 * The background flush that `queue always` starts is switched off
 * (OUTBOX_BACKGROUND_FLUSH=off) where a case flushes by hand; the mutt case
 * keeps it, as a user would, and waits (bounded) for its attempt.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findMail,
  headerValue,
  interopSetup,
  logMark,
  logSince,
  OUTBOX,
  run,
  runOutbox,
  serverLogTail,
  serverOptions,
  setGreylist,
  settledMail,
  sleep,
  testMail,
  uniqueId,
  waitForMail,
  type RunResult,
} from './helpers.js';

const setup = interopSetup();
const { alice, bob, carol } = setup.users;
const NO_BACKGROUND = { OUTBOX_BACKGROUND_FLUSH: 'off' };

/** A fresh queue folder for one case. */
function queueDir(name: string): string {
  const dir = join(setup.scratch, uniqueId(name));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `outbox --queue=always` to Postfix's plain listener: stored, not sent. */
function queueMail(dir: string, from: string, recipients: readonly string[], mail: string): Promise<RunResult> {
  return runOutbox([...serverOptions('postfix'), '--queue=always', `--queue-dir=${dir}`, '-f', from, '--', ...recipients], mail, { env: NO_BACKGROUND });
}

interface ListedMail {
  id: string;
  status: string;
  from: string;
  attempts: number;
  last_error: string | null;
  recipients: { address: string; state: string; reply: string | null }[];
}

async function listing(args: readonly string[]): Promise<ListedMail[]> {
  const result = await runOutbox([...args, '-bp', '--json'], '');
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ListedMail[];
}

/**
 * The sessions smtpd (the plain listener) logged after `mark`: its `connect
 * from` and `disconnect from` lines, once every session begun is also ended
 * in the log (postlogd writes asynchronously; bounded wait). A disconnect
 * logged before the first connect ends an earlier case's session: smtpd may
 * log it after that client has exited.
 */
async function smtpdSessions(mark: number): Promise<{ connects: string[]; disconnects: string[] }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const all = logSince(mark).split('\n');
    const first = all.findIndex((l) => /postfix\/smtpd\[\d+\]: connect from /.test(l));
    const lines = first < 0 ? [] : all.slice(first);
    const connects = lines.filter((l) => /postfix\/smtpd\[\d+\]: connect from /.test(l));
    const disconnects = lines.filter((l) => /postfix\/smtpd\[\d+\]: disconnect from /.test(l));
    if (connects.length > 0 && disconnects.length >= connects.length) return { connects, disconnects };
    if (Date.now() >= deadline) throw new Error(`smtpd logged ${connects.length} connects and ${disconnects.length} disconnects within 20 s\n${serverLogTail('postfix')}`);
    await sleep(100);
  }
}

/** A free loopback port: nobody listens on it (until a case starts its relay there). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, setup.host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP relay on `port` to Postfix's plain listener: "the server is back". Counts connections. */
async function relayToPostfix(port: number): Promise<{ connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((client) => {
    connections++;
    const upstream = netConnect({ host: setup.host, port: setup.postfix.ports.smtp });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, setup.host, resolve);
  });
  return {
    connections: () => connections,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('outbox queue → Postfix', () => {
  afterEach(async () => {
    await setGreylist([]);
  });

  it('mails queued with --queue=always stay queued; `outbox -q` delivers them all over one connection', async () => {
    const dir = queueDir('queue-flush');
    const id = uniqueId('queued');
    const mails = [
      { to: [alice], mail: testMail(`${id}-1`, { to: alice }) },
      { to: [bob], mail: testMail(`${id}-2`, { to: bob }) },
      { to: [alice, carol], mail: testMail(`${id}-3`, { to: `${alice}, ${carol}` }) },
    ];
    for (const { to, mail } of mails) {
      const queued = await queueMail(dir, 'queue-sender@sender.test', to, mail);
      expect(queued.stderr).toBe('');
      expect(queued.status).toBe(0);
    }
    const before = await listing([`--queue-dir=${dir}`]);
    expect(before.map((m) => [m.status, m.attempts, m.recipients.map((r) => r.state)])).toEqual([
      ['queued', 0, ['pending']], ['queued', 0, ['pending']], ['queued', 0, ['pending', 'pending']],
    ]);
    expect(await settledMail('postfix', alice, id)).toHaveLength(0);

    const mark = logMark();
    const flushed = await runOutbox([`--queue-dir=${dir}`, '-q'], '');
    expect(flushed.stderr).toBe('');
    expect(flushed.status).toBe(0);
    expect((await runOutbox([`--queue-dir=${dir}`, '-bp'], '')).stdout).toBe('Mail queue is empty\n');

    for (const [n, user] of [[1, alice], [2, bob], [3, alice], [3, carol]] as const) {
      const [stored] = await waitForMail('postfix', user, `${id}-${n}`);
      expect(headerValue(stored!.raw, 'Return-Path')).toBe('<queue-sender@sender.test>');
      expect(headerValue(stored!.raw, 'Delivered-To')).toBe(user);
    }
    expect(await settledMail('postfix', alice, id)).toHaveLength(2);
    expect(findMail('postfix', bob, id)).toHaveLength(1);
    expect(findMail('postfix', carol, id)).toHaveLength(1);

    // One session carried all three: Postfix logged one connect, and a disconnect counting three transactions.
    const { connects, disconnects } = await smtpdSessions(mark);
    expect(connects).toHaveLength(1);
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toMatch(/ mail=3 rcpt=4 (?:data|bdat)=3 quit=1 /);
  });

  it('a greylisted recipient (450) stays queued and `-q` exits 75; once Postfix accepts it, `-q` delivers it', async () => {
    const dir = queueDir('queue-greylist');
    const id = uniqueId('greylist');
    const greylisted = `carol+${id}@${setup.domain}`;
    await setGreylist([greylisted]);
    const mail = testMail(id, { to: `${alice}, ${greylisted}` });
    expect((await queueMail(dir, 'queue-sender@sender.test', [alice, greylisted], mail)).status).toBe(0);

    const first = await runOutbox([`--queue-dir=${dir}`, '-q'], '');
    expect(first.status, first.stderr).toBe(75);
    const [listed] = await listing([`--queue-dir=${dir}`]);
    expect(listed!.attempts).toBe(1);
    expect(listed!.recipients).toEqual([
      { address: alice, state: 'delivered', reply: expect.stringMatching(/^250 2\.0\.0 /) },
      { address: greylisted, state: 'pending', reply: `450 4.7.1 <${greylisted}>: Recipient address rejected: greylisted (interop)` },
    ]);
    const text = await runOutbox([`--queue-dir=${dir}`, '-bp'], '');
    expect(text.stdout).toContain(`pending    <${greylisted}>  450 4.7.1 <${greylisted}>: Recipient address rejected: greylisted (interop)`);
    await waitForMail('postfix', alice, id);
    expect(await settledMail('postfix', carol, id)).toHaveLength(0);

    await setGreylist([]);
    const second = await runOutbox([`--queue-dir=${dir}`, '-q'], '');
    expect(second.stderr).toBe('');
    expect(second.status).toBe(0);
    const [stored] = await waitForMail('postfix', carol, id);
    expect(headerValue(stored!.raw, 'X-Original-To')).toBe(greylisted);
    // alice had hers after the first attempt and is not sent it again.
    expect(await settledMail('postfix', alice, id)).toHaveLength(1);
    expect(await listing([`--queue-dir=${dir}`])).toEqual([]);
  });

  it('a refused recipient (550) is bounced to the sender: Postfix delivers a multipart/report with the null sender', async () => {
    const dir = queueDir('queue-bounce');
    const id = uniqueId('bounce');
    const unknown = `no-such-user-${id}@${setup.domain}`;
    const mail = testMail(id, { to: `${alice}, ${unknown}` });
    // carol is the sender: a local user, so the bounce has a mailbox to land in.
    expect((await queueMail(dir, carol, [alice, unknown], mail)).status).toBe(0);

    const flushed = await runOutbox([`--queue-dir=${dir}`, '-q'], '');
    expect(flushed.stderr).toBe('');
    expect(flushed.status).toBe(0);
    expect(await listing([`--queue-dir=${dir}`])).toEqual([]);
    await waitForMail('postfix', alice, id);

    const [bounce] = await waitForMail('postfix', carol, id);
    // Report fields unfolded (long ones are folded at 78 columns).
    const raw = bounce!.raw.toString('utf8').replace(/\n[ \t]+/g, ' ');
    expect(headerValue(bounce!.raw, 'Return-Path')).toBe('<>');
    expect(headerValue(bounce!.raw, 'To')).toBe(carol);
    expect(headerValue(bounce!.raw, 'Content-Type')).toMatch(/^multipart\/report; report-type=delivery-status; boundary="[^"]+"$/);
    expect(raw).toContain('Content-Type: message/delivery-status');
    expect(raw).toContain(`Final-Recipient: rfc822; ${unknown}`);
    expect(raw).toMatch(/^Action: failed$/m);
    expect(raw).toMatch(/^Status: 5\.1\.1$/m);
    expect(raw).toMatch(new RegExp(`^Diagnostic-Code: smtp; 550 5\\.1\\.1 <${unknown.replace(/\./g, '\\.')}>: Recipient address rejected: User unknown in virtual mailbox table$`, 'm'));
    // The original header comes back; alice, who had the mail, is not in the report.
    expect(raw).toContain('Content-Type: text/rfc822-headers');
    expect(raw).toContain(`Message-ID: <${id}@interop.test>`);
    expect(raw).not.toContain(`Final-Recipient: rfc822; ${alice}`);
    expect(await settledMail('postfix', carol, id)).toHaveLength(1);
  });

  it('mutt with `queue always` returns at once, silent and 0, while the server is down; `outbox -q` delivers once it is back', async () => {
    const id = uniqueId('mutt-queue');
    const dir = queueDir('mutt-queue');
    const port = await closedPort();
    const config = join(dir, 'outboxrc');
    writeFileSync(config, [
      'account default',
      `host ${setup.host}`,
      `port ${port}`,
      'timeout 20',
      'from queue-mutt@sender.test',
      'queue always',
      `queue_dir ${join(dir, 'queue')}`,
      '',
    ].join('\n'));
    const muttrc = join(dir, 'muttrc');
    writeFileSync(muttrc, [
      `set sendmail="${OUTBOX} -C ${config}"`,
      'set from="Mutt User <queue-mutt@sender.test>"',
      'set use_envelope_from=yes',
      'set copy=no',
      `set folder="${dir}"`,
      '',
    ].join('\n'));

    // The background flush stays on, as for a user: mutt must not wait for it.
    const sent = await run('mutt', ['-n', '-F', muttrc, '-s', `mutt ${id}`, '--', alice], { input: `Queued by mutt, ${id}.\n`, cwd: dir });
    expect(sent.stderr).toBe('');
    expect(sent.status).toBe(0);

    // The detached flush tries the closed port once and puts the mail back (bounded wait).
    const deadline = Date.now() + 20_000;
    let listed: ListedMail[];
    for (;;) {
      listed = await listing(['-C', config]);
      if (listed.length === 1 && listed[0]!.status === 'queued' && listed[0]!.attempts >= 1) break;
      if (Date.now() >= deadline) throw new Error(`the background flush made no attempt within 20 s: ${JSON.stringify(listed)}`);
      await sleep(200);
    }
    expect(listed[0]!.from).toBe('queue-mutt@sender.test');
    expect(listed[0]!.last_error).toMatch(/connection refused/);
    expect(findMail('postfix', alice, id)).toHaveLength(0);

    const relay = await relayToPostfix(port);
    try {
      const flushed = await runOutbox(['-C', config, '-q'], '');
      expect(flushed.stderr).toBe('');
      expect(flushed.status).toBe(0);
      const [stored] = await waitForMail('postfix', alice, id);
      expect(headerValue(stored!.raw, 'Return-Path')).toBe('<queue-mutt@sender.test>');
      expect(headerValue(stored!.raw, 'From')).toBe('Mutt User <queue-mutt@sender.test>');
      expect(stored!.raw.toString('utf8')).toContain(`\n\nQueued by mutt, ${id}.\n`);
      expect(relay.connections()).toBe(1);
    } finally {
      await relay.close();
    }
    expect(await listing(['-C', config])).toEqual([]);
  });
});
