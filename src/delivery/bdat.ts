/**
 * CHUNKING (RFC 3030): the message goes as `BDAT <size>` chunks instead of
 * DATA — no 354 to wait for and no dot-stuffing. A small message is one
 * `BDAT <size> LAST` that ends the pipelined envelope group, so MAIL, the
 * RCPTs and the whole message leave in one write. A large one is streamed
 * in chunks, each command line and its data in one write, with at most a
 * window of chunk replies outstanding (one without PIPELINING).
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import { toBuffer, type MessageSource } from '../message/header-reader.js';
import { lineEndingsFor } from '../message/line-endings.js';
import type { SmtpConnection } from '../smtp/connection.js';
import type { Reply } from '../smtp/reply.js';
import type { MessageFacts } from './envelope.js';

/** Messages up to this size go whole, in the envelope's group. */
const SINGLE_CHUNK_LIMIT = 256 * 1024;
/** Chunk replies that may be outstanding while more chunks are sent (with PIPELINING). */
const WINDOW = 8;

/** The whole message, CRLF throughout, when the facts say it is small enough for one chunk. */
export async function smallMessage(source: MessageSource, facts: MessageFacts | undefined): Promise<Buffer | undefined> {
  if (!facts || facts.octets > SINGLE_CHUNK_LIMIT) return undefined;
  const normalizer = lineEndingsFor(source);
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(Buffer.from(normalizer.push(toBuffer(chunk))));
  parts.push(normalizer.end());
  return Buffer.concat(parts);
}

/**
 * Streams the message as chunks; the last one carries LAST. Each chunk of
 * the source is written when the next is read (the spool's reused buffers
 * rely on it, as in message-stream.ts). Returns the size and the reply to
 * BDAT LAST; a refused intermediate chunk fails at once.
 */
export async function sendChunks(connection: SmtpConnection, source: MessageSource, pipelining: boolean): Promise<{ octets: number; lastReply: Reply }> {
  const window = pipelining ? WINDOW : 1;
  const normalizer = lineEndingsFor(source);
  let outstanding = 0;
  let octets = 0;
  let pending: Buffer | undefined;
  for await (const chunk of source) {
    const normalized = normalizer.push(toBuffer(chunk));
    if (normalized.length === 0) continue;
    octets += normalized.length;
    if (pending) {
      await connection.sendChunk(pending, false);
      if (++outstanding >= window) {
        checkChunkReply(await connection.readChunkReply(false));
        outstanding--;
      }
    }
    pending = normalized;
  }
  const tail = normalizer.end();
  octets += tail.length;
  await connection.sendChunk(pending ? Buffer.concat([pending, tail]) : tail, true);
  for (; outstanding > 0; outstanding--) checkChunkReply(await connection.readChunkReply(false));
  return { octets, lastReply: await connection.readChunkReply(true) };
}

function checkChunkReply(reply: Reply): void {
  if (reply.code === 250) return;
  throw new OutboxError('E_MESSAGE_REJECTED', `the server did not accept a chunk of the mail (BDAT): ${describeReply(reply)}`, {
    transient: isTransientReply(reply),
    reply,
    command: 'BDAT',
  });
}
