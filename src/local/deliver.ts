/**
 * Local delivery (issue 15) in one call: the account's `mda` (as mda.ts
 * reads it) given the local recipients of one mail.
 *
 * - a command runs once for all of them (`%T`), as esmtp runs it;
 * - `maildir:PATH` and `mbox:PATH` deliver once when PATH has no `%T`
 *   (every local recipient's mail goes to that one mailbox: the machine's
 *   mail for root), else once per recipient with `%T` replaced by its name
 *   (`mbox:/var/mail/%T`, dma's layout), each with its own result.
 *
 * The message is a function returning the spooled mail afresh, since a
 * per-recipient delivery reads it once per recipient.
 */
import { parseMda, type MdaSpec } from '../config/index.js';
import { OutboxError } from '../errors.js';
import { checkPathName, mdaName, type LocalRules } from './addresses.js';
import { deliverByCommand } from './command.js';
import { deliverToMaildir } from './maildir.js';
import { deliverToMbox } from './mbox.js';

export interface LocalDelivery {
  readonly rules: LocalRules;
  readonly home: string;
  readonly reversePath: string;
  /** The envelope addresses of the local recipients. */
  readonly recipients: readonly string[];
  readonly message: () => AsyncIterable<Uint8Array>;
  readonly env: NodeJS.ProcessEnv;
}

/** One recipient's fate: delivered, or the failure (transient or not). */
export interface LocalResult {
  readonly recipient: string;
  readonly error?: OutboxError;
}

export async function deliverLocally(request: LocalDelivery): Promise<LocalResult[]> {
  if (request.rules.mda === null) throw new OutboxError('E_CONFIG', 'local delivery without an mda');
  const spec = parseMda(request.rules.mda, request.home);
  const names = request.recipients.map((address) => mdaName(address, request.rules));
  if (spec.kind === 'command' || !spec.path.includes('%T')) {
    const error = await attempt(() => deliverOnce(spec, request, names));
    return request.recipients.map((recipient) => ({ recipient, ...(error ? { error } : {}) }));
  }
  const results: LocalResult[] = [];
  for (const [index, recipient] of request.recipients.entries()) {
    const error = await attempt(() => deliverOnce({ ...spec, path: spec.path.replaceAll('%T', checkPathName(names[index]!)) }, request, [names[index]!]));
    results.push({ recipient, ...(error ? { error } : {}) });
  }
  return results;
}

async function deliverOnce(spec: MdaSpec, request: LocalDelivery, names: readonly string[]): Promise<void> {
  const { reversePath, env } = request;
  if (spec.kind === 'command') return deliverByCommand({ words: spec.words, reversePath, names, message: request.message(), env });
  if (spec.kind === 'maildir') {
    await deliverToMaildir(spec.path, reversePath, request.message());
    return;
  }
  return deliverToMbox(spec.path, reversePath, request.message());
}

async function attempt(step: () => Promise<void>): Promise<OutboxError | undefined> {
  try {
    await step();
    return undefined;
  } catch (error) {
    if (error instanceof OutboxError) return error;
    throw error;
  }
}

/** The results as one error for the direct send, or `undefined` when every recipient has the mail. */
export function localFailure(results: readonly LocalResult[]): OutboxError | undefined {
  const failed = results.filter((r) => r.error);
  if (failed.length === 0) return undefined;
  const first = failed[0]!.error!;
  if (failed.length === results.length && failed.every((r) => r.error === first)) return first;
  // Some delivered, some not (per-recipient mailboxes): name each, the first failure decides the status.
  const text = results.map((r) => `${r.recipient}: ${r.error ? r.error.message : 'delivered'}`).join('; ');
  return new OutboxError(first.code, `local delivery failed for ${failed.length} of ${results.length} recipients (${text})`, { transient: failed.every((r) => r.error!.transient) });
}
