/**
 * The queue listing as text: one block per mail, its recipients each with
 * their state and last reply, then a total. An empty queue prints Postfix's
 * "Mail queue is empty", which scripts already look for.
 */
import type { ListedMail, QueueListing } from '../queue/listing.js';

export const EMPTY_QUEUE = 'Mail queue is empty';

export function renderQueueListing(listing: QueueListing, now: Date): string {
  if (listing.mails.length === 0) return `${EMPTY_QUEUE}\n`;
  const blocks = listing.mails.map((mail) => renderMail(mail, now));
  const octets = listing.mails.reduce((sum, m) => sum + m.size, 0);
  const count = listing.mails.length;
  return `${blocks.join('\n')}\n-- ${count} mail${count === 1 ? '' : 's'}, ${formatSize(octets)}\n`;
}

function renderMail(mail: ListedMail, now: Date): string {
  const head = [
    `${mail.id}${mail.status === 'active' ? '*' : ''}`,
    formatSize(mail.size),
    `queued ${formatAge(now.getTime() - Date.parse(mail.queued_at))} ago`,
    `account ${mail.account || '(command line)'}`,
    `from <${mail.from}>`,
  ].join('  ');
  const width = Math.max(...mail.recipients.map((r) => r.address.length + 2));
  // Addresses are padded only to line up the replies after them: no trailing blanks.
  const recipients = mail.recipients.map((r) => `  ${r.state.padEnd(9)}  ${r.reply ? `${`<${r.address}>`.padEnd(width)}  ${r.reply}` : `<${r.address}>`}`);
  const attempts = [`  attempts ${mail.attempts}`];
  if (mail.status === 'active') attempts.push('being delivered now');
  else if (mail.recipients.some((r) => r.state === 'pending')) attempts.push(`next attempt ${formatNext(Date.parse(mail.next_attempt) - now.getTime())}`);
  if (mail.last_error) attempts.push(`last error: ${mail.last_error}`);
  return [head, ...recipients, attempts.join('; ')].join('\n');
}

/** "512 B", "2.1 KiB", "1.0 GiB". */
export function formatSize(octets: number): string {
  if (octets < 1024) return `${octets} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = octets / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** "45s", "3m", "2h", "4d": the largest unit that fits. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

function formatNext(ms: number): string {
  return ms <= 0 ? 'due now' : `in ${formatAge(ms)}`;
}
