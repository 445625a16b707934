/**
 * `outbox serve` as a separate process for the interop cases: on 127.0.0.1,
 * port 0 (the chosen port is read from the log's `listening on 127.0.0.1
 * port N` line), with its own log file, stopped by its child handle (SIGTERM,
 * then SIGKILL after a bounded wait). Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { interopSetup, OUTBOX, sleep } from './helpers.js';

export interface Served {
  readonly child: ChildProcess;
  readonly port: number;
  /** A folder of its own (the log is `log` in it). */
  readonly dir: string;
  log(): string;
  /** The log once a line matches `pattern` (the server logs a mail after its reply, so after the mail may have arrived); at most `timeoutMs`. */
  logMatching(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stderr(): string;
  /** SIGTERM (the server finishes its sessions and exits 0), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

const running = new Set<Served>();

export async function startServe(args: readonly string[], { env = {} }: { env?: NodeJS.ProcessEnv } = {}): Promise<Served> {
  const setup = interopSetup();
  const dir = mkdtempSync(join(setup.scratch, 'serve-'));
  const logFile = join(dir, 'log');
  const child = spawn(process.execPath, [OUTBOX, 'serve', '--interface=127.0.0.1', '--port=0', `--log=${logFile}`, ...args], {
    cwd: dir,
    env: {
      PATH: process.env['PATH'],
      HOME: setup.home,
      LANG: 'C.UTF-8',
      OUTBOX_SYSTEM_CONFIG: join(dir, 'no-system-config'),
      OUTBOX_BACKGROUND_FLUSH: 'off',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /listening on 127\.0\.0\.1 port (\d+)/.exec(log());
    if (match) {
      const served: Served = {
        child,
        port: Number(match[1]),
        dir,
        log,
        logMatching: async (pattern, timeoutMs = 10_000) => {
          const until = Date.now() + timeoutMs;
          while (!pattern.test(log()) && Date.now() < until) await sleep(50);
          return log();
        },
        stderr: () => stderr,
        stop: async () => {
          running.delete(served);
          await end();
        },
      };
      running.add(served);
      return served;
    }
    if (child.exitCode !== null || Date.now() >= deadline) {
      await end();
      throw new Error(`outbox serve ${args.join(' ')} did not listen within 20 s (exit ${child.exitCode}):\n${stderr}\n${log()}`);
    }
    await sleep(50);
  }
}

/** Stops every server startServe started that is still running (for afterEach/afterAll). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
