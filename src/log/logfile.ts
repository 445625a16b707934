/**
 * The log file sink: `logfile FILE` / `-X FILE` appends one line per mail;
 * `-` means standard output.
 *
 * Concurrent runs: msmtp takes an fcntl() write lock on the file (trying for
 * 10 s). Node cannot take fcntl or flock locks, so outbox relies on what the
 * lock was protecting against in the first place: the file is opened with
 * O_APPEND and the whole line, newline included, goes to the kernel in one
 * write(). On a local file system every such write lands at the end of the
 * file in one piece, whatever other processes append at the same time (the
 * kernel holds the inode's lock for the whole write, for any size; PIPE_BUF
 * is a limit for pipes, not files). docs/logging.md says why this beats a
 * lock file, and test/unit/log-logfile.test.ts has N processes prove it.
 *
 * Failures never throw: the caller gets a value to print as msmtp does
 * ("cannot log to X: …", "log info was: …") and keeps its exit status.
 */
import { open } from 'node:fs/promises';
import { strerror } from '../errors.js';

export interface AppendLogOptions {
  /** Where `-` writes: the CLI's standard output. process.stdout by default. */
  readonly writeStdout?: (text: string) => void | Promise<void>;
  /** Permissions of a file that does not exist yet (before the umask): 0600, as the line names people. */
  readonly mode?: number;
}

export interface LogFileFailure {
  /** The log file as configured ("-" for standard output). */
  readonly path: string;
  /** What went wrong, worded as msmtp does: "cannot open: Permission denied". */
  readonly reason: string;
  readonly cause?: unknown;
}

/**
 * Appends `line` and a newline to the file at `path` (or writes them to
 * standard output for `-`). Resolves to undefined when the line was written,
 * or to a failure to report; never rejects.
 */
export async function appendLogLine(path: string, line: string, options: AppendLogOptions = {}): Promise<LogFileFailure | undefined> {
  const text = `${line}\n`;
  if (path === '-') {
    try {
      await (options.writeStdout ?? writeToProcessStdout)(text);
      return undefined;
    } catch (error) {
      return { path, reason: `output error: ${strerror(error)}`, cause: error };
    }
  }
  let handle;
  try {
    // 'a' = O_WRONLY | O_CREAT | O_APPEND.
    handle = await open(path, 'a', options.mode ?? 0o600);
  } catch (error) {
    return { path, reason: `cannot open: ${strerror(error)}`, cause: error };
  }
  let failure: LogFileFailure | undefined;
  try {
    const bytes = Buffer.from(text, 'utf8');
    // One write() of the whole line: with O_APPEND that is what keeps concurrent lines whole.
    const { bytesWritten } = await handle.write(bytes, 0, bytes.length, null);
    if (bytesWritten !== bytes.length) {
      failure = { path, reason: `output error: wrote ${bytesWritten} of ${bytes.length} bytes` };
    }
  } catch (error) {
    failure = { path, reason: `output error: ${strerror(error)}`, cause: error };
  }
  try {
    await handle.close();
  } catch (error) {
    failure ??= { path, reason: strerror(error), cause: error };
  }
  return failure;
}

/** The two lines msmtp prints on stderr when it cannot log (each without its newline). */
export function logFailureMessages(failure: LogFileFailure, logInfo: string, program = 'outbox'): string[] {
  return [`${program}: cannot log to ${failure.path}: ${failure.reason}`, `${program}: log info was: ${logInfo}`];
}

function writeToProcessStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
