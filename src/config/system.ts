/**
 * The real-world implementations of what the configuration pipeline takes as
 * injected dependencies: the file system, the shell that runs `eval` and
 * `passwordeval`, the keyring (secret-tool), the terminal prompt, and the
 * values of `%U %H %C %M`. Everything else in `src/config/` is pure (but
 * `child-process.ts`, which this file uses).
 */
import { spawnSync } from 'node:child_process';
import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { ReadStream, WriteStream } from 'node:tty';
import { OutboxError, strerror } from '../errors.js';
import type { FileSystem, LoadRequest } from './files.js';
import type { SubstitutionInputs } from './expand.js';
import type { KeyringQuery, SecretDeps } from './secrets.js';
import { runChild } from './child-process.js';
import type { AsyncCommandRunner, CommandOutcome, CommandRunner } from './shell.js';

type Env = Readonly<Record<string, string | undefined>>;

export const nodeFileSystem: FileSystem = {
  readFile: (path) => fs.readFileSync(path),
  stat: (path) => fs.statSync(path),
  exists: (path) => fs.existsSync(path),
};

/** $HOME, else the password database's home directory. */
export function homeDirectory(env: Env = process.env): string {
  return env['HOME'] || userInfo().homedir;
}

/** Everything `loadConfiguration` needs, from this process. */
export function systemLoadRequest(userFile?: string): LoadRequest {
  return {
    userFile,
    env: process.env,
    home: homeDirectory(),
    euid: typeof process.geteuid === 'function' ? process.geteuid() : null,
    fs: nodeFileSystem,
    runCommand: shellRunner(),
  };
}

/** Everything `resolvePassword` needs, from this process. */
export function systemSecretDeps(env: Env = process.env): SecretDeps {
  return {
    runCommand: asyncShellRunner(),
    keyring: secretToolKeyring(env),
    readFile: (path) => fs.readFileSync(path),
    home: homeDirectory(env),
    prompt: terminalPrompt(),
  };
}

export interface ShellOptions {
  /** Default 120 s: long enough to type a passphrase into a pinentry. */
  readonly timeoutMs?: number;
  /** Default 16 MiB: OAuth tokens are long, but not that long. */
  readonly maxBytes?: number;
}

const SHELL_TIMEOUT_MS = 120_000;
const SHELL_MAX_BYTES = 16 * 1024 * 1024;

/**
 * `/bin/sh -c COMMAND` for the parser's `eval`, which is synchronous: stdin
 * from /dev/null, stderr to ours, bounded in time and output. It blocks, but
 * only while the files are read, before any connection or timer exists.
 */
export function shellRunner(options: ShellOptions = {}): CommandRunner {
  const timeout = options.timeoutMs ?? SHELL_TIMEOUT_MS;
  return (command) => {
    const result = spawnSync('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout,
      maxBuffer: options.maxBytes ?? SHELL_MAX_BYTES,
      killSignal: 'SIGKILL',
    });
    return outcomeOf(result, timeout);
  };
}

/** The same for `passwordeval`, as a child process we wait for without blocking. */
export function asyncShellRunner(options: ShellOptions = {}): AsyncCommandRunner {
  const limits = { timeoutMs: options.timeoutMs ?? SHELL_TIMEOUT_MS, maxBytes: options.maxBytes ?? SHELL_MAX_BYTES };
  return (command) => runChild('/bin/sh', ['-c', command], { ...limits, stderr: 'inherit' });
}

/** spawnSync's error messages name the program and its arguments (the command): only the error code is kept. */
function outcomeOf(result: ReturnType<typeof spawnSync>, timeout: number): CommandOutcome {
  const stdout = result.stdout ?? Buffer.alloc(0);
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOBUFS' && Buffer.from(stdout).includes(0x0a)) return { stdout, status: 0 };
  if (code === 'ETIMEDOUT') return { stdout, status: null, error: `timed out after ${timeout / 1000} s` };
  if (code === 'ENOBUFS') return { stdout, status: null, error: 'printed too much without a line break' };
  if (result.error) return { stdout, status: null, error: `could not be run (${code ?? 'error'})` };
  return { stdout, status: result.status, signal: result.signal };
}

/** `secret-tool lookup host H service smtp user U`, when secret-tool is on the PATH; any failure means "not in the keyring". */
export function secretToolKeyring(env: Env = process.env): ((query: KeyringQuery) => Promise<string | undefined>) | undefined {
  const program = findProgram('secret-tool', env);
  if (!program) return undefined;
  return async ({ host, service, user }) => {
    const args = ['lookup', 'host', host, 'service', service, 'user', user];
    const result = await runChild(program, args, { timeoutMs: 30_000, maxBytes: SHELL_MAX_BYTES, stderr: 'ignore' });
    const stdout = Buffer.from(result.stdout);
    if (result.status !== 0 || stdout.length === 0) return undefined;
    return stdout.toString('utf8').replace(/\r?\n$/, '');
  };
}

export function findProgram(name: string, env: Env = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(':')) {
    const candidate = `${dir || '.'}/${name}`;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A prompt that reads without echo from /dev/tty, or `undefined` when there is no terminal. */
export function terminalPrompt(): ((text: string) => Promise<string | undefined>) | undefined {
  try {
    fs.closeSync(fs.openSync('/dev/tty', 'r'));
  } catch {
    return undefined;
  }
  return readHidden;
}

function readHidden(text: string): Promise<string | undefined> {
  const input = new ReadStream(fs.openSync('/dev/tty', 'r'));
  const output = new WriteStream(fs.openSync('/dev/tty', 'w'));
  output.write(text);
  input.setRawMode(true);
  return new Promise((resolve) => {
    let answer = '';
    const finish = (value: string | undefined, interrupted = false) => {
      input.setRawMode(false);
      input.destroy();
      output.end('\n');
      if (interrupted) process.kill(process.pid, 'SIGINT');
      resolve(value);
    };
    input.on('data', (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(answer);
        if (char === '\u0003') return finish(undefined, true);
        if (char === '\u0004' && answer === '') return finish(undefined);
        if (char === '\u007f' || char === '\b') answer = Array.from(answer).slice(0, -1).join('');
        else answer += char;
      }
    });
  });
}

export interface SubstitutionOptions {
  /** Default /etc/mailname. */
  readonly mailnameFile?: string;
  readonly mailFrom?: string | undefined;
  readonly env?: Env;
}

/** `%U %H %C %M %F` from this system. */
export function systemSubstitutionInputs(options: SubstitutionOptions = {}): SubstitutionInputs {
  const env = options.env ?? process.env;
  const hostName = () => env['HOSTNAME'] || hostname();
  const mailnameFile = options.mailnameFile ?? '/etc/mailname';
  return {
    userName: () => env['USER'] || env['LOGNAME'] || userInfo().username,
    hostName,
    canonicalHostName: () => canonicalName(hostName()),
    mailname: () => readMailname(mailnameFile),
    mailFrom: options.mailFrom,
  };
}

/** The host's canonical name through the system resolver (getaddrinfo, then getnameinfo); the name itself on failure. */
async function canonicalName(host: string): Promise<string> {
  try {
    const { address } = await dns.lookup(host);
    return (await dns.lookupService(address, 25)).hostname;
  } catch {
    return host;
  }
}

function readMailname(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new OutboxError('E_CONFIG', `${file}: ${strerror(error)}`, { cause: error });
  }
  const first = text.split('\n')[0]!.replace(/\r$/, '').trim();
  if (first === '') throw new OutboxError('E_CONFIG', `${file}: the file is empty`);
  return first;
}
