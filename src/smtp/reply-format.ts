/**
 * Replies as a server writes them (RFC 5321 §4.2), the inverse of
 * `reply.ts`'s parser:
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 *
 * `outbox serve` writes every reply through here. The parser and this writer
 * share only the enhanced-code grammar (`ENHANCED_STATUS`); the round trip
 * between them is a property test (test/unit/reply-format.test.ts), and the
 * client's replies are also checked against servers that are not ours.
 */
import { ENHANCED_STATUS } from './reply.js';

/**
 * A reply as a program states it (a backend, a hook, the server itself):
 * `text` may start with an enhanced code (RFC 3463), and "\n" separates the
 * lines of a multi-line reply.
 */
export interface ReplySpec {
  readonly code: number;
  readonly text: string;
}

/**
 * Formats one reply. `text` is one line or several; each becomes its own
 * reply line, all but the last with the "-" continuation separator.
 */
export function formatReply(code: number, text: string | readonly string[]): string {
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new RangeError(`reply code ${code} is not a three-digit SMTP code`);
  }
  const lines = typeof text === 'string' ? [text] : text;
  if (lines.length === 0) throw new RangeError('a reply needs at least one line');
  return lines
    .map((line, index) => {
      // A CR or LF in reply text would let a hook forge extra reply lines.
      if (/[\r\n]/.test(line)) throw new RangeError('reply text must not contain CR or LF');
      const separator = index === lines.length - 1 ? ' ' : '-';
      return `${code}${separator}${line}\r\n`;
    })
    .join('');
}

/**
 * A stated reply, made honest for a server that advertises
 * ENHANCEDSTATUSCODES (RFC 2034 §3): every line of a 2xx/4xx/5xx reply
 * carries an enhanced code, so `X.0.0` is added where the text left it out.
 */
export function formatSpec(spec: ReplySpec): string {
  const cls = Math.floor(spec.code / 100);
  const lines = spec.text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (cls === 3) return formatReply(spec.code, lines);
  return formatReply(
    spec.code,
    lines.map((line) => (ENHANCED_STATUS.test(line) ? line : `${cls}.0.0 ${line}`.trimEnd())),
  );
}

/** The lines of formatted replies without their CRLF, for a transcript. */
export function replyLines(formatted: string): string[] {
  return formatted.split('\r\n').filter((line) => line !== '');
}
