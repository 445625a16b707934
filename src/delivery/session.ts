/**
 * Opening and closing an SMTP/LMTP session, shared by sending, `--serverinfo`
 * and ETRN. It reads like the RFCs: connect (TLS first for implicit TLS),
 * greeting, EHLO, STARTTLS and EHLO again when asked, and one way out:
 * `close()`.
 */
import { OutboxError } from '../errors.js';
import { connectTcp, type Connector, type Resolve } from '../net/connector.js';
import type { TlsSessionInfo } from '../net/tls-policy.js';
import type { Capabilities } from '../smtp/capabilities.js';
import { SmtpConnection, type ConnectionOptions, type TraceEvent } from '../smtp/connection.js';
import type { Reply } from '../smtp/reply.js';
import type { Timeouts } from '../smtp/timeouts.js';
import { hello, readGreeting, type Protocol } from './hello.js';
import { negotiateStartTls, type TlsSetup } from './starttls.js';
import type { PreparedTls } from '../net/tls-options.js';

export type { Protocol } from './hello.js';

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** The EHLO/LHLO argument. */
  readonly domain: string;
  readonly timeouts: Timeouts;
  /** False turns CHUNKING (BDAT) off for a server that offers it but gets it wrong. Default true. */
  readonly chunking?: boolean;
  /** TLS as asked for; absent or mode `off`: plain TCP. */
  readonly tls?: TlsSetup;
  /** Bind the outgoing connection to this address (msmtp's source_ip). */
  readonly sourceAddress?: string;
  /** A unix-domain socket instead of host and port (msmtp's socket). */
  readonly socketPath?: string;
  /** A SOCKS5 proxy that connects to the host (msmtp's proxy_host and proxy_port). */
  readonly proxy?: { readonly host: string; readonly port: number };
  readonly connector?: Connector;
  readonly resolve?: Resolve;
  readonly trace?: (event: TraceEvent) => void;
  /** Told the TLS session's parameters and certificate once the handshake is done (for --debug). */
  readonly onTls?: (info: TlsSessionInfo) => void;
}

export class Session {
  readonly connection: SmtpConnection;
  readonly protocol: Protocol;
  readonly greeting: Reply;
  readonly capabilities: Capabilities;
  /** The TLS session, when there is one. */
  readonly tls: TlsSessionInfo | undefined;
  /** BDAT may be used when the server offers CHUNKING. */
  readonly chunking: boolean;
  /** Set between a 354 reply and the end of the data: nothing but message data may be sent then. */
  inData = false;
  /** A transaction holds data that must not be delivered (a chunk sent before a refusal): RSET before QUIT. */
  resetBeforeQuit = false;
  private closed = false;

  constructor(connection: SmtpConnection, protocol: Protocol, greeting: Reply, capabilities: Capabilities, tls: TlsSessionInfo | undefined, chunking = true) {
    this.connection = connection;
    this.protocol = protocol;
    this.greeting = greeting;
    this.capabilities = capabilities;
    this.tls = tls;
    this.chunking = chunking;
  }

  /**
   * Ends the session. When the connection is still usable, QUIT is sent and
   * our side closed without waiting for the 221: the outcome is already known.
   * Mid-data or after a network, protocol or TLS failure the connection is
   * dropped, which also makes the server discard an unfinished message
   * (RFC 5321 §4.1.1.4).
   */
  async close(failure?: unknown): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inData || !connectionUsable(failure)) {
      this.connection.transport.destroy();
      return;
    }
    await sendQuit(this.connection, this.resetBeforeQuit);
  }
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const connector = options.connector ?? connectTcp;
  const mode = options.tls?.policy.mode ?? 'off';
  let transport = await connector({
    host: options.host,
    port: options.port,
    timeoutMs: options.timeouts.connect,
    ...(options.resolve ? { resolve: options.resolve } : {}),
    ...(options.sourceAddress ? { sourceAddress: options.sourceAddress } : {}),
    ...(options.socketPath ? { socketPath: options.socketPath } : {}),
    ...(options.proxy ? { proxy: options.proxy } : {}),
  });
  let tlsInfo: TlsSessionInfo | undefined;
  const connectionOptions: ConnectionOptions = { timeouts: options.timeouts, ...(options.trace ? { trace: options.trace } : {}) };
  if (mode === 'tls') {
    try {
      ({ transport, info: tlsInfo } = await options.tls!.startTls(transport, options.host, options.tls!.policy, options.timeouts.connect));
      options.onTls?.(tlsInfo);
    } catch (error) {
      transport.destroy();
      throw error;
    }
  }
  let connection = new SmtpConnection(transport, connectionOptions);
  const prepared = mode === 'starttls' ? prepareSoon(options.tls!, options.host) : undefined;
  try {
    const greeting = await readGreeting(connection, options.protocol, options.host);
    let capabilities = await hello(connection, options.protocol, options.domain);
    if (mode === 'starttls') {
      ({ connection, info: tlsInfo } = await negotiateStartTls(connection, capabilities, options.host, options.tls!, connectionOptions, prepared));
      options.onTls?.(tlsInfo);
      capabilities = await hello(connection, options.protocol, options.domain);
    }
    return new Session(connection, options.protocol, greeting, capabilities, tlsInfo, options.chunking ?? true);
  } catch (error) {
    if (connectionUsable(error) && !(error instanceof OutboxError && error.code === 'E_GREETING' && error.transient)) {
      await sendQuit(connection);
    } else {
      connection.transport.destroy();
    }
    throw error;
  }
}

/** The TLS context, built on the next turn of the event loop, while the server's first replies travel. */
function prepareSoon(tls: TlsSetup, host: string): Promise<PreparedTls> | undefined {
  const prepare = tls.prepare;
  if (!prepare) return undefined;
  const prepared = new Promise<PreparedTls>((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(prepare(tls.policy, host));
      } catch (error) {
        reject(error);
      }
    });
  });
  prepared.catch(() => {}); // reported when awaited; a session that fails earlier never asks
  return prepared;
}

/** After these the stream is in an unknown state; anything more we write could be misread. */
function connectionUsable(failure: unknown): boolean {
  if (failure === undefined) return true;
  if (!(failure instanceof OutboxError)) return false;
  return !UNUSABLE_AFTER.has(failure.code);
}

const UNUSABLE_AFTER = new Set<string>(['E_CONNECTION', 'E_TIMEOUT', 'E_PROTOCOL', 'E_IO', 'E_TLS_CERTIFICATE', 'E_TLS_HANDSHAKE']);

async function sendQuit(connection: SmtpConnection, reset = false): Promise<void> {
  try {
    await connection.send(...(reset ? [{ verb: 'RSET' } as const] : []), { verb: 'QUIT' });
  } catch {
    // The outcome is already decided; a server gone before QUIT changes nothing.
  }
  connection.transport.end();
}
