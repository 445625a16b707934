/**
 * The arguments of MAIL and RCPT (RFC 5321 §4.1.1.2–3) checked before the
 * session asks the backend: the path, its ESMTP parameters against what
 * the server offers, and SMTPUTF8 for a non-ASCII address (RFC 6531). Pure:
 * the session keeps the state (hello, transaction, AUTH) and the replies.
 */
import type { EsmtpParamMap } from '../smtp/syntax.js';
import { parseParams, parsePath } from '../smtp/syntax.js';
import { checkMailParams, checkRcptParams, type Offer } from './extensions.js';
import type { ReplySpec } from '../smtp/reply-format.js';

export interface EnvelopeArgument {
  readonly ok: true;
  readonly address: string;
  readonly params: EsmtpParamMap;
}

/** A refusal; `protocolError` says whether it counts towards the session's error limit (a syntax error does). */
export interface EnvelopeRefusal {
  readonly ok: false;
  readonly reply: ReplySpec;
  readonly protocolError: boolean;
}

export interface MailContext {
  /** EHLO or LHLO rather than HELO: parameters are allowed. */
  readonly extended: boolean;
  readonly sizeLimit: number;
  readonly offer: Offer;
  /** The product server: a Local-part alone (`<root>`) and the full parameter set. */
  readonly full: boolean;
}

const NEED_SMTPUTF8: EnvelopeRefusal = {
  ok: false,
  reply: { code: 553, text: '5.6.7 Error: non-ASCII address needs MAIL FROM parameter SMTPUTF8' },
  protocolError: true,
};

export function parseMailArgument(args: string | undefined, context: MailContext): EnvelopeArgument | EnvelopeRefusal {
  if (args === undefined || args.slice(0, 5).toUpperCase() !== 'FROM:') return syntaxError('5.5.4 Syntax: MAIL FROM:<address>');
  const path = parsePath(args.slice(5), { allowNull: true, allowLocalPart: context.full });
  if (!path.ok) return syntaxError(`5.1.7 Bad sender address: ${path.why}`);
  const params = parseParams(path.value.rest);
  if (!params.ok) return syntaxError(`5.5.4 ${params.why}`);
  const refusal = checkMailParams(params.value, context.extended, context.sizeLimit, context.offer);
  if (refusal) return { ok: false, reply: refusal, protocolError: false };
  if (path.value.nonAscii && params.value['SMTPUTF8'] !== true) return NEED_SMTPUTF8;
  return { ok: true, address: path.value.address, params: params.value };
}

/** `smtputf8`: the transaction's MAIL carried SMTPUTF8. */
export function parseRcptArgument(args: string | undefined, full: boolean, smtputf8: boolean): EnvelopeArgument | EnvelopeRefusal {
  if (args === undefined || args.slice(0, 3).toUpperCase() !== 'TO:') return syntaxError('5.5.4 Syntax: RCPT TO:<address>');
  const path = parsePath(args.slice(3), { allowPostmaster: true, allowLocalPart: full });
  if (!path.ok) return syntaxError(`5.1.3 Bad recipient address: ${path.why}`);
  const params = parseParams(path.value.rest);
  if (!params.ok) return syntaxError(`5.5.4 ${params.why}`);
  const refusal = checkRcptParams(params.value, full);
  if (refusal) return { ok: false, reply: refusal, protocolError: false };
  if (path.value.nonAscii && !smtputf8) return NEED_SMTPUTF8;
  return { ok: true, address: path.value.address, params: params.value };
}

function syntaxError(text: string): EnvelopeRefusal {
  return { ok: false, reply: { code: 501, text }, protocolError: true };
}
