/**
 * A limit on how long the session waits for a backend or the password check.
 * A hook that never settles (a hung relay, a stuck `passwordeval`, a full
 * pipe nobody reads) would otherwise hold the session, its client and one
 * of `maxSessions` forever; with a deadline the client is told 451 (or 454
 * for AUTH) and the session goes on. The work itself is not cancelled (a
 * promise cannot be): what arrives late is handed to `late` so a sink that
 * opens after its deadline is still aborted, and a late error is swallowed.
 */

export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Between the session and a backend hook (MAIL, RCPT, open, a write, reset, logout, abort) or `verify()`. */
export const DEFAULT_HOOK_TIMEOUT_MS = 60_000;

/**
 * For a message's commit, the backend's delivery. A backstop above the
 * backends' own limits (the command backend kills its program after 10
 * minutes and answers 451 itself; the relay's client has RFC 5321's
 * timeouts), so it only fires for a backend that has none.
 */
export const DEFAULT_COMMIT_TIMEOUT_MS = 660_000;

/** The result of `work()`, or TIMED_OUT when `ms` passed first. A throw from `work` is thrown here, if in time. */
export async function within<T>(ms: number, work: () => Promise<T> | T, late?: (value: T) => unknown): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const running = Promise.resolve().then(work);
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve(TIMED_OUT);
    }, ms);
  });
  running.then(
    (value) => {
      if (timedOut) void Promise.resolve().then(() => late?.(value)).catch(() => undefined);
    },
    () => undefined,
  );
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
