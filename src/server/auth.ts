/**
 * AUTH on the server's side (RFC 4954): the SASL steps come from
 * sasl/server.ts, the password check from the configuration
 * (`ServerAuth.verify`); this file keeps one session's state between the
 * AUTH command and the client's 334 answers, and slows down guessing.
 *
 * After a failed attempt the reply waits: 1 s, then twice as long after each
 * further failure in the session, at most 60 s (msmtpd waits 1 s). The wait
 * is a function the session is given, so tests use fake timers and never
 * measure time. A `verify()` that does not answer within the hook limit
 * (deadline.ts) is a temporary failure, 454, without the wait: it said
 * nothing about the password. Nothing here logs or echoes a password.
 */
import { serverExchange, type SaslServerExchange, type SaslServerStep, type ScramCredentials } from '../sasl/server.js';
import type { ReplySpec } from '../smtp/reply-format.js';
import { DEFAULT_HOOK_TIMEOUT_MS, TIMED_OUT, within } from './deadline.js';
import type { ServerAuth } from './server-config.js';

export const FIRST_FAILURE_DELAY_MS = 1000;
export const MAX_FAILURE_DELAY_MS = 60_000;

/** What the session does with the client's next line, or the exchange's end. */
export type AuthOutcome =
  | { readonly kind: 'continue'; readonly challenge: string }
  | { readonly kind: 'success'; readonly user: string }
  | { readonly kind: 'failure'; readonly reply: ReplySpec; readonly user?: string };

export const AUTH_SUCCEEDED: ReplySpec = { code: 235, text: '2.7.0 Authentication successful' };
const AUTH_FAILED: ReplySpec = { code: 535, text: '5.7.8 Error: authentication failed' };
const CANCELLED: ReplySpec = { code: 501, text: '5.7.0 Authentication aborted' };
const BAD_BASE64: ReplySpec = { code: 501, text: '5.5.2 Error: invalid base64 data' };
const TEMPORARY_FAILURE: ReplySpec = { code: 454, text: '4.7.0 Temporary authentication failure' };
const BAD_MESSAGE: ReplySpec = { code: 501, text: '5.5.2 Error: malformed authentication message' };

/** Waits `ms`, or less when `signal` aborts (the client is gone: nobody is left to slow down). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

export class Authenticator {
  private exchange: SaslServerExchange | undefined;
  private failures = 0;
  private readonly gone = new AbortController();

  constructor(
    private readonly auth: ServerAuth,
    private readonly sleep: Sleep = realSleep,
    private readonly verifyTimeoutMs: number = DEFAULT_HOOK_TIMEOUT_MS,
  ) {}

  /** A 334 is out and the client's next line belongs to the exchange. */
  get inProgress(): boolean {
    return this.exchange !== undefined;
  }

  /** Undefined when `mechanism` is not offered (the caller answers 504). */
  async begin(mechanism: string, initialResponse: string | undefined): Promise<AuthOutcome | undefined> {
    const exchange = serverExchange(mechanism, { scram: this.auth.scram !== undefined });
    if (!exchange) return undefined;
    this.exchange = exchange;
    return this.step(exchange.start(initialResponse));
  }

  /** The connection is gone: a wait in progress ends now, so closing the server never waits for it. */
  hangUp(): void {
    this.gone.abort();
  }

  /** Forgets an exchange the client broke off (an over-long line). */
  cancel(): void {
    this.exchange = undefined;
  }

  async respond(line: string): Promise<AuthOutcome> {
    const exchange = this.exchange;
    if (!exchange) throw new Error('no AUTH exchange in progress');
    return this.step(exchange.respond(line));
  }

  private async step(step: SaslServerStep): Promise<AuthOutcome> {
    if (step.kind === 'challenge') return { kind: 'continue', challenge: step.challenge };
    if (step.kind === 'lookup') return this.lookup(step);
    this.exchange = undefined;
    if (step.kind === 'cancelled') return { kind: 'failure', reply: CANCELLED };
    if (step.kind === 'malformed') return this.fail(step.why === 'base64' ? BAD_BASE64 : BAD_MESSAGE);
    if (step.kind === 'authenticated') return { kind: 'success', user: step.user };
    if (step.kind === 'refused') return this.fail(AUTH_FAILED, step.user);
    let good: boolean | typeof TIMED_OUT;
    try {
      good = await within(this.verifyTimeoutMs, () => this.auth.verify(step.user, step.password));
    } catch {
      good = TIMED_OUT;
    }
    // A checker that cannot run, or does not answer, says nothing about the password: try again later (RFC 4954 §6).
    if (good === TIMED_OUT) return { kind: 'failure', reply: TEMPORARY_FAILURE, user: step.user };
    if (good) return { kind: 'success', user: step.user };
    return this.fail(AUTH_FAILED, step.user);
  }

  /** SCRAM's stored keys for the user, bounded like `verify()`; the exchange goes on with them. */
  private async lookup(step: Extract<SaslServerStep, { kind: 'lookup' }>): Promise<AuthOutcome> {
    let found: ScramCredentials | undefined | typeof TIMED_OUT;
    try {
      found = await within(this.verifyTimeoutMs, () => this.auth.scram!(step.user));
    } catch {
      found = TIMED_OUT;
    }
    if (found === TIMED_OUT) {
      this.exchange = undefined;
      return { kind: 'failure', reply: TEMPORARY_FAILURE, user: step.user };
    }
    return this.step(step.resume(found));
  }

  private async fail(reply: ReplySpec, user?: string): Promise<AuthOutcome> {
    const delay = Math.min(FIRST_FAILURE_DELAY_MS * 2 ** this.failures, MAX_FAILURE_DELAY_MS);
    this.failures++;
    await this.sleep(delay, this.gone.signal);
    return user === undefined ? { kind: 'failure', reply } : { kind: 'failure', reply, user };
  }
}
