/**
 * Sending through a fail-over chain (`fallback_account`, issue 16): the
 * chosen account first, then each fallback in turn, as long as the failure
 * is one that delivery/fallover.ts lets fall over (the account cannot be
 * reached, or refused us for now before MAIL). Anything else, and the last
 * account's failure, ends the chain.
 *
 * What is the mail's stays as the chosen account made it: the header
 * rewritten once, the envelope-from, the recipients after its aliases, the
 * DSN request. What is the connection's comes from each account: host,
 * port, socket, proxy, TLS, AUTH and its password, domain, timeout. A
 * fallback's password is looked up only when that account is reached, after
 * the previous connection is closed.
 *
 * A direct send, `queue on_failure` and the queue's flush all go through
 * `tryChain`; without a fallback it is one attempt, unchanged.
 */
import { systemSecretDeps, type ReadyAccount, type SecretDeps } from '../config/index.js';
import type { AuthSetup } from '../delivery/auth.js';
import { envelopeWatch, fallsOver } from '../delivery/fallover.js';
import type { SessionOptions } from '../delivery/session.js';
import { OutboxError } from '../errors.js';
import type { CliOptions } from './options.js';
import { authSetupFor, sessionOptionsFor } from './session-options.js';
import type { Stdio } from './stdio.js';

/** One account of the chain: what opening a session through it needs, started early for the first. */
export interface ChainLink {
  readonly account: ReadyAccount;
  readonly auth: () => Promise<AuthSetup | undefined>;
  readonly session: () => Promise<SessionOptions>;
}

/** An account that was fallen over, and why (an OutboxError's message: never a secret). */
export interface LinkFailure {
  readonly account: string;
  readonly error: OutboxError;
}

/** What the chain did, for the log; filled in as it goes. */
export interface ChainReport {
  /** The account the outcome is about: the one that delivered, or the last one tried. */
  account: ReadyAccount | undefined;
  /** The accounts fallen over, in order. */
  readonly failures: LinkFailure[];
  /** When the chain failed after falling over: the last account's own error (the thrown one names every account). */
  lastError?: OutboxError;
}

export function newChainReport(): ChainReport {
  return { account: undefined, failures: [] };
}

/** The links after the first: each account's session options and AUTH made when it is reached (`secrets`: where passwords come from). */
export function laterLinks(accounts: readonly ReadyAccount[], options: Pick<CliOptions, 'debug' | 'chunking'>, io: Pick<Stdio, 'env' | 'writeOut'>, secrets?: SecretDeps): ChainLink[] {
  return accounts.map((account) => ({
    account,
    auth: () => authSetupFor(account, secrets ?? systemSecretDeps(io.env), io.env),
    session: () => Promise.resolve().then(() => sessionOptionsFor(account, options, io)),
  }));
}

/**
 * Runs `attempt` through each link until one succeeds or a failure may not
 * fall over. `note` hears each fall-over (--debug). The error thrown after
 * a fall-over names every account and why each failed; its code, reply and
 * command are the last account's.
 */
export async function tryChain<T>(
  links: readonly ChainLink[],
  attempt: (session: SessionOptions, auth: AuthSetup | undefined, account: ReadyAccount) => Promise<T>,
  report: ChainReport,
  note?: (line: string) => void,
): Promise<T> {
  // Each pass either returns, throws, or moves to the next link: bounded by the chain's length.
  for (const [i, link] of links.entries()) {
    report.account = link.account;
    let watch = envelopeWatch();
    try {
      const auth = await link.auth(); // first, as a direct send always did: a failing passwordeval is the error to report
      const session = await link.session();
      watch = envelopeWatch(session.trace);
      return await attempt({ ...session, trace: watch.trace }, auth, link.account);
    } catch (error) {
      const next = links[i + 1];
      if (next === undefined || !(error instanceof OutboxError) || !fallsOver(error, watch)) throw chainError(error, watch, report);
      report.failures.push({ account: link.account.name, error });
      note?.(`outbox: account ${link.account.name} failed before the mail was accepted (${error.message}); falling back to account ${next.account.name}`);
    }
  }
  throw new OutboxError('E_CONFIG', 'no account to send through');
}

/**
 * The error to report. Without a fall-over, the failure as it is. After one,
 * every account and its failure in one message; temporary when the last
 * account's failure is, or when it is one that would have fallen over (a
 * name that does not resolve) after an earlier account failed temporarily:
 * a later try may then still succeed, so the caller or the queue retries.
 */
function chainError(error: unknown, progress: { envelopeStarted: boolean }, report: ChainReport): unknown {
  if (report.failures.length === 0 || !(error instanceof OutboxError)) return error;
  report.lastError = error;
  const transient = error.transient || (fallsOver(error, progress) && report.failures.some((f) => f.error.transient));
  const accounts = [...report.failures.map((f) => `account ${f.account}: ${f.error.message}`), `account ${report.account?.name ?? '?'}: ${error.message}`];
  return new OutboxError(error.code, accounts.join('; '), {
    transient,
    ...(error.reply ? { reply: error.reply } : {}),
    ...(error.command ? { command: error.command } : {}),
    ...(error.recipient ? { recipient: error.recipient } : {}),
    cause: error,
  });
}
