/**
 * Replies as the server writes them (RFC 5321 §4.2):
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 *
 * The server keeps its own small formatter instead of reusing `smtp/reply.ts`:
 * the capture server is the oracle the client's tests trust, so it must not
 * share the client's idea of what a reply looks like.
 */

/** A reply chosen by a test hook: `text` may start with an enhanced code. */
export interface ReplySpec {
  readonly code: number;
  readonly text: string;
}

const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;

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
 * A hook's reply, made honest for a server that advertises
 * ENHANCEDSTATUSCODES (RFC 2034 §3): every line of a 2xx/4xx/5xx reply
 * carries an enhanced code, so `X.0.0` is added where the hook left it out.
 * A `text` with "\n" becomes a multi-line reply.
 */
export function formatSpec(spec: ReplySpec): string {
  const cls = Math.floor(spec.code / 100);
  const lines = spec.text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (cls === 3) return formatReply(spec.code, lines);
  return formatReply(
    spec.code,
    lines.map((line) => (ENHANCED_CODE.test(line) ? line : `${cls}.0.0 ${line}`.trimEnd())),
  );
}

/** The lines of formatted replies without their CRLF, for the transcript. */
export function replyLines(formatted: string): string[] {
  return formatted.split('\r\n').filter((line) => line !== '');
}
