/**
 * What the queue's end-to-end tests share: a sandbox per test (its own HOME,
 * state folder and queue folder, background flushes off unless a test turns
 * them on), the listing read back as JSON, a closed port for "the server is
 * down", a capture server that counts its connections, and bounded waits.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startCaptureServer, type CaptureServer, type CaptureServerOptions } from './capture-server.js';
import { runOutbox, type CliResult, type RunOptions } from './run-cli.js';

export interface Sandbox {
  readonly root: string;
  readonly home: string;
  /** The queue folder the tests name with --queue-dir (or queue_dir). */
  readonly queue: string;
  readonly env: NodeJS.ProcessEnv;
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  /** `--queue-list --json`, parsed. */
  list(args?: readonly string[]): Promise<ListedMail[]>;
  /** Writes a configuration file (0600) and returns its path. */
  config(text: string): string;
  cleanup(): void;
}

export interface ListedMail {
  id: string;
  account: string;
  from: string;
  size: number;
  queued_at: string;
  attempts: number;
  next_attempt: string;
  last_attempt: string | null;
  last_error: string | null;
  recipients: { address: string; state: 'pending' | 'delivered' | 'failed'; reply: string | null }[];
  /** `mda`: a local part (issue 15). */
  via?: 'mda';
}

export function makeSandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'outbox-queue-'));
  const home = join(root, 'home');
  mkdirSync(home);
  const queue = join(root, 'queue');
  const env = { HOME: home, XDG_STATE_HOME: join(root, 'state'), OUTBOX_BACKGROUND_FLUSH: 'off' };
  const run = (args: readonly string[], options: RunOptions = {}): Promise<CliResult> => runOutbox(args, { ...options, env: { ...env, ...options.env } });
  return {
    root,
    home,
    queue,
    env,
    run,
    async list(args = [`--queue-dir=${queue}`]) {
      const result = await run(['--queue-list', '--json', ...args]);
      expect(result, result.stderr).toMatchObject({ status: 0, stderr: '' });
      return JSON.parse(result.stdout) as ListedMail[];
    },
    config(text) {
      const path = join(root, `msmtprc-${readdirSync(root).length}`);
      writeFileSync(path, text, { mode: 0o600 });
      return path;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A mail with its own Date and Message-ID (kept as they are) and no From (added from the envelope). */
export function testMail(n: number, subject = `mail ${n}`): string {
  return `To: b@example.net\nBcc: hidden@example.org\nSubject: ${subject}\nDate: Sat, 21 Nov 2026 12:00:0${n % 10} +0000\nMessage-ID: <q${n}@example.com>\n\nbody ${n}\n.dot line\n`;
}

/** A loopback port nobody listens on (it was free a moment ago, and is given back to us later). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface CountingServer extends CaptureServer {
  /** Connections greeted so far. */
  connections(): number;
  /** Every command line the clients sent, in order. */
  readonly commands: string[];
}

/** The capture server, counting connections (by its greetings) and recording the client's commands. */
export async function startCounting(options: Omit<CaptureServerOptions, 'onTranscript'>): Promise<CountingServer> {
  let greetings = 0;
  const commands: string[] = [];
  const server = await startCaptureServer({
    hostname: 'mx.test',
    ...options,
    onTranscript: (direction, line) => {
      if (direction === 'S' && line.startsWith('220 ')) greetings++;
      if (direction === 'C') commands.push(line);
    },
  });
  return { ...server, connections: () => greetings, commands };
}

/** The command verbs a client sent (MAIL, RCPT, DATA, RSET…), data lines excluded. */
export function verbs(commands: readonly string[]): string[] {
  return commands.filter((c) => !c.startsWith('[')).map((c) => c.split(/[ :]/)[0]!.toUpperCase());
}

/** Polls `check` until it is true, at most `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits (bounded) until no background `--queue-run` for this queue folder is
 * left, so that none outlives its test and writes into a removed folder. The
 * runs are found by their command line in /proc, which names the folder.
 */
export async function waitForBackgroundRuns(queueDir: string): Promise<void> {
  const running = (): boolean =>
    readdirSync('/proc').some((pid) => {
      if (!/^\d+$/.test(pid)) return false;
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.includes('--queue-run') && args.includes(`--queue-dir=${queueDir}`);
      } catch {
        return false; // gone meanwhile
      }
    });
  await waitUntil(() => !running(), 'the background flushes to end');
}

/** Runs the built CLI through a link with another name (`mailq`, `sendmail`), as a system's /usr/bin links do; or in another folder. */
export function runAs(link: string, args: readonly string[], env: NodeJS.ProcessEnv, input = '', cwd?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(link, args, { env: { PATH: process.env['PATH'], OUTBOX_SYSTEM_CONFIG: join(env['HOME']!, 'none'), ...env }, ...(cwd ? { cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}
