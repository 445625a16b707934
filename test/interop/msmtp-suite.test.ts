/**
 * msmtp's own test suite (tests/*.sh of msmtp 1.8.27 and later) with outbox
 * in msmtp's place and Debian's msmtpd as the server. The tests come from
 * Debian's msmtp source package, fetched at test time by msmtp-suite.sh; they
 * are run as they are, one case per script: exit 0 passes, 77 is msmtp's
 * "skipped", anything else fails with the script's trace.
 *
 * The scripts start msmtpd on [::1] at fixed ports (12345, 12346) and stop it
 * by PID in their EXIT trap. Each runs in a session of its own, so that what
 * it leaves behind (an msmtpd, when the script is killed for taking too long)
 * is ended through that session's process group, by its id.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup, OUTBOX, REPO } from './helpers.js';

const setup = interopSetup();
const SUITE = join(setup.dir, 'msmtp-suite');
const SCRIPT_TIME_LIMIT_MS = 60_000;

/** Lays out SUITE (idempotent); fetching takes seconds, so it happens once, while the file is collected. */
function prepare(): { ready: string } | { error: string } {
  const fetched = spawnSync('bash', [join(REPO, 'test/interop/msmtp-suite.sh'), SUITE, OUTBOX], { encoding: 'utf8', timeout: 900_000 });
  if (fetched.status === 0 && existsSync(join(SUITE, 'ready'))) return { ready: readFileSync(join(SUITE, 'ready'), 'utf8').trim() };
  return { error: `msmtp-suite.sh exited ${fetched.status ?? fetched.signal}:\n${fetched.stderr}${fetched.error ? `\n${fetched.error.message}` : ''}` };
}

interface ScriptResult {
  readonly status: number | null;
  readonly output: string;
}

/** Runs one of msmtp's test scripts from its folder, as `make check` does, with bounded time. */
function runScript(name: string): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-x', name], {
      cwd: join(SUITE, 'source', 'tests'),
      env: {
        PATH: `${join(SUITE, 'bin')}:${process.env['PATH']}`,
        // No configuration of the machine's: an empty HOME and no system file.
        HOME: join(SUITE, 'home'),
        OUTBOX_SYSTEM_CONFIG: join(SUITE, 'no-system-msmtprc'),
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
      endGroup('SIGTERM'); // an msmtpd its trap did not stop
      resolve({ status, output });
    });
  });
}

/** The files msmtpd's --command wrote for a script (test-x.sh: out-x-*.txt, the mail and its recipients), for a failure's message. */
function whatMsmtpdGot(script: string): string {
  const dir = join(SUITE, 'source', 'tests');
  const prefix = `out-${script.replace(/^test-/, '').replace(/\.sh$/, '')}-`;
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name.endsWith('.txt'))
    .map((name) => `\n--- ${name} (first 4000 characters):\n${readFileSync(join(dir, name), 'utf8').slice(0, 4000)}`)
    .join('');
}

const prepared = prepare();
const scripts = 'ready' in prepared
  ? readdirSync(join(SUITE, 'source', 'tests')).filter((name) => /^test-.*\.sh$/.test(name)).sort()
  : [];

describe(`msmtp's own tests: ${'ready' in prepared ? prepared.ready : 'not available'}`, () => {
  if ('error' in prepared) {
    it('fetches msmtp\'s test suite from Debian\'s archive', () => {
      expect.fail(prepared.error);
    });
    return;
  }

  it('has tests to run', () => {
    expect(scripts.length).toBeGreaterThan(0);
  });

  for (const name of scripts) {
    it(name, async (context) => {
      const result = await runScript(name);
      if (result.status === 77) context.skip(`msmtp's test skipped itself (exit 77): ${result.output.trim().split('\n').at(-1)}`);
      expect(result.status, `${name} exited ${result.status}; its trace:\n${result.output}${whatMsmtpdGot(name)}`).toBe(0);
    });
  }
});
