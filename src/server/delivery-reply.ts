/**
 * The reply (SMTP) or replies (LMTP, RFC 2033 §4.2) that end a message, made
 * from the backend's `Delivery`.
 */
import type { Delivery } from './backend.js';
import type { ReplySpec } from '../smtp/reply-format.js';

export const LOCAL_ERROR: ReplySpec = { code: 451, text: '4.3.0 Error: local error in processing' };

/** SMTP's one reply for the message. */
export function smtpReply(delivery: Delivery): ReplySpec {
  if (delivery.kind === 'delivered') return { code: 250, text: `2.0.0 Ok: queued as ${delivery.id}` };
  if (delivery.kind === 'refused') return delivery.reply;
  const failed = delivery.replies.find((reply) => reply.code >= 400);
  return failed ?? { code: 250, text: `2.0.0 Ok${delivery.id ? `: queued as ${delivery.id}` : ''}` };
}

/** LMTP's reply for the `index`th recipient the backend was given. */
export function lmtpReply(delivery: Delivery, index: number, address: string): ReplySpec {
  if (delivery.kind === 'delivered') return { code: 250, text: `2.0.0 ${recipientTag(address)}Ok: queued as ${delivery.id}` };
  if (delivery.kind === 'refused') return delivery.reply;
  return delivery.replies[index] ?? LOCAL_ERROR;
}

/** LMTP replies name the recipient, as long as it stays plain ASCII reply text. */
function recipientTag(address: string): string {
  return /^[\x20-\x7e]+$/.test(address) ? `<${address}> ` : '';
}
