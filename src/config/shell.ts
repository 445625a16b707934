/**
 * Running `eval` and `passwordeval` commands: the runner is injected (tests
 * pass a fake; `system.ts` and `child-process.ts` have the real ones:
 * `/bin/sh -c`, stdin from /dev/null, bounded time), and the interpretation
 * of what it returns is pure.
 *
 * A command routinely holds a secret (`echo pw`, `curl -u user:pass …`), so
 * nothing here ever puts the command, or what it printed, into a message:
 * callers name the setting and its line instead.
 */

/** What running a command produced. */
export interface CommandOutcome {
  /** Standard output (UTF-8). */
  readonly stdout: Uint8Array | string;
  /** The exit status, or `null` when the command was killed or never ran. */
  readonly status: number | null;
  /** The signal that ended it, if any. */
  readonly signal?: string | null;
  /**
   * Why it could not run or was stopped, as the end of a sentence starting
   * "the command …": "could not be run (ENOENT)", "timed out after 120 s".
   * Never the command's text.
   */
  readonly error?: string;
}

/** Runs a shell command line with stdin from /dev/null and returns its output; blocks (the parser's `eval`). */
export type CommandRunner = (command: string) => CommandOutcome;

/** The same without blocking the event loop (`passwordeval`, run while nothing else may wait on us). */
export type AsyncCommandRunner = (command: string) => Promise<CommandOutcome>;

export type FirstLine = { readonly ok: true; readonly line: string } | { readonly ok: false; readonly reason: string };

/**
 * The first line of a command's output, without its line ending. A command
 * that cannot run, fails (non-zero status, killed) or prints nothing is a
 * failure; the reason says which, never naming the command or its output.
 */
export function firstOutputLine(outcome: CommandOutcome): FirstLine {
  if (outcome.error !== undefined) return { ok: false, reason: `the command ${outcome.error}` };
  if (outcome.status === null) return { ok: false, reason: `the command was killed by ${outcome.signal ?? 'a signal'}` };
  if (outcome.status !== 0) return { ok: false, reason: `the command failed with exit status ${outcome.status}` };
  const text = typeof outcome.stdout === 'string' ? outcome.stdout : Buffer.from(outcome.stdout).toString('utf8');
  if (text === '') return { ok: false, reason: 'the command printed nothing' };
  const end = text.indexOf('\n');
  const line = end < 0 ? text : text.slice(0, end);
  return { ok: true, line: line.endsWith('\r') ? line.slice(0, -1) : line };
}
