/**
 * Running a helper program without blocking the event loop: `passwordeval`
 * (`/bin/sh -c`) and the keyring's `secret-tool`. A passphrase prompt
 * (pinentry) may take minutes; with spawnSync nothing else in the process
 * could run meanwhile, so these are child processes we wait for.
 *
 * Standard input is /dev/null (the mail is on ours). Output is bounded in
 * time and size; on either limit the child is killed with SIGKILL and the
 * outcome says why. No outcome ever carries the program's arguments: a
 * shell command line may hold a secret.
 */
import { spawn } from 'node:child_process';
import type { CommandOutcome } from './shell.js';

export interface ChildOptions {
  /** Killed after this long. */
  readonly timeoutMs: number;
  /** Killed after printing more than this without a line break. */
  readonly maxBytes: number;
  /** `inherit`: a helper's own diagnostics (gpg's) reach the user; `ignore` for quiet lookups. */
  readonly stderr: 'inherit' | 'ignore';
}

export function runChild(file: string, args: readonly string[], options: ChildOptions): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', options.stderr] });
    const finish = (outcome: Omit<CommandOutcome, 'stdout'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(chunks), ...outcome });
    };
    // Resolve at once on a limit rather than on 'close': a grandchild that
    // keeps stdout open would otherwise hold us past the limit.
    const stop = (outcome: Omit<CommandOutcome, 'stdout'>): void => {
      child.kill('SIGKILL');
      child.stdout.destroy();
      finish(outcome);
    };
    const timer = setTimeout(() => stop({ status: null, error: `timed out after ${options.timeoutMs / 1000} s` }), options.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= options.maxBytes) return;
      // A first line is all anyone reads: enough output with a line break in it is a success (`yes`).
      if (Buffer.concat(chunks).includes(0x0a)) stop({ status: 0 });
      else stop({ status: null, error: 'printed too much without a line break' });
    });
    child.on('error', (error: NodeJS.ErrnoException) => finish({ status: null, error: `could not be run (${error.code ?? 'error'})` }));
    child.on('close', (status, signal) => finish({ status, signal }));
  });
}
