/**
 * What an MDA's exit says (issue 15). sysexits.h codes that mean "try again
 * later" are temporary, the table msmtpd answers 451 for (and outbox serve's
 * command backend uses): EX_NOHOST (68), EX_UNAVAILABLE (69), EX_OSERR (71),
 * EX_TEMPFAIL (75). Any other non-zero status is permanent; a signal
 * (killed, crashed, our time limit) is temporary, as Postfix's pipe defers
 * it. The error names the program by its file name only, never its
 * arguments (which may hold anything the user wrote), and the status by
 * its sysexits name.
 */
import { basename } from 'node:path';
import { OutboxError } from '../errors.js';
import { EXIT_CODE_NAMES } from '../log/log-record.js';

export const TEMPORARY_MDA_STATUSES: ReadonlySet<number> = new Set([68, 69, 71, 75]);

/** `undefined` when the MDA delivered (exit 0); otherwise the failure, transient or not. */
export function mdaExitError(program: string, status: number | null, signal: string | null): OutboxError | undefined {
  const name = basename(program);
  if (status === 0) return undefined;
  if (status === null) {
    return new OutboxError('E_MDA_FAILED', `local delivery failed: the MDA ${name} was killed by ${signal ?? 'a signal'}`, { transient: true });
  }
  const named = EXIT_CODE_NAMES[status];
  const text = `local delivery failed: the MDA ${name} exited with status ${status}${named ? ` (${named})` : ''}`;
  return new OutboxError('E_MDA_FAILED', text, { transient: TEMPORARY_MDA_STATUSES.has(status) });
}

/** The MDA could not be started: a missing or non-executable program is a configuration matter (permanent); a lack of resources is not. */
export function mdaSpawnError(program: string, error: NodeJS.ErrnoException): OutboxError {
  const permanent = ['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'ELOOP', 'ENOEXEC'].includes(error.code ?? '');
  return new OutboxError('E_MDA_FAILED', `local delivery failed: the MDA ${basename(program)} could not be run (${error.code ?? error.message})`, { transient: !permanent, cause: error });
}

/** A write to a mailbox file failed: a full disk or quota passes, a permission or a wrong path does not. */
export function mailboxError(kind: 'maildir' | 'mbox', error: unknown): OutboxError {
  if (error instanceof OutboxError) return error;
  const code = (error as NodeJS.ErrnoException)?.code ?? '';
  const permanent = ['EACCES', 'EPERM', 'ENOTDIR', 'EISDIR', 'ELOOP', 'EROFS', 'ENAMETOOLONG'].includes(code);
  const reason = code || (error instanceof Error ? error.message : String(error));
  return new OutboxError('E_MDA_FAILED', `local delivery failed: the ${kind} could not be written (${reason})`, { transient: !permanent, cause: error });
}
