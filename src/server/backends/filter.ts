/**
 * `--filter=CMD`, E-MailRelay's pre-processor, as a decorator around any
 * backend: the message is spooled to a private file (0600 in a 0700 folder),
 * then `/bin/sh -c 'CMD "$1"' outbox-filter PATH` runs: the path reaches the
 * program as an argument, never as shell text. Its exit status decides:
 *
 *   0      accept: the file, as the program left it (it may rewrite it), is
 *          streamed into the inner backend, whose outcome is the reply;
 *   75     EX_TEMPFAIL: 451, try again later;
 *   other  550 with the first line the program printed (stdout, else stderr)
 *          as the reply text: E-MailRelay's "the first output line is the
 *          reply".
 *
 * The file is removed whatever happens. A program that outlives `timeoutMs`
 * is killed and answered 451.
 */
import { spawn } from 'node:child_process';
import type { Backend, BackendSession, ConnectionInfo, Delivery, Envelope } from '../backend.js';
import { permanentFailure, temporaryFailure } from '../backend.js';
import { firstLine, killGroup } from './command.js';
import { SpooledSink, SpoolFile } from './spool-file.js';

export interface FilterOptions {
  readonly command: string;
  /** Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly tmpDir?: string;
}

const EX_TEMPFAIL = 75;
const DEFAULT_TIMEOUT_MS = 300_000;

export function filterBackend(inner: Backend, command: string | FilterOptions): Backend {
  const options: FilterOptions = typeof command === 'string' ? { command } : command;
  return {
    newSession(connection: ConnectionInfo): BackendSession {
      const session = inner.newSession(connection);
      const wrapped: BackendSession = {
        open: async () => new SpooledSink(await SpoolFile.create(options.tmpDir), (envelope, spool) => filterThenDeliver(options, session, envelope, spool)),
      };
      // The inner backend still judges MAIL and RCPT, and hears of RSET and the end.
      if (session.mail) wrapped.mail = session.mail.bind(session);
      if (session.rcpt) wrapped.rcpt = session.rcpt.bind(session);
      if (session.reset) wrapped.reset = session.reset.bind(session);
      if (session.logout) wrapped.logout = session.logout.bind(session);
      return wrapped;
    },
  };
}

/** The filter's verdict on the spooled file, then (accepted) the file, perhaps rewritten, into the inner backend. */
async function filterThenDeliver(options: FilterOptions, inner: BackendSession, envelope: Envelope, spool: SpoolFile): Promise<Delivery> {
  const verdict = await runFilter(options, spool.path);
  if (verdict) return verdict;
  const sink = await inner.open();
  try {
    for await (const chunk of spool.chunks()) await sink.write(chunk);
    return await sink.commit(envelope);
  } catch (error) {
    await sink.abort();
    throw error;
  }
}

/** Runs the filter on `path`; undefined when it accepts, else the refusal. */
export function runFilter(options: FilterOptions, path: string): Promise<Delivery | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `${options.command} "$1"`, 'outbox-filter', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      if (stdout.length < 4096) stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < 4096) stderr += text;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ kind: 'refused', reply: temporaryFailure(`cannot start the filter: ${error.message}`) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const said = firstLine(stdout) || firstLine(stderr);
      if (timedOut) return resolve({ kind: 'refused', reply: temporaryFailure('filter timed out') });
      if (code === 0) return resolve(undefined);
      if (code === EX_TEMPFAIL) return resolve({ kind: 'refused', reply: temporaryFailure(said || 'filter: try again later') });
      resolve({ kind: 'refused', reply: permanentFailure(said || `rejected by filter (exit ${code ?? 'signal'})`, 550) });
    });
  });
}
