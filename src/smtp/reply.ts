/**
 * SMTP replies (RFC 5321 §4.2) as data, and an incremental parser that turns
 * bytes from the server into them. The parser is pure: feed it any split of
 * the input and it yields the same replies.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 */
import { OutboxError, type ServerReply } from '../errors.js';

export interface Reply extends ServerReply {
  readonly code: number;
  readonly enhanced?: string;
  readonly lines: readonly string[];
}

export interface ReplyParserLimits {
  /** Longest reply line accepted, in octets without the line ending. RFC 5321 §4.5.3.1.5 says 512 with CRLF; servers exceed it, so we allow more. */
  maxLineLength: number;
  /** Most lines in one multi-line reply (msmtp stops at 50). */
  maxLines: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyParserLimits = { maxLineLength: 4096, maxLines: 100 };

const LF = 0x0a;
const CR = 0x0d;

/** Incremental reply parser: `push(bytes)` returns every reply completed by them. */
export class ReplyParser {
  private readonly limits: ReplyParserLimits;
  private partial: Buffer = Buffer.alloc(0);
  private pendingCode: number | undefined;
  private pendingLines: string[] = [];

  constructor(limits: ReplyParserLimits = DEFAULT_REPLY_LIMITS) {
    this.limits = limits;
  }

  /** True while part of a reply has been received but not its last line. */
  get midReply(): boolean {
    return this.partial.length > 0 || this.pendingCode !== undefined;
  }

  push(chunk: Uint8Array): Reply[] {
    const data = this.partial.length ? Buffer.concat([this.partial, chunk]) : Buffer.from(chunk);
    const replies: Reply[] = [];
    let start = 0;
    for (let lf = data.indexOf(LF, start); lf !== -1; lf = data.indexOf(LF, start)) {
      const end = lf > start && data[lf - 1] === CR ? lf - 1 : lf;
      const reply = this.acceptLine(data.subarray(start, end));
      if (reply) replies.push(reply);
      start = lf + 1;
    }
    this.partial = data.subarray(start);
    if (this.partial.length > this.limits.maxLineLength + 1) {
      throw protocolError(`reply line longer than ${this.limits.maxLineLength} octets`);
    }
    return replies;
  }

  private acceptLine(line: Buffer): Reply | undefined {
    if (line.length > this.limits.maxLineLength) {
      throw protocolError(`reply line longer than ${this.limits.maxLineLength} octets`);
    }
    const { code, last, text } = parseReplyLine(line);
    if (this.pendingCode !== undefined && code !== this.pendingCode) {
      throw protocolError(`multi-line reply mixes codes ${this.pendingCode} and ${code}`);
    }
    this.pendingCode = code;
    this.pendingLines.push(text);
    if (this.pendingLines.length > this.limits.maxLines) {
      throw protocolError(`reply longer than ${this.limits.maxLines} lines`);
    }
    if (!last) return undefined;
    const lines = this.pendingLines;
    this.pendingCode = undefined;
    this.pendingLines = [];
    return makeReply(code, lines);
  }
}

function parseReplyLine(line: Buffer): { code: number; last: boolean; text: string } {
  const d0 = line[0], d1 = line[1], d2 = line[2];
  const ok =
    d0 !== undefined && d1 !== undefined && d2 !== undefined &&
    d0 >= 0x32 && d0 <= 0x35 && d1 >= 0x30 && d1 <= 0x35 && d2 >= 0x30 && d2 <= 0x39;
  const separator = line[3];
  if (!ok || (line.length > 3 && separator !== 0x20 && separator !== 0x2d)) {
    throw protocolError(`the server sent something that is not an SMTP reply: ${quoteForError(line)}`);
  }
  const code = (d0 - 0x30) * 100 + (d1 - 0x30) * 10 + (d2 - 0x30);
  const text = line.length > 4 ? line.subarray(4).toString('utf8') : '';
  return { code, last: separator !== 0x2d, text };
}

/** Builds a reply, extracting an RFC 2034/3463 enhanced status code whose class matches the reply code. */
export function makeReply(code: number, lines: readonly string[]): Reply {
  const enhanced = enhancedCodeOf(code, lines[0] ?? '');
  return enhanced ? { code, enhanced, lines } : { code, lines };
}

/** RFC 3463's status-code at the start of a reply line: class "." subject "." detail, then a space or the end. */
export const ENHANCED_STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})(?: |$)/;

function enhancedCodeOf(code: number, text: string): string | undefined {
  const m = ENHANCED_STATUS.exec(text);
  if (!m || Number(m[1]) !== Math.floor(code / 100)) return undefined;
  return `${m[1]}.${m[2]}.${m[3]}`;
}

function protocolError(message: string): OutboxError {
  return new OutboxError('E_PROTOCOL', message);
}

/** Shows at most 80 bytes of what the server sent, with control characters escaped. */
function quoteForError(line: Buffer): string {
  const shown = line.subarray(0, 80).toString('latin1');
  const escaped = shown.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return JSON.stringify(line.length > 80 ? `${escaped}…` : escaped);
}
