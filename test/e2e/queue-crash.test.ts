/**
 * Crash safety of the queue, proved by killing it (issue 13's "Proof"):
 * `outbox -q` is killed with SIGKILL at random points, hundreds of times,
 * while `smtp-server` from npm (not our own server) counts what it accepts;
 * and `outbox --queue=always` is killed while it stores a large mail.
 *
 * The PRNG is seeded; the seed is printed, and OUTBOX_CRASH_SEED=N replays a
 * run's choices (the timing of a kill still depends on the machine).
 *
 * THE COUNTING ARGUMENT (flush)
 *
 * Between two trials no outbox process runs, so the queue folder is at rest.
 * For every mail m and recipient r let
 *
 *   S(m,r)  the deliveries of m to r the server has accepted (counted when it
 *           has read the final dot and decides to answer 250, before it
 *           answers: a real MTA commits the mail there, whether or not the
 *           client lives to read the reply);
 *   R(m,r)  1 when the queue says r needs nothing more (m has left queue/ and
 *           active/, or its record marks r delivered), else 0;
 *   W(m,r)  = S(m,r) - R(m,r), the deliveries the queue does not know of.
 *
 * No loss means W >= 0 at every rest point: the queue never forgets a
 * recipient the server has not got (R = 1 implies S >= 1). At the end the
 * queue is empty, R = 1 everywhere, and W(m,r) = S(m,r) - 1 is exactly the
 * number of duplicate deliveries of m to r.
 *
 * W only grows, and only by a transaction whose reply the flush did not
 * record: a recorded transaction raises S and R together; R never falls.
 * The flush commits one transaction at a time and writes its outcome
 * durably before the next one's data goes (flush.ts: the next envelope may
 * follow the final dot, pipelined, but a server cannot accept a mail before
 * its data), so a process, when killed, has at most one
 * accepted-but-unrecorded transaction, of one mail. Hence, measured
 * from rest to rest across one trial:
 *
 *   - a killed trial raises W for the recipients of at most one mail, each
 *     by at most 1 (one crash, at most one duplicate of at most one mail);
 *   - a trial that ran to its end leaves W unchanged;
 *
 * and so the duplicates at the end number at most the kills. The test checks
 * each of these per trial, and the end state. Counting "from rest to rest"
 * is sound only when the server has finished with the dead process's
 * connection before the state is read: the test waits until the server has
 * seen every connection close (its data, the final dot included, is read
 * before the close).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX } from '../helpers/run-cli.js';

const SEED = process.env['OUTBOX_CRASH_SEED'] !== undefined ? Number(process.env['OUTBOX_CRASH_SEED']) : Math.floor(Math.random() * 2 ** 31);

/** mulberry32: small, seedable, good enough to choose delays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let root: string;
let home: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'outbox-crash-'));
  home = join(root, 'home');
  mkdirSync(home);
  console.log(`queue-crash: seed ${SEED} (replay with OUTBOX_CRASH_SEED=${SEED})`);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  // The spool of a large mail goes to TMPDIR: a killed enqueue leaves it there, inside this test's folder.
  return { PATH: process.env['PATH'], HOME: home, OUTBOX_SYSTEM_CONFIG: join(home, 'no-system-msmtprc'), OUTBOX_BACKGROUND_FLUSH: 'off', TMPDIR: join(root, 'spool') };
}

function start(args: readonly string[]): ChildProcess & { exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; stderr_: () => string } {
  mkdirSync(join(root, 'spool'), { recursive: true });
  const child = spawn(process.execPath, [OUTBOX, ...args], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdin!.on('error', () => {}); // killed while we write
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return Object.assign(child, { exited, stderr_: () => stderr });
}

/** Runs outbox to its end (bounded), feeding `input`. */
async function run(args: readonly string[], input?: Buffer | string, timeoutMs = 20_000): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = start(args);
  let stdout = '';
  child.stdout!.removeAllListeners('data');
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stdin!.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await child.exited;
  clearTimeout(timer);
  if (signal) throw new Error(`outbox ${args.join(' ')} did not finish within ${timeoutMs} ms`);
  return { code, stderr: child.stderr_(), stdout };
}

