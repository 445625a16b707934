/**
 * The backend session as the session core sees it: every hook bounded in
 * time (deadline.ts) and every failure turned into a reply that tells the
 * truth, in one place. A hook that throws is a local error (451 4.3.0); a
 * hook that does not answer in time is 451 4.3.0 too, with words that say
 * so, and the log names the hook. Neither ends the session.
 */
import type { ReplySpec } from '../smtp/reply-format.js';
import type { BackendSession, Delivery, Envelope, MessageSink } from './backend.js';
import { DEFAULT_COMMIT_TIMEOUT_MS, DEFAULT_HOOK_TIMEOUT_MS, TIMED_OUT, within } from './deadline.js';
import { LOCAL_ERROR } from './delivery-reply.js';
import type { EsmtpParamMap } from '../smtp/syntax.js';

export const BACKEND_TIMEOUT: ReplySpec = { code: 451, text: '4.3.0 Error: the backend did not answer in time' };

export interface GuardOptions {
  readonly hookTimeoutMs?: number | undefined;
  readonly commitTimeoutMs?: number | 'none' | undefined;
  /** Said once per failure or overrun, never with message content. */
  readonly log: (message: string) => void;
}

/** What `open()` or a write reports when it failed: the reply the client is given. */
export class HookFailure extends Error {
  constructor(readonly reply: ReplySpec) {
    super(reply.text);
  }
}

export class GuardedBackend {
  private readonly hookMs: number;
  private readonly commitMs: number | 'none';

  constructor(
    private readonly inner: BackendSession,
    private readonly options: GuardOptions,
  ) {
    this.hookMs = options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    this.commitMs = options.commitTimeoutMs ?? DEFAULT_COMMIT_TIMEOUT_MS;
  }

  mail(from: string, params: EsmtpParamMap): Promise<ReplySpec | undefined> {
    return this.answer('MAIL', () => this.inner.mail?.(from, params));
  }

  rcpt(to: string, params: EsmtpParamMap): Promise<ReplySpec | undefined> {
    return this.answer('RCPT', () => this.inner.rcpt?.(to, params));
  }

  /** The backend's sink, guarded the same way; throws a HookFailure with the reply. */
  async open(): Promise<MessageSink> {
    let sink: MessageSink | typeof TIMED_OUT;
    try {
      // A sink that opens after its deadline is aborted at once: nobody will write to it.
      sink = await within(this.hookMs, () => this.inner.open(), (late) => late.abort());
    } catch (error) {
      throw new HookFailure(this.failed('open', error));
    }
    if (sink === TIMED_OUT) throw new HookFailure(this.overran('open', this.hookMs));
    return this.sink(sink);
  }

  async reset(): Promise<void> {
    if (await within(this.hookMs, () => this.inner.reset?.()) === TIMED_OUT) this.overran('reset', this.hookMs);
  }

  async logout(): Promise<void> {
    if (await within(this.hookMs, () => this.inner.logout?.()) === TIMED_OUT) this.overran('logout', this.hookMs);
  }

  private sink(inner: MessageSink): MessageSink {
    const abort = async (): Promise<void> => {
      try {
        if (await within(this.hookMs, () => inner.abort()) === TIMED_OUT) this.overran('abort', this.hookMs);
      } catch (error) {
        this.failed('abort', error);
      }
    };
    return {
      write: async (bytes: Buffer): Promise<void> => {
        let done: void | typeof TIMED_OUT;
        try {
          done = await within(this.hookMs, () => inner.write(bytes));
        } catch (error) {
          throw new HookFailure(this.failed('write', error));
        }
        if (done === TIMED_OUT) throw new HookFailure(this.overran('write', this.hookMs));
      },
      commit: async (envelope: Envelope): Promise<Delivery> => {
        let delivery: Delivery | typeof TIMED_OUT;
        try {
          delivery = this.commitMs === 'none'
            ? await inner.commit(envelope)
            : await within(this.commitMs, () => inner.commit(envelope), () => this.options.log('the backend finished a message after its deadline; the client was told 451'));
        } catch (error) {
          await abort();
          return { kind: 'refused', reply: this.failed('commit', error) };
        }
        if (delivery !== TIMED_OUT) return delivery;
        void abort();
        return { kind: 'refused', reply: this.overran('commit', this.commitMs as number) };
      },
      abort,
    };
  }

  /** MAIL's and RCPT's hooks: their reply, LOCAL_ERROR for a throw, BACKEND_TIMEOUT for silence. */
  private async answer(hook: string, ask: () => Promise<ReplySpec | undefined> | ReplySpec | undefined): Promise<ReplySpec | undefined> {
    let reply: ReplySpec | undefined | typeof TIMED_OUT;
    try {
      reply = await within(this.hookMs, ask);
    } catch (error) {
      return this.failed(hook, error);
    }
    return reply === TIMED_OUT ? this.overran(hook, this.hookMs) : reply;
  }

  private failed(hook: string, error: unknown): ReplySpec {
    const message = error instanceof Error ? error.message : String(error);
    this.options.log(hook === 'MAIL' || hook === 'RCPT' ? message : `backend ${hook}: ${message}`);
    return LOCAL_ERROR;
  }

  private overran(hook: string, ms: number): ReplySpec {
    this.options.log(`backend ${hook} did not answer within ${ms / 1000} s`);
    return BACKEND_TIMEOUT;
  }
}
