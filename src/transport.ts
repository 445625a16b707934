/**
 * The byte pipe the protocol core talks through. `src/net/` implements it over
 * TCP, TLS, unix sockets and SOCKS; tests implement it in memory. The core
 * never sees a socket.
 *
 * It lives at the root, beside errors.ts, because both `smtp/` (which uses
 * it) and `net/` (which implements it) need it and neither may import the
 * other: this is the lowest layer both stand on.
 */
export interface Transport {
  /**
   * Writes the chunks as one write on the wire where the transport can (one
   * pipelined group, one data block), and resolves once they are accepted.
   * Rejects with E_TIMEOUT when the peer stops reading for `timeoutMs`, and
   * with E_CONNECTION when the connection is gone.
   */
  write(chunks: readonly Uint8Array[], timeoutMs: number): Promise<void>;
  /** The next bytes from the peer, or null at the end of the stream. Rejects with E_TIMEOUT after `timeoutMs`. */
  read(timeoutMs: number): Promise<Uint8Array | null>;
  /** Flushes what was written, then closes our side. */
  end(): void;
  /** Closes at once; nothing more is sent. Used to abort a transaction in data mode. */
  destroy(): void;
  /** Where we are connected, for messages and logs. */
  readonly peer: string;
  /** The peer's IP address, when the transport has one (for --serverinfo). */
  readonly remoteAddress?: string | undefined;
  /**
   * TLS channel-binding data for SCRAM-…-PLUS, when the transport is TLS:
   * `tls-exporter` on TLS 1.3 (RFC 9266), `tls-unique` on TLS 1.2 (RFC 5929).
   */
  channelBinding?(): { readonly type: 'tls-exporter' | 'tls-unique'; readonly data: Uint8Array } | undefined;
}
