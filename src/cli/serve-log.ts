/**
 * `outbox serve --log=none|syslog|FILE` (msmtpd's option): one line per
 * server event, appended to the file (src/log's appendLogLine) or sent to
 * syslog (facility mail). ServerLogEvent carries no password, and nothing
 * here adds one. A log that cannot be written is reported once on stderr;
 * mail keeps flowing.
 */
import { appendLogLine, logTimeStamp, sendToSyslog } from '../log/index.js';
import type { ServerLogEvent } from '../server/server-config.js';
import type { Stdio } from './stdio.js';

/** Logs one event; `settled()` resolves once every line logged so far is written (for tests and shutdown). */
export type ServerLogger = ((event: ServerLogEvent) => void) & { settled(): Promise<void> };

export function serverLogger(target: string, io: Pick<Stdio, 'writeErr'>): ServerLogger | undefined {
  if (target === 'none') return undefined;
  let reported = false;
  const report = (reason: string): void => {
    if (reported) return;
    reported = true;
    io.writeErr(`outbox serve: cannot log to ${target}: ${reason}\n`);
  };
  // Lines are written in order: each write waits for the one before.
  let queue: Promise<void> = Promise.resolve();
  const log = (event: ServerLogEvent): void => {
    const line = formatServerEvent(event);
    queue = queue.then(async () => {
      if (target === 'syslog') {
        const failure = await sendToSyslog(line, { facility: 'LOG_MAIL', severity: event.type === 'error' || event.type === 'auth-failed' ? 'err' : 'info', ident: 'outbox-serve' });
        if (failure) report(failure.reason);
      } else {
        const failure = await appendLogLine(target, `${logTimeStamp(undefined, new Date()) ?? new Date().toISOString()} ${line}`);
        if (failure) report(failure.reason);
      }
    });
  };
  return Object.assign(log, { settled: () => queue });
}

/** One line, key=value words where they help grep; never a password (events carry none). */
export function formatServerEvent(event: ServerLogEvent): string {
  switch (event.type) {
    case 'listening':
      return `listening on ${event.address} port ${event.port}`;
    case 'session':
      return `session ${event.phase} from=${event.remoteAddress || 'stdin'}`;
    case 'message':
      return `message from=${event.remoteAddress || 'stdin'} mailfrom=<${event.mailFrom}> recipients=${event.recipients.join(',')} size=${event.size} reply=${JSON.stringify(event.reply)}`;
    case 'auth-failed':
      return `authentication failed from=${event.remoteAddress || 'stdin'} user=${JSON.stringify(event.user)}`;
    case 'error':
      return `error from=${event.remoteAddress || 'stdin'}: ${event.message}`;
  }
}
