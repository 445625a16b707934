/**
 * One part of a mail (parts.ts) delivered as sendmail mode delivers it:
 * `queue always` stores it; otherwise it is sent down the account's
 * fail-over chain (fallback-send.ts) or handed to the account's MDA, logged,
 * and queued after a temporary failure with `queue on_failure`.
 *
 * Shared by sendmail mode and `outbox serve`'s relay (issue 14: the relay
 * sends "as `outbox -f SENDER` would"). What differs between them is the
 * context: where passwords may come from (the server never prompts), which
 * DSN to ask for (the server passes its client's on), and how a background
 * queue run is started (once per run, or rate-limited in a long-lived server).
 */
import { homeDirectory, systemSecretDeps, type ReadyAccount, type SecretDeps } from '../config/index.js';
import type { AuthSetup } from '../delivery/auth.js';
import { deliver, type DeliveryResult } from '../delivery/deliver.js';
import type { DsnRequest } from '../delivery/envelope.js';
import type { SessionOptions } from '../delivery/session.js';
import { OutboxError } from '../errors.js';
import { deliverLocally, localFailure, type LocalResult } from '../local/deliver.js';
import type { PreparedMessage } from '../message/prepare.js';
import { prefetchResolve, systemResolve } from '../net/connector.js';
import type { QueueRecord } from '../queue/record.js';
import { EX_TEMPFAIL, exitStatusFor } from './exit-status.js';
import { laterLinks, newChainReport, tryChain, type ChainReport } from './fallback-send.js';
import { logMail, writeLogRecord } from './mail-log.js';
import type { CliOptions } from './options.js';
import { localLogAccount, type PartOutcome } from './parts-report.js';
import type { Part } from './parts.js';
import { enqueueMail, queueDirOf, type EnqueueRequest } from './queue-enqueue.js';
import { queueLogRecord } from './queue-log.js';
import { authSetupFor, sessionOptionsFor } from './session-options.js';
import type { Stdio } from './stdio.js';

export type PartIo = Pick<Stdio, 'env' | 'self' | 'writeOut' | 'writeErr'>;

/** What a part's delivery takes from its caller. */
export interface PartContext {
  readonly prepared: PreparedMessage;
  readonly options: CliOptions;
  readonly io: PartIo;
  /** Where passwords come from; the default may prompt on the terminal. */
  readonly secrets?: SecretDeps;
  /** The DSN to ask the next server for, by the part's account. */
  readonly dsn: (account: ReadyAccount) => { dsn?: DsnRequest };
  /** Starts a background queue run for this folder after `queue always`. */
  readonly flush: (dir: string) => void;
}

/**
 * What can start once the account is known, while the rest of the mail is
 * read and spooled (issue 17): the password lookup (passwordeval, keyring,
 * prompt) and the DNS lookup of the server. Nothing connects before the
 * mail is read and the password is in hand (issue 12); this only overlaps
 * the waits. Their failures are reported when the send awaits them, so an
 * error in the mail itself (no recipients, a NUL) still comes first.
 */
export interface EarlyWork {
  readonly auth: Promise<AuthSetup | undefined>;
  readonly session: Promise<SessionOptions>;
}

export function startEarlyWork(account: ReadyAccount, context: Pick<PartContext, 'options' | 'io' | 'secrets'>): EarlyWork {
  const auth = authSetupFor(account, context.secrets ?? systemSecretDeps(context.io.env), context.io.env);
  const session = Promise.resolve().then(() => {
    const session = sessionOptionsFor(account, context.options, context.io);
    return session.socketPath !== undefined || session.proxy !== undefined
      ? session
      : { ...session, resolve: prefetchResolve(session.resolve ?? systemResolve, session.host) };
  });
  auth.catch(() => {});
  session.catch(() => {});
  return { auth, session };
}

