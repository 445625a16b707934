/**
 * The real-world implementations of what the configuration pipeline takes as
 * injected dependencies: the file system, the shell that runs `eval` and
 * `passwordeval`, the keyring (secret-tool), the terminal prompt, and the
 * values of `%U %H %C %M`. Everything else in `src/config/` is pure.
 */
import { spawnSync } from 'node:child_process';
import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tty from 'node:tty';
import { OutboxError } from '../errors.js';
import type { FileSystem, LoadRequest } from './files.js';
import type { SubstitutionInputs } from './expand.js';
import { strerror } from './files.js';
import type { KeyringQuery, SecretDeps } from './secrets.js';
import type { CommandOutcome, CommandRunner } from './shell.js';

type Env = Readonly<Record<string, string | undefined>>;

export const nodeFileSystem: FileSystem = {
  readFile: (path) => fs.readFileSync(path),
  stat: (path) => fs.statSync(path),
  exists: (path) => fs.existsSync(path),
};

/** $HOME, else the password database's home directory. */
export function homeDirectory(env: Env = process.env): string {
  return env['HOME'] || os.userInfo().homedir;
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
    runCommand: shellRunner(),
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

/** `/bin/sh -c COMMAND`, stdin from /dev/null, stderr to ours, bounded in time and output. */
export function shellRunner(options: ShellOptions = {}): CommandRunner {
  const timeout = options.timeoutMs ?? 120_000;
  return (command) => {
    const result = spawnSync('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout,
      maxBuffer: options.maxBytes ?? 16 * 1024 * 1024,
      killSignal: 'SIGKILL',
    });
    return outcomeOf(result, timeout);
  };
}

function outcomeOf(result: ReturnType<typeof spawnSync>, timeout: number): CommandOutcome {
  const stdout = result.stdout ?? Buffer.alloc(0);
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOBUFS' && Buffer.from(stdout).includes(0x0a)) return { stdout, status: 0 };
  if (code === 'ETIMEDOUT') return { stdout, status: null, error: `timed out after ${timeout / 1000} s` };
  if (code === 'ENOBUFS') return { stdout, status: null, error: 'printed too much without a line break' };
  if (result.error) return { stdout, status: null, error: result.error.message };
  return { stdout, status: result.status, signal: result.signal };
}

/** `secret-tool lookup host H service smtp user U`, when secret-tool is on the PATH. */
export function secretToolKeyring(env: Env = process.env): ((query: KeyringQuery) => string | undefined) | undefined {
  const program = findProgram('secret-tool', env);
  if (!program) return undefined;
  return ({ host, service, user }) => {
    const result = spawnSync(program, ['lookup', 'host', host, 'service', service, 'user', user], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    });
    if (result.status !== 0 || !result.stdout || result.stdout.length === 0) return undefined;
    return result.stdout.toString('utf8').replace(/\r?\n$/, '');
  };
}

function findProgram(name: string, env: Env): string | undefined {
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
  const input = new tty.ReadStream(fs.openSync('/dev/tty', 'r'));
  const output = new tty.WriteStream(fs.openSync('/dev/tty', 'w'));
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
  const hostName = () => env['HOSTNAME'] || os.hostname();
  const mailnameFile = options.mailnameFile ?? '/etc/mailname';
  return {
    userName: () => env['USER'] || env['LOGNAME'] || os.userInfo().username,
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
