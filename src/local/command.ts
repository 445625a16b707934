/**
 * An `mda "COMMAND"` delivery: the command's words (split when the
 * configuration was read, mda.ts) with `%F` and `%T` put in, run directly
 * (execvp, no shell), the mail on its standard input with LF line endings.
 *
 * - `%F` anywhere in a word becomes the envelope sender (MAILER-DAEMON for
 *   the null reverse-path); `%T` makes one word per local recipient (a word
 *   `%T` gives each recipient as its own argument; `--to=%T` gives
 *   `--to=a --to=b`). A recipient or sender that could pass for an option
 *   or holds a control character is refused first (addresses.ts).
 * - The mail streams in with back-pressure: a 1 GB mail is never in memory.
 *   An MDA that stops reading (EPIPE) is judged by its exit status alone.
 * - stdout is discarded, stderr passed through (the MDA's own words, as
 *   `passwordeval`'s are); the command is killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { OutboxError } from '../errors.js';
import { checkMdaArgument, senderArgument } from './addresses.js';
import { mdaExitError, mdaSpawnError } from './exit-status.js';
import { withLocalLineEnds } from './line-ends.js';

export interface CommandDelivery {
  readonly words: readonly string[];
  readonly reversePath: string;
  /** The names `%T` stands for (addresses.ts mdaName). */
  readonly names: readonly string[];
  /** The spooled mail, CRLF line endings. */
  readonly message: AsyncIterable<Uint8Array>;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Ten minutes, as outbox serve's command backend (and Postfix's command_time_limit, 1000 s, is of that order). */
export const DEFAULT_MDA_TIMEOUT_MS = 600_000;

/** argv for the MDA: `%F` and `%T` put in after the words were split. */
export function mdaArguments(words: readonly string[], reversePath: string, names: readonly string[]): string[] {
  const sender = words.some((w) => w.includes('%F')) ? senderArgument(reversePath) : '';
  for (const name of names) checkMdaArgument(name, 'recipient');
  // One pass over the word as written, with a function as the replacement: a put-in value is never
  // searched again (a sender `x%T@y` stays one word) and `$&` in an address is not a replacement pattern.
  const fill = (word: string, name: string): string => word.replace(/%[FT]/g, (code) => (code === '%F' ? sender : name));
  return words.flatMap((word) => (word.includes('%T') ? names.map((name) => fill(word, name)) : [fill(word, '')]));
}

/** Runs the MDA; resolves when it exited 0, throws an OutboxError (transient or not) otherwise. */
export async function deliverByCommand(request: CommandDelivery): Promise<void> {
  const [program, ...args] = mdaArguments(request.words, request.reversePath, request.names);
  if (program === undefined || program === '') throw new OutboxError('E_CONFIG', 'mda: the command is empty');
  const child = spawn(program, args, { stdio: ['pipe', 'ignore', 'inherit'], env: request.env });
  const exited = new Promise<OutboxError | undefined>((resolve) => {
    child.once('error', (error) => resolve(mdaSpawnError(program, error)));
    child.once('close', (status, signal) => resolve(mdaExitError(program, status, signal)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), request.timeoutMs ?? DEFAULT_MDA_TIMEOUT_MS);
  try {
    await feed(child.stdin, request.message, exited);
    const failure = await exited;
    if (failure) throw failure;
  } finally {
    clearTimeout(timer);
  }
}

/** Writes the mail into the MDA's stdin, one chunk at a time; stops quietly when the MDA is gone or stopped reading. */
async function feed(stdin: NodeJS.WritableStream & { destroyed?: boolean }, message: AsyncIterable<Uint8Array>, exited: Promise<unknown>): Promise<void> {
  let broken = false;
  stdin.on('error', () => {
    broken = true; // EPIPE: the exit status decides
  });
  const gone = exited.then(() => 'gone' as const);
  for await (const chunk of withLocalLineEnds(message)) {
    if (broken || stdin.destroyed) break;
    const written = new Promise<'written'>((resolve) => stdin.write(chunk, () => resolve('written')));
    if ((await Promise.race([written, gone])) === 'gone') break;
  }
  if (!broken && !stdin.destroyed) stdin.end();
}