/** One part: queued (`queue always`), or sent / delivered locally and logged, queued after a temporary failure with `on_failure`. */
export async function deliverPart(part: Part, early: EarlyWork | undefined, context: PartContext): Promise<PartOutcome> {
  const { account, reversePath, recipients, via } = part;
  const { prepared, io } = context;
  const startedAt = new Date();
  if (account.queue === 'always') return { part, queued: await queuePart(part, context, startedAt, true) };
  const mailsize = prepared.spool.octets - prepared.spool.lines;
  const chain = newChainReport();
  const attempt = via === 'mda' ? deliverLocalPart(part, prepared, io) : send(part, early ?? startEarlyWork(account, context), context, chain);
  const outcome = await attempt.then(
    (result) => (result === undefined ? {} : { result }),
    (error: unknown) => ({ error }),
  );
  await logMail({ account: via === 'mda' ? localLogAccount(account) : account, reversePath, recipients, mailsize, startedAt, ...(via === 'mda' ? {} : { chain }), ...outcome }, io);
  if (!('error' in outcome)) return { part };
  // on_failure: what would exit 75 is queued instead, and the caller is told success.
  if (account.queue === 'on_failure' && isTemporary(outcome.error)) {
    return { part, queued: await queuePart(part, context, new Date(), false, outcome.error as OutboxError) };
  }
  return { part, error: outcome.error };
}

/** A failure a later try may get past: what sendmail mode exits 75 for. */
export function isTemporary(error: unknown): boolean {
  return error instanceof OutboxError && exitStatusFor(error) === EX_TEMPFAIL;
}

/**
 * Stores a part durably and logs it; `flushNow` asks for a background queue
 * run. After a failed attempt, `failure` is recorded (attempts 1, the next
 * try after the back-off). Silence on success, as sendmail's callers expect.
 */
export async function queuePart(part: Part, context: PartContext, now: Date, flushNow: boolean, failure?: OutboxError): Promise<QueueRecord> {
  const { account, mailFrom, reversePath, recipients, via } = part;
  const request: EnqueueRequest = {
    account, options: context.options, mailFrom, reversePath, recipients, spool: context.prepared.spool, now,
    ...(via === 'mda' ? { via } : {}),
    ...(failure ? { failure } : {}),
  };
  const record = await enqueueMail(request, context.io.env);
  if (account.logfile !== null || account.syslog !== null) await writeLogRecord(account, queueLogRecord(record, 'queued', account), context.io);
  if (flushNow) context.flush(queueDirOf(account, context.io.env));
  return record;
}

async function deliverLocalPart(part: Part, prepared: PreparedMessage, io: PartIo): Promise<undefined> {
  const results = await deliverLocally({
    rules: part.account,
    home: homeDirectory(io.env),
    reversePath: part.reversePath,
    recipients: part.recipients,
    message: () => prepared.spool.chunks(),
    env: io.env,
  });
  const failure = localFailure(results);
  // Each recipient's result rides on the error: a server can then answer each (LMTP) and retry only who lacks the mail.
  if (failure) throw Object.assign(failure, { [LOCAL_RESULTS]: results });
  return undefined;
}

const LOCAL_RESULTS = Symbol('local results');

/** Each recipient's result of a failed local part (an MDA per recipient may have delivered to some); none for other errors. */
export function localResultsOf(error: unknown): readonly LocalResult[] {
  return (error instanceof OutboxError ? (error as OutboxError & { [LOCAL_RESULTS]?: readonly LocalResult[] })[LOCAL_RESULTS] : undefined) ?? [];
}

async function send(part: Part, early: EarlyWork, context: PartContext, report: ChainReport): Promise<DeliveryResult> {
  const { account, reversePath, recipients, fallbacks } = part;
  const { prepared, options, io } = context;
  // The first link is the early work; each fallback's is made when it is reached. The envelope is the mail's, the same for each.
  const links = [{ account, auth: () => early.auth, session: () => early.session }, ...laterLinks(fallbacks, options, io, context.secrets)];
  const note = options.debug ? (line: string) => io.writeOut(`${line}\n`) : undefined;
  return tryChain(links, (session, auth) => deliver({
    session,
    ...(auth ? { auth } : {}),
    envelope: { reversePath, recipients: [...recipients], ...context.dsn(account) },
    message: prepared.spool.chunks(),
    facts: { octets: prepared.spool.octets, has8bit: prepared.spool.has8bit, body: options.bodyType },
    eightbit: { policy: account.eightbit, reread: () => prepared.spool.chunks() },
  }), report, note);
}
