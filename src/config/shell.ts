/**
 * Running `eval` and `passwordeval` commands: the runner is injected (tests
 * pass a fake; `system.ts` has the real one: `/bin/sh -c`, stdin from
 * /dev/null, bounded time), and the interpretation of what it returns is pure.
 */

/** What running a command produced. */
export interface CommandOutcome {
  /** Standard output (UTF-8). */
  readonly stdout: Uint8Array | string;
  /** The exit status, or `null` when the command was killed or never ran. */
  readonly status: number | null;
  /** The signal that ended it, if any. */
  readonly signal?: string | null;
  /** Why it could not run or was stopped: "spawn /bin/sh ENOENT", "timed out after 120 s"… */
  readonly error?: string;
}

/** Runs a shell command line with stdin from /dev/null and returns its output. */
export type CommandRunner = (command: string) => CommandOutcome;

export type FirstLine = { readonly ok: true; readonly line: string } | { readonly ok: false; readonly reason: string };

/**
 * The first line of a command's output, without its line ending. A command
 * that cannot run, fails (non-zero status, killed) or prints nothing is a
 * failure; the reason names the command, never its output.
 */
export function firstOutputLine(command: string, outcome: CommandOutcome): FirstLine {
  const quoted = `'${command}'`;
  if (outcome.error !== undefined) return { ok: false, reason: `cannot run ${quoted}: ${outcome.error}` };
  if (outcome.status === null) return { ok: false, reason: `${quoted} was killed by ${outcome.signal ?? 'a signal'}` };
  if (outcome.status !== 0) return { ok: false, reason: `${quoted} failed with exit status ${outcome.status}` };
  const text = typeof outcome.stdout === 'string' ? outcome.stdout : Buffer.from(outcome.stdout).toString('utf8');
  if (text === '') return { ok: false, reason: `cannot read output of ${quoted}` };
  const end = text.indexOf('\n');
  const line = end < 0 ? text : text.slice(0, end);
  return { ok: true, line: line.endsWith('\r') ? line.slice(0, -1) : line };
}
