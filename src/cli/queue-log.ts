/**
 * The queue in the log file and syslog: a line when a send queues a mail,
 * and one per attempt of a flush, in the account's format (msmtp's line with
 * `queue=` and `queueid=` before the exit code, or the JSON object with a
 * `queue` member). The exit code is the one that attempt would have had as a
 * direct send: EX_OK delivered or queued, EX_TEMPFAIL deferred, the failure's
 * status when given up.
 */
import type { ReadyAccount } from '../config/index.js';
import type { LogRecord, QueueEvent } from '../log/index.js';
import type { FlushEvent } from '../queue/flush.js';
import type { QueueRecord } from '../queue/record.js';
import { EX_OK, EX_TEMPFAIL, EX_UNAVAILABLE } from './exit-status.js';
import type { ChainReport } from './fallback-send.js';
import { accountLogFields, failoverFields, writeLogRecord } from './mail-log.js';
import type { Stdio } from './stdio.js';

const STATUS: Readonly<Record<QueueEvent, number>> = { queued: EX_OK, delivered: EX_OK, deferred: EX_TEMPFAIL, failed: EX_UNAVAILABLE };

export function queueLogRecord(record: QueueRecord, event: QueueEvent, account: ReadyAccount, detail?: string): LogRecord {
  const last = lastReply(record);
  const exitStatus = STATUS[event];
  return {
    ...accountLogFields(account),
    from: record.from,
    recipients: record.recipients.map((r) => r.address),
    ...(exitStatus === EX_OK ? { mailsize: record.size } : {}),
    ...(last ? { reply: { code: last.code, lines: [last.text], ...(last.enhanced ? { enhanced: last.enhanced } : {}) } } : {}),
    ...(exitStatus !== EX_OK ? { errormsg: detail ?? record.last_error ?? 'not delivered' } : {}),
    exitStatus,
    perRecipient: record.recipients.map((r) => ({
      recipient: r.address,
      delivered: r.state === 'delivered',
      ...(r.reply ? { code: r.reply.code, text: r.reply.text, ...(r.reply.enhanced ? { enhanced: r.reply.enhanced } : {}) } : {}),
    })),
    startedAt: new Date(record.last_attempt ?? record.queued_at),
    queue: { id: record.id, event },
  };
}

/** The line for one event of a flush; an account that could not be found logs nothing (it has no log settings to use). */
export async function logQueueEvent(event: FlushEvent, account: ReadyAccount | undefined, io: Pick<Stdio, 'writeOut' | 'writeErr'>, chain?: ChainReport): Promise<void> {
  if (event.kind === 'corrupt' || !account || (account.logfile === null && account.syslog === null)) return;
  const detail = event.kind === 'failed' ? failureDetail(event) : undefined;
  // After a fall-over (issue 16) the line is about the account the session went through, as a direct send's.
  await writeLogRecord(account, { ...queueLogRecord(event.record, event.kind, account, detail), ...failoverFields(chain) }, io);
}

function failureDetail(event: Extract<FlushEvent, { kind: 'failed' }>): string {
  const reason = event.record.last_error ?? 'refused';
  return event.bounce ? `${reason}; returned to the sender (bounce ${event.bounce})` : `${reason}; kept in ${event.keptIn ?? 'the failed folder'}, no bounce`;
}

/** The newest reply about any recipient, for smtpstatus/smtpmsg. */
function lastReply(record: QueueRecord) {
  const replies = record.recipients.map((r) => r.reply).filter((r) => r !== null);
  return replies.at(-1);
}
