/**
 * The progress line of a flush, on a terminal only: one line rewritten in
 * place ("outbox: 37 of 1000 delivered, 2 deferred, 1 failed"), then a
 * summary. Off a terminal (cron, a timer) nothing is printed: cron would mail
 * it, and the log file says what happened to each mail.
 */
import type { FlushEvent, FlushReport } from '../queue/flush.js';
import type { Stdio } from './stdio.js';

export interface Progress {
  update(event: FlushEvent): void;
  done(report: FlushReport): void;
}

const SILENT: Progress = { update: () => {}, done: () => {} };

export function progressLine(io: Pick<Stdio, 'writeErr' | 'errIsTerminal'>): Progress {
  if (!io.errIsTerminal) return SILENT;
  const counts = { delivered: 0, deferred: 0, failed: 0 };
  let shown = false;
  const line = () => `outbox: ${counts.delivered} delivered, ${counts.deferred} deferred, ${counts.failed} failed`;
  return {
    update(event) {
      if (event.kind === 'corrupt') return;
      counts[event.kind]++;
      io.writeErr(`\r${line()}\x1b[K`);
      shown = true;
    },
    done(report) {
      if (!shown) return;
      io.writeErr(`\r${line()}; ${report.remaining} still queued\x1b[K\n`);
    },
  };
}
