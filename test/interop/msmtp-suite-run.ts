/**
 * Running msmtp's own test scripts (tests/*.sh) as `make check` does, for
 * msmtp-suite.test.ts (Debian's msmtpd as the server) and serve.test.ts
 * (outbox serve in msmtpd's place). Each script runs in a session of its own,
 * so that what it leaves behind (a server, when the script is killed for
 * taking too long) is ended through that session's process group, by its id.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUTBOX, REPO } from './helpers.js';

export const SCRIPT_TIME_LIMIT_MS = 60_000;

/** Lays out `suite` with msmtp-suite.sh (idempotent); `env` chooses the server (INTEROP_MSMTPD). */
export function prepareSuite(suite: string, env: NodeJS.ProcessEnv = {}): { ready: string } | { error: string } {
  const fetched = spawnSync('bash', [join(REPO, 'test/interop/msmtp-suite.sh'), suite, OUTBOX], {
    encoding: 'utf8',
    timeout: 900_000,
    env: { ...process.env, INTEROP_MSMTPD: '', ...env },
  });
  if (fetched.status === 0 && existsSync(join(suite, 'ready'))) return { ready: readFileSync(join(suite, 'ready'), 'utf8').trim() };
  return { error: `msmtp-suite.sh exited ${fetched.status ?? fetched.signal}:\n${fetched.stderr}${fetched.error ? `\n${fetched.error.message}` : ''}` };
}

/** The test scripts of a prepared suite, sorted. */
export function suiteScripts(suite: string): string[] {
  return readdirSync(join(suite, 'source', 'tests')).filter((name) => /^test-.*\.sh$/.test(name)).sort();
}

export interface ScriptResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs one of msmtp's test scripts from its folder, with bounded time. */
export function runSuiteScript(suite: string, name: string): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-x', name], {
      cwd: join(suite, 'source', 'tests'),
      env: {
        PATH: `${join(suite, 'bin')}:${process.env['PATH']}`,
        // No configuration of the machine's: an empty HOME and no system file.
        HOME: join(suite, 'home'),
        OUTBOX_SYSTEM_CONFIG: join(suite, 'no-system-msmtprc'),
        LANG: 'C.UTF-8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // a session and process group of its own
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const endGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // ESRCH: nothing of it is left
      }
    };
    const timer = setTimeout(() => {
      endGroup('SIGKILL');
      reject(new Error(`${name} did not finish within ${SCRIPT_TIME_LIMIT_MS} ms:\n${output}`));
    }, SCRIPT_TIME_LIMIT_MS);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (status) => {
      clearTimeout(timer);
      endGroup('SIGTERM'); // a server its trap did not stop
      resolve({ status, output });
    });
  });
}

/** The files the server's --command wrote for a script (test-x.sh: out-x-*.txt, the mail and its recipients), for a failure's message. */
export function whatTheServerGot(suite: string, script: string): string {
  const dir = join(suite, 'source', 'tests');
  const prefix = `out-${script.replace(/^test-/, '').replace(/\.sh$/, '')}-`;
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.txt'))
    .map((name) => `\n--- ${name} (first 4000 characters):\n${readFileSync(join(dir, name), 'utf8').slice(0, 4000)}`)
    .join('');
}
