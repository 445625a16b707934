/**
 * Moves the message from its source to the server after the 354 reply: line
 * endings normalised to CRLF (unless the source, the spool, declares it is
 * already), dot-stuffed, each input chunk written as one
 * block, with the socket's back-pressure respected so memory stays bounded
 * whatever the message size. The final "." is written with the last block.
 */
import { OutboxError } from '../errors.js';
import { toBuffer, type MessageSource } from '../message/header-reader.js';
import { lineEndingsFor } from '../message/line-endings.js';
import type { Command } from '../smtp/command.js';
import type { SmtpConnection } from '../smtp/connection.js';
import { DotStuffer } from '../smtp/dot-stuffing.js';


/**
 * Returns the message size in octets after normalisation (before stuffing).
 * Each block is written when the next one is read, so the last block goes out
 * in the same write as the final "." (one segment fewer for a small mail).
 * At most one chunk of the source is held back, and it is written before the
 * chunk after the next is asked for: a spool's reused read buffers
 * (message/spool.ts) rely on that.
 */
export async function streamMessage(connection: SmtpConnection, source: MessageSource, next: readonly Command[] = []): Promise<number> {
  const normalizer = lineEndingsFor(source);
  const stuffer = new DotStuffer();
  let octets = 0;
  let pending: Buffer | undefined;
  for await (const chunk of readSource(source)) {
    const normalized = normalizer.push(chunk);
    if (normalized.length === 0) continue;
    octets += normalized.length;
    if (pending) await connection.writeData([pending]);
    pending = stuffer.push(normalized);
  }
  const tail = normalizer.end();
  octets += tail.length;
  const last = [pending, stuffer.push(tail), stuffer.end()].filter((b): b is Buffer => b !== undefined && b.length > 0);
  await connection.finishData(last, octets, next);
  return octets;
}

/** The source's chunks as Buffers; a failing source (stdin closed with an error) is an I/O error, never an end of message. */
async function* readSource(source: MessageSource): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) {
      yield toBuffer(chunk);
    }
  } catch (error) {
    if (error instanceof OutboxError) throw error;
    throw new OutboxError('E_IO', `cannot read the mail: ${(error as Error).message}`, { cause: error });
  }
}
