/**
 * The message layer in one call, for the CLI: read the header block, learn
 * what it says about the envelope (`-t`, `--read-envelope-from`), let the
 * caller choose the settings from that (the account may depend on the
 * envelope-from read from the mail), rewrite the header, and spool the whole
 * message with its size and 8-bit-ness known before anything is sent.
 */
import type { HeaderBlock } from './header-block.js';
import { readHeader, type MessageSource } from './header-reader.js';
import { envelopeFromHeader, recipientsFromHeader } from './recipients.js';
import { rewriteHeader, type RewriteSettings } from './rewrite.js';
import { spoolMessage, type Spool, type SpoolOptions } from './spool.js';

export interface HeaderInfo {
  /** The header block as the mail had it. */
  readonly original: HeaderBlock;
  /** With `readRecipients`: the recipients from To/Cc/Bcc (or the first Resent block); otherwise empty. */
  readonly recipients: readonly string[];
  /** With `readEnvelopeFrom`: the address from From (or Resent-From when it comes first); undefined when there is none. */
  readonly envelopeFrom: string | undefined;
}

export interface PrepareOptions {
  /** `-t`: read the recipients from the header. */
  readonly readRecipients?: boolean;
  /** `--read-envelope-from`: read the envelope-from from the header. */
  readonly readEnvelopeFrom?: boolean;
  /** The rewrite settings, or a function that picks them once the header is read. */
  readonly settings: RewriteSettings | ((info: HeaderInfo) => RewriteSettings | Promise<RewriteSettings>);
  /** The largest header block accepted (default 1 MiB). */
  readonly maxHeaderBytes?: number;
  readonly spool?: SpoolOptions;
}

export interface PreparedMessage {
  readonly info: HeaderInfo;
  /** The header block as it is sent. */
  readonly header: HeaderBlock;
  /** The whole message as it is sent, CRLF throughout, with its counts. The caller disposes it. */
  readonly spool: Spool;
  /** The line of the mail as given (not as rewritten) with the first NUL byte; undefined without one. */
  readonly firstNulInputLine: number | undefined;
}

export async function prepareMessage(source: MessageSource, options: PrepareOptions): Promise<PreparedMessage> {
  const { header, body } = await readHeader(source, { maxHeaderBytes: options.maxHeaderBytes });
  const info: HeaderInfo = {
    original: header,
    recipients: options.readRecipients ? recipientsFromHeader(header) : [],
    envelopeFrom: options.readEnvelopeFrom ? envelopeFromHeader(header) : undefined,
  };
  const settings = typeof options.settings === 'function' ? await options.settings(info) : options.settings;
  const rewritten = rewriteHeader(header, settings);
  const head = rewritten.serialize();
  const spool = await spoolMessage(concat(head, body), options.spool);
  return { info, header: rewritten, spool, firstNulInputLine: inputLine(spool.firstNulLine, head, header) };
}

async function* concat(head: Buffer, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (head.length > 0) yield head;
  yield* body;
}

/** A line of the spooled message as a line of the input (NULs can only be in the body: the reader refuses them in the header). */
function inputLine(spooledLine: number | undefined, head: Buffer, original: HeaderBlock): number | undefined {
  if (spooledLine === undefined) return undefined;
  let headLines = 0;
  for (let i = head.indexOf(0x0a); i !== -1; i = head.indexOf(0x0a, i + 1)) headLines++;
  return original.bodyStartLine + (spooledLine - headLines - 1);
}
