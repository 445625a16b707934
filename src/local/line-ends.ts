/**
 * The mail reaches a local mailbox or MDA with LF line endings, the local
 * convention (msmtpd's pipe, Postfix's pipe and local, esmtp and procmail all
 * hand LF to the next program): each CRLF of the spooled message (CRLF
 * throughout) becomes LF. A CR that is not before an LF stays. Streaming: a
 * CR at the end of one chunk waits for the next chunk's first byte. Every
 * chunk yielded is a new buffer, so the spool's reused buffers are never
 * held by a pipe or a pending write.
 */
export async function* withLocalLineEnds(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let heldCr = false;
  for await (const input of chunks) {
    const chunk = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (chunk.length === 0) continue;
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let n = 0;
    if (heldCr && chunk[0] !== 0x0a) out[n++] = 0x0d;
    heldCr = false;
    let i = 0;
    while (i < chunk.length) {
      const cr = chunk.indexOf(0x0d, i);
      const end = cr < 0 ? chunk.length : cr;
      n += chunk.copy(out, n, i, end);
      if (cr < 0) break;
      if (cr + 1 === chunk.length) heldCr = true;
      else if (chunk[cr + 1] !== 0x0a) out[n++] = 0x0d;
      i = cr + 1;
    }
    if (n > 0) yield out.subarray(0, n);
  }
  if (heldCr) yield Buffer.from([0x0d]);
}