/** A server that counts what it accepts, per mail (Message-ID) and per recipient. */
class CountingServer extends EventEmitter {
  readonly perMail = new Map<string, number>();
  readonly perRecipient = new Map<string, number>();
  /** Message-ID → the exact bytes every delivery of it must have. */
  readonly expected = new Map<string, Buffer>();
  readonly problems: string[] = [];
  /** How long to wait after the final dot before answering 250. */
  replyDelayMs = 0;
  open = 0;
  port = 0;
  private readonly server: SMTPServer;

  constructor() {
    super();
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session: SMTPServerSession, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const data = Buffer.concat(chunks);
          const id = /^Message-ID: (<[^>]+>)\r$/im.exec(data.subarray(0, 2000).toString('latin1'))?.[1] ?? '?';
          const expected = this.expected.get(id);
          if (!expected || !expected.equals(data)) this.problems.push(`unexpected or damaged mail ${id} (${data.length} bytes)`);
          // Committed here, as a real MTA commits before it answers.
          this.perMail.set(id, (this.perMail.get(id) ?? 0) + 1);
          for (const { address } of session.envelope.rcptTo) {
            const key = `${id} ${address}`;
            this.perRecipient.set(key, (this.perRecipient.get(key) ?? 0) + 1);
          }
          this.emit('dot');
          const answer = (): void => {
            try {
              callback();
            } catch {
              // the client is gone
            }
          };
          if (this.replyDelayMs > 0) setTimeout(answer, this.replyDelayMs);
          else answer();
        });
      },
    });
  }

  async listen(): Promise<void> {
    // Connection errors (a killed client resets its connection) are reported as the server's 'error' events.
    this.server.on('error', () => {});
    // Connections counted at the socket: a client killed before the greeting is seen closing too.
    this.server.server.on('connection', (socket: Socket) => {
      this.open++;
      socket.once('close', () => this.open--);
      socket.on('error', () => {}); // a client killed mid-session resets the connection
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as { port: number }).port;
  }

  reset(): void {
    this.perMail.clear();
    this.perRecipient.clear();
  }

  /** Waits until the server has seen every connection close (bounded). */
  async quiet(): Promise<void> {
    for (let i = 0; i < 1000 && this.open > 0; i++) await sleep(2);
    expect(this.open, 'a connection the server never saw close').toBe(0);
    // The parser has had the socket's last bytes before its close; let what they set off run.
    await new Promise((resolve) => setImmediate(resolve));
    await sleep(2);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The queue at rest, read from disk: each mail's recipients' recorded states, and what else lies in the folders. */
interface RestState {
  readonly held: Map<string, Map<string, string>>;
  readonly tmp: string[];
  readonly active: string[];
  readonly failed: string[];
  readonly corrupt: string[];
}

function readRest(dir: string): RestState {
  const held = new Map<string, Map<string, string>>();
  const names = (folder: string): string[] => (existsSync(join(dir, folder)) ? readdirSync(join(dir, folder)) : []);
  const active = names('active');
  for (const [folder, name] of [...names('queue').map((n) => ['queue', n] as const), ...active.map((n) => ['active', n] as const)]) {
    const id = name.split('@')[0]!;
    const record = JSON.parse(readFileSync(join(dir, folder, name, 'envelope.json'), 'utf8')) as { id: string; recipients: { address: string; state: string }[] };
    expect(record.id).toBe(id);
    expect(held.has(id), `${id} held twice`).toBe(false);
    held.set(id, new Map(record.recipients.map((r) => [r.address, r.state])));
  }
  return { held, tmp: names('tmp'), active, failed: names('failed'), corrupt: names('corrupt') };
}

interface Mail {
  readonly queueId: string;
  readonly messageId: string;
  readonly recipients: readonly string[];
}

function mailText(messageId: string, subject: string, bodyLines: number): string {
  let text = `From: sender@example.com\nTo: team@example.net\nDate: Sat, 05 Dec 2026 05:00:00 +0000\nMessage-ID: ${messageId}\nSubject: ${subject}\n\n`;
  for (let i = 0; i < bodyLines; i++) text += `line ${i} of ${subject}: the quick brown fox jumps over the lazy dog\n`;
  return text;
}
const crlf = (text: string): Buffer => Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');

/** Mails per lane; a third of them have two recipients. */
const N = 15;
/** Two lanes flush side by side (each its own server, queue and mails): the machine has two cores, and a trial waits as much as it computes. */
const LANES = 2;
/** Kill trials per lane: each starts a flush and may kill it at a random point. */
const TRIALS_PER_LANE = 40;

describe('the queue survives kill -9', () => {
  it('of a flush at random points: no mail lost, at most one duplicate of one mail per kill', async () => {
    // Bounded by a count, not a clock: a loaded machine runs the same trials, only slower (the test's own
    // time limit is the guard). About 12 s on an idle two-core machine; the seed and counts are printed.
    const results = await Promise.all(Array.from({ length: LANES }, (_, lane) => flushLane(lane, prng(SEED + lane))));
    const total = results.reduce((sum, r) => ({ trials: sum.trials + r.trials, kills: sum.kills + r.kills, windowHits: sum.windowHits + r.windowHits, rounds: sum.rounds + r.rounds }), { trials: 0, kills: 0, windowHits: 0, rounds: 0 });
    console.log(`queue-crash: flush: ${JSON.stringify(total)}; per lane ${JSON.stringify(results)}`);
    expect(total.trials).toBe(LANES * TRIALS_PER_LANE);
    // The windows were hit: some kills fell between the server's acceptance and the record.
    expect(total.windowHits).toBeGreaterThanOrEqual(1);
  }, 400_000);
});

interface LaneResult { trials: number; kills: number; windowHits: number; rounds: number; kinds: Record<string, number> }

async function flushLane(lane: number, random: () => number): Promise<LaneResult> {
  const server = new CountingServer();
  await server.listen();
  const mails: Mail[] = [];
  try {
    const template = join(root, `template-${lane}`);
    // Enqueued once through the CLI; each round flushes a fresh copy (the entries are whole folders).
    for (let batch = 0; batch < N; batch += 5) {
      const made = await Promise.all(
        Array.from({ length: Math.min(5, N - batch) }, async (_, j) => {
          const i = batch + j;
          const messageId = `<crash-${lane}-${i}@example.com>`;
          const recipients = i % 3 === 0 ? [`r${i}a@example.net`, `r${i}b@example.org`] : [`r${i}@example.net`];
          const text = mailText(messageId, `mail ${i}`, 20 + i * 7);
          server.expected.set(messageId, crlf(text));
          const result = await run(['--queue=always', `--queue-dir=${template}`, '--host=127.0.0.1', `--port=${server.port}`, '-f', 'sender@example.com', ...recipients], text);
          expect(result).toMatchObject({ code: 0, stderr: '' });
          return { messageId, recipients };
        }),
      );
      mails.push(...made.map((m) => ({ ...m, queueId: '' })));
    }
    const ids = readdirSync(join(template, 'queue')).sort();
    expect(ids).toHaveLength(N);
    for (const id of ids) {
      const message = readFileSync(join(template, 'queue', id, 'message'));
      const messageId = /^Message-ID: (<[^>]+>)\r$/im.exec(message.toString('latin1'))![1]!;
      const mail = mails.find((m) => m.messageId === messageId)!;
      expect(message.equals(server.expected.get(messageId)!)).toBe(true);
      Object.assign(mail, { queueId: id });
    }

    let trials = 0;
    let kills = 0;
    let windowHits = 0;
    let rounds = 0;
    const kinds = { startup: 0, dot: 0, slowDot: 0, finished: 0 };
    while (trials < TRIALS_PER_LANE) {
      rounds++;
      const dir = join(root, `lane-${lane}-round-${rounds}`);
      cpSync(template, dir, { recursive: true });
      server.reset();
      let roundKills = 0;
      // W at the last rest point, per "queueId recipient".
      let before = wasted(readRest(dir));
      for (let inRound = 0; inRound < 120 && trials < TRIALS_PER_LANE; inRound++) {
        const rest = readRest(dir);
        if (rest.held.size === 0) break;
        trials++;
        const context = `seed ${SEED}, lane ${lane}, round ${rounds}, trial ${trials}`;
        const child = start(['-q', `--queue-dir=${dir}`]);
        child.stdin!.end();
        // Where to kill: a while after the start (startup, recovery, claims, connecting, anything), or just after
        // the server took the k-th final dot of this run, answering at once (the kill lands in the record's
        // update, the removal, the next claim) or late (the kill lands before the client knows: a duplicate).
        const choice = random();
        let killTimer: NodeJS.Timeout | undefined;
        let onDot: (() => void) | undefined;
        if (choice < 0.3) {
          kinds.startup++;
          server.replyDelayMs = random() < 0.5 ? 0 : 20;
          killTimer = setTimeout(() => child.kill('SIGKILL'), Math.floor(random() * 250));
        } else {
          const slow = choice >= 0.65;
          if (slow) kinds.slowDot++;
          else kinds.dot++;
          server.replyDelayMs = slow ? 25 : 0;
          const k = 1 + Math.floor(random() * 2);
          const after = Math.floor(random() * (slow ? 20 : 8));
          let seen = 0;
          onDot = () => {
            if (++seen === k) killTimer = setTimeout(() => child.kill('SIGKILL'), after);
          };
          server.on('dot', onDot);
        }
        const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const { code, signal } = await child.exited;
        clearTimeout(guard);
        clearTimeout(killTimer);
        if (onDot) server.off('dot', onDot);
        await server.quiet();
        const after = readRest(dir);
        const now = wasted(after);
        const grown = checkStep(before, now, context);
        if (signal === 'SIGKILL') {
          kills++;
          roundKills++;
          if (grown > 0) windowHits++;
        } else {
          kinds.finished++;
          expect({ code, grown, stderr: child.stderr_() }, `${context}: a flush that ran to its end`).toEqual({ code: 0, grown: 0, stderr: '' });
        }
        before = now;
      }
      // An unkilled flush ends every round.
      server.replyDelayMs = 0;
      const last = await run(['-q', `--queue-dir=${dir}`]);
      await server.quiet();
      expect(last, `seed ${SEED}, lane ${lane}, round ${rounds}: the final flush`).toMatchObject({ code: 0, stderr: '' });
      const end = readRest(dir);
      expect({ held: [...end.held.keys()], tmp: end.tmp, active: end.active, failed: end.failed, corrupt: end.corrupt }, `seed ${SEED}, lane ${lane}, round ${rounds}: the queue after the final flush`).toEqual({ held: [], tmp: [], active: [], failed: [], corrupt: [] });
      const final = wasted(end);
      expect(checkStep(before, final, `seed ${SEED}, lane ${lane}, round ${rounds}: final flush`)).toBe(0);
      // Nothing lost: every recipient of every mail got it.
      for (const mail of mails) {
        for (const r of mail.recipients) expect(server.perRecipient.get(`${mail.messageId} ${r}`) ?? 0, `seed ${SEED}: ${mail.messageId} to ${r}`).toBeGreaterThanOrEqual(1);
      }
      // Duplicates in all: at most one transaction per kill.
      const duplicates = mails.reduce((sum, mail) => sum + (server.perMail.get(mail.messageId) ?? 0) - 1, 0);
      expect(duplicates, `seed ${SEED}, lane ${lane}, round ${rounds}: duplicates`).toBeLessThanOrEqual(roundKills);
      expect(server.problems, `seed ${SEED}`).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    }
    return { trials, kills, windowHits, rounds, kinds };
  } finally {
    await server.close();
  }

    /** W(m,r) for each "messageId recipient", from the server's counts and the queue at rest. */
    function wasted(rest: RestState): Map<string, number> {
      const w = new Map<string, number>();
      for (const mail of mails) {
        const states = rest.held.get(mail.queueId);
        for (const r of mail.recipients) {
          const state = states?.get(r);
          expect(state === undefined ? states === undefined : state === 'pending' || state === 'delivered', `${mail.queueId} ${r}: ${state}`).toBe(true);
          const recorded = states === undefined || state === 'delivered' ? 1 : 0;
          w.set(`${mail.messageId} ${r}`, (server.perRecipient.get(`${mail.messageId} ${r}`) ?? 0) - recorded);
        }
      }
      return w;
    }

    /** Checks one step from rest to rest; returns by how much W grew. */
    function checkStep(from: Map<string, number>, to: Map<string, number>, context: string): number {
      const grownMails = new Set<string>();
      let grown = 0;
      for (const [key, value] of to) {
        expect(value, `${context}: ${key} is recorded delivered but the server never got it`).toBeGreaterThanOrEqual(0);
        const delta = value - (from.get(key) ?? 0);
        expect(delta, `${context}: ${key}`).toBeGreaterThanOrEqual(0);
        expect(delta, `${context}: ${key} delivered twice unrecorded by one crash`).toBeLessThanOrEqual(1);
        if (delta > 0) {
          grown += delta;
          grownMails.add(key.split(' ')[0]!);
        }
      }
      expect([...grownMails].length, `${context}: one crash duplicated several mails: ${[...grownMails].join(', ')}`).toBeLessThanOrEqual(1);
      return grownMails.size;
    }
}

describe('the queue survives kill -9 of an enqueue', () => {
  it('leaves no entry or a whole one, and the next flush clears what the dead left in tmp/', async () => {
    const random = prng(SEED ^ 0x5bd1e995);
    const server = new CountingServer();
    await server.listen();
    try {
      const dir = join(root, 'enqueue');
      // About 2 MB, so that storing it takes a while; each trial's mail has its own Message-ID.
      const body = 'the quick brown fox jumps over the lazy dog, again and again and again\n'.repeat(28_000);
      const mailOf = (n: number): { text: Buffer; messageId: string } => {
        const messageId = `<enqueue-${n}@example.com>`;
        const text = Buffer.from(`From: sender@example.com\nTo: big@example.net\nDate: Sat, 05 Dec 2026 05:00:00 +0000\nMessage-ID: ${messageId}\nSubject: big ${n}\n\n${body}`, 'latin1');
        server.expected.set(messageId, crlf(text.toString('latin1')));
        return { text, messageId };
      };
      const args = ['--queue=always', `--queue-dir=${dir}`, '--host=127.0.0.1', `--port=${server.port}`, '-f', 'sender@example.com', 'big@example.net'];

      // Trial 0 runs to its end: how long a whole enqueue takes here sets the range of the kills.
      const began = Date.now();
      const first = mailOf(0);
      expect(await run(args, first.text)).toMatchObject({ code: 0, stderr: '' });
      const whole = Math.max(50, Date.now() - began);
      const stored = new Set<string>([first.messageId]);
      checkStored();

      // A count, not a clock: a loaded machine runs the same trials, only slower.
      const ENQUEUE_TRIALS = 30;
      let trials = 0;
      let killedWhole = 0;
      let killedNone = 0;
      let leftovers = 0;
      for (let n = 1; n <= ENQUEUE_TRIALS; n++) {
        trials++;
        const context = `seed ${SEED}, enqueue trial ${n}`;
        const { text, messageId } = mailOf(n);
        const child = start(args);
        const killAfter = Math.floor(random() * whole * 1.3);
        const timer = setTimeout(() => child.kill('SIGKILL'), killAfter);
        const writing = (async () => {
          for (let at = 0; at < text.length && child.exitCode === null && child.signalCode === null; at += 64 * 1024) {
            if (!child.stdin!.write(text.subarray(at, at + 64 * 1024))) await Promise.race([new Promise((resolve) => child.stdin!.once('drain', resolve)), child.exited]);
          }
          child.stdin!.end();
        })();
        const { code, signal } = await child.exited;
        clearTimeout(timer);
        await writing;
        const found = checkStored();
        const isNew = found.has(messageId);
        if (signal === null) {
          expect({ code, stderr: child.stderr_(), isNew }, `${context}: an enqueue that ran to its end`).toEqual({ code: 0, stderr: '', isNew: true });
        } else if (isNew) killedWhole++;
        else killedNone++;
        // Nothing else changed: no entry appeared but this trial's, none went away.
        expect([...found].sort(), context).toEqual([...stored, ...(isNew ? [messageId] : [])].sort());
        if (isNew) stored.add(messageId);
        leftovers = readdirSync(join(dir, 'tmp')).length;
        if (n % 4 === 0) await checkListing(context);
      }
      await checkListing(`seed ${SEED}, after the enqueue trials`);
      console.log(`queue-crash: enqueue: ${trials} trials, ${killedWhole} killed after storing, ${killedNone} killed before, ${leftovers} left in tmp/ at the end, ${readdirSync(join(root, 'spool')).length} spool folders left in TMPDIR; a whole enqueue took ${whole} ms`);
      expect(trials).toBe(ENQUEUE_TRIALS);

      // The next flush recovers: the dead's folders in tmp/ go, every whole entry is delivered once, intact.
      const flushed = await run(['-q', `--queue-dir=${dir}`], undefined, 30_000);
      await server.quiet();
      expect(flushed, `seed ${SEED}`).toMatchObject({ code: 0, stderr: '' });
      const rest = readRest(dir);
      expect({ held: [...rest.held.keys()], tmp: rest.tmp, active: rest.active, failed: rest.failed, corrupt: rest.corrupt }).toEqual({ held: [], tmp: [], active: [], failed: [], corrupt: [] });
      expect(server.problems).toEqual([]);
      expect(Object.fromEntries(server.perMail)).toEqual(Object.fromEntries([...stored].map((id) => [id, 1])));

      /** Every entry in queue/ is whole: its record parses, its size is its message's, its message the bytes sent. Returns their Message-IDs. */
      function checkStored(): Set<string> {
        const found = new Set<string>();
        for (const folder of ['active', 'failed', 'corrupt']) expect(readdirSync(join(dir, folder)), folder).toEqual([]);
        for (const id of readdirSync(join(dir, 'queue'))) {
          const record = JSON.parse(readFileSync(join(dir, 'queue', id, 'envelope.json'), 'utf8')) as { id: string; size: number };
          const message = readFileSync(join(dir, 'queue', id, 'message'));
          expect(record.id).toBe(id);
          expect(record.size, id).toBe(message.length);
          const messageId = /^Message-ID: (<[^>]+>)\r$/im.exec(message.subarray(0, 2000).toString('latin1'))?.[1] ?? '?';
          expect(message.equals(server.expected.get(messageId) ?? Buffer.alloc(0)), `${id}: ${messageId} stored whole`).toBe(true);
          found.add(messageId);
        }
        return found;
      }

      /** The CLI's listing agrees: no corrupt entry reported, each listed size that of the stored message. */
      async function checkListing(context: string): Promise<void> {
        const listed = await run(['--queue-list', '--json', `--queue-dir=${dir}`]);
        expect({ code: listed.code, stderr: listed.stderr }, context).toEqual({ code: 0, stderr: '' });
        const mails = JSON.parse(listed.stdout) as { id: string; size: number; status: string }[];
        expect(mails.map((m) => m.id).sort(), context).toEqual(readdirSync(join(dir, 'queue')).sort());
        for (const mail of mails) expect(mail.size, `${context}: ${mail.id}`).toBe(readFileSync(join(dir, 'queue', mail.id, 'message')).length);
      }
    } finally {
      await server.close();
    }
  }, 300_000);
});

describe('what a dead enqueue leaves in tmp/', () => {
  it('is cleared by the next flush even when the queue is otherwise empty', async () => {
    const dir = join(root, 'empty-but-tmp');
    const text = `From: sender@example.com\nDate: Sat, 05 Dec 2026 05:00:00 +0000\nMessage-ID: <tmp@example.com>\nSubject: tmp\n\n${'x'.repeat(70).concat('\n').repeat(40_000)}`;
    // Killed while its folder is being built in tmp/: watched for, then killed (a few tries, in case one is too quick).
    let left: string[] = [];
    for (let attempt = 0; attempt < 5 && left.length === 0; attempt++) {
      const child = start(['--queue=always', `--queue-dir=${dir}`, '--host=127.0.0.1', '--port=25', '-f', 'sender@example.com', 'a@example.net']);
      child.stdin!.end(text);
      for (let i = 0; i < 5000 && child.exitCode === null; i++) {
        if (existsSync(join(dir, 'tmp')) && readdirSync(join(dir, 'tmp')).length > 0) {
          child.kill('SIGKILL');
          break;
        }
        await sleep(1);
      }
      if (child.exitCode === null) child.kill('SIGKILL');
      await child.exited;
      left = readdirSync(join(dir, 'tmp'));
      for (const id of readdirSync(join(dir, 'queue'))) rmSync(join(dir, 'queue', id), { recursive: true }); // a whole entry: not this case
    }
    expect(left).toHaveLength(1);
    expect(await run(['-q', `--queue-dir=${dir}`])).toMatchObject({ code: 0, stderr: '' });
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  }, 30_000);
});
