/** Runs the built `bin/outbox` as a separate process, as users and MUAs do. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const OUTBOX = fileURLToPath(new URL('../../bin/outbox', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/bundle/outbox.cjs', import.meta.url));

/**
 * An empty home and no system file: the CLI reads no configuration of the
 * machine it runs on unless a test gives it one.
 */
const EMPTY_HOME = process.env['OUTBOX_TEST_HOME'] ?? mkdtempSync(join(tmpdir(), 'outbox-home-'));
const NO_SYSTEM_CONFIG = join(EMPTY_HOME, 'no-system-msmtprc');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Standard input: a string/Buffer, or an iterable (sync or async) of chunks written in turn. */
  readonly input?: string | Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  /** Instead of `input`: this open file descriptor as the CLI's fd 0, shared with the test (its file offset too). */
  readonly stdinFd?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** The test fails if the CLI takes longer than this. */
  readonly timeoutMs?: number;
  /** Another copy of bin/outbox (start-up tests). */
  readonly bin?: string;
}

export function runOutbox(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  if (!existsSync(BUILT)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? OUTBOX, ...args], {
      env: { PATH: process.env['PATH'], HOME: EMPTY_HOME, OUTBOX_SYSTEM_CONFIG: NO_SYSTEM_CONFIG, ...options.env },
      stdio: [options.stdinFd ?? 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`outbox ${args.join(' ')} did not finish within ${options.timeoutMs ?? 15000} ms`));
    }, options.timeoutMs ?? 15000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    if (child.stdin === null) return;
    child.stdin.on('error', () => {}); // the CLI may exit before reading its input
    writeInput(child.stdin, options.input);
  });
}

async function writeInput(stdin: NodeJS.WritableStream, input: RunOptions['input']): Promise<void> {
  if (input === undefined) return void stdin.end();
  if (typeof input === 'string' || Buffer.isBuffer(input)) return void stdin.end(input);
  for await (const chunk of input) {
    if (!stdin.write(chunk)) await new Promise((r) => stdin.once('drain', r));
  }
  stdin.end();
}

/** Ends every child of a test still running (SIGKILL, by its PID), waits for each to exit, and forgets them. */
export async function killChildren(children: Set<ChildProcess>): Promise<void> {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }
  children.clear();
}
