/**
 * The bounce for a mail the queue gives up on: an RFC 3464 report
 * (message/delivery-report.ts) to the envelope sender, queued like any mail,
 * with the null reverse-path so that it is never bounced in turn. A mail whose
 * sender is already null gets none (no bounce of a bounce).
 */
import { open } from 'node:fs/promises';
import { buildDeliveryReport, type ReportRecipient } from '../message/delivery-report.js';
import type { QueueRecord } from './record.js';
import type { NewRecord } from './store.js';

/** The original header is read up to its blank line, at most this much of it. */
const MAX_HEADER_OCTETS = 1024 * 1024;

export interface BounceContext {
  /** Our name in the report (the account's EHLO domain, else the host name). */
  readonly reportingMta: string;
  /** The server that refused, when known. */
  readonly remoteMta?: string;
}

export interface Bounce {
  readonly message: AsyncIterable<Uint8Array>;
  readonly record: NewRecord;
}

/** The bounce to queue for `record`, or undefined when its sender is null. */
export async function makeBounce(record: QueueRecord, messagePath: string, now: Date, context: BounceContext): Promise<Bounce | undefined> {
  if (record.from === '') return undefined;
  const recipients = record.recipients.filter((r) => r.state === 'failed').map((r): ReportRecipient => ({
    address: r.address,
    action: 'failed',
    status: '',
    ...(r.reply ? { reply: r.reply } : { diagnostic: record.last_error ?? 'delivery failed' }),
    ...(r.reply && context.remoteMta ? { remoteMta: context.remoteMta } : {}),
    ...(record.last_attempt ? { lastAttempt: new Date(record.last_attempt) } : {}),
  }));
  if (recipients.length === 0) return undefined;
  const report = buildDeliveryReport({
    reportingMta: context.reportingMta,
    postmaster: `MAILER-DAEMON@${context.reportingMta}`,
    to: record.from,
    ...(record.envid !== undefined ? { envid: record.envid } : {}),
    arrivalDate: new Date(record.queued_at),
    now,
    recipients,
    originalHeader: await readHeader(messagePath),
  });
  const has8bit = report.some((octet) => octet >= 0x80);
  return {
    message: (async function* () {
      yield report;
    })(),
    record: {
      account: record.account,
      from: '',
      recipients: [{ address: record.from, state: 'pending', reply: null }],
      has8bit,
      chunking: record.chunking,
      queued_at: now.toISOString(),
      attempts: 0,
      next_attempt: now.toISOString(),
      last_attempt: null,
      last_error: null,
    },
  };
}

/** The header block of the stored mail (CRLF), without the blank line that ends it. */
async function readHeader(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_HEADER_OCTETS);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead);
    if (text.subarray(0, 2).equals(Buffer.from('\r\n'))) return Buffer.alloc(0);
    const end = text.indexOf('\r\n\r\n');
    return Buffer.from(end < 0 ? text : text.subarray(0, end));
  } finally {
    await handle.close();
  }
}
