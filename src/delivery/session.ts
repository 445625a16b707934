/**
 * Opening and closing an SMTP/LMTP session, shared by sending, `--serverinfo`
 * and ETRN: connect, read the greeting, say EHLO (falling back to HELO) or
 * LHLO. It reads like RFC 5321 §3.1–3.2 and has one way out: `close()`.
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import { connectTcp, type Connector, type Resolve } from '../net/connector.js';
import { Capabilities } from '../smtp/capabilities.js';
import { SmtpConnection, type TraceEvent } from '../smtp/connection.js';
import type { Reply } from '../smtp/reply.js';
import type { Timeouts } from '../smtp/timeouts.js';

export type Protocol = 'smtp' | 'lmtp';

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: Protocol;
  /** The EHLO/LHLO argument. */
  readonly domain: string;
  readonly timeouts: Timeouts;
  readonly connector?: Connector;
  readonly resolve?: Resolve;
  readonly trace?: (event: TraceEvent) => void;
}

export class Session {
  readonly connection: SmtpConnection;
  readonly protocol: Protocol;
  readonly greeting: Reply;
  readonly capabilities: Capabilities;
  /** Set between a 354 reply and the end of the data: nothing but message data may be sent then. */
  inData = false;
  private closed = false;

  constructor(connection: SmtpConnection, protocol: Protocol, greeting: Reply, capabilities: Capabilities) {
    this.connection = connection;
    this.protocol = protocol;
    this.greeting = greeting;
    this.capabilities = capabilities;
  }

  /**
   * Ends the session. When the connection is still usable, QUIT is sent and
   * our side closed without waiting for the 221: the outcome is already known.
   * Mid-data or after a network or protocol failure the connection is dropped,
   * which also makes the server discard an unfinished message (RFC 5321 §4.1.1.4).
   */
  async close(failure?: unknown): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const transport = this.connection.transport;
    if (this.inData || !connectionUsable(failure)) {
      transport.destroy();
      return;
    }
    await sendQuit(this.connection);
  }
}

export async function openSession(options: SessionOptions): Promise<Session> {
  const connector = options.connector ?? connectTcp;
  const transport = await connector({
    host: options.host,
    port: options.port,
    timeoutMs: options.timeouts.connect,
    ...(options.resolve ? { resolve: options.resolve } : {}),
  });
  const connection = new SmtpConnection(transport, { timeouts: options.timeouts, ...(options.trace ? { trace: options.trace } : {}) });
  try {
    const greeting = await connection.readGreeting();
    if (greeting.code !== 220) throw greetingError(greeting, options);
    const capabilities = await hello(connection, options);
    return new Session(connection, options.protocol, greeting, capabilities);
  } catch (error) {
    if (connectionUsable(error) && !(error instanceof OutboxError && error.code === 'E_GREETING' && error.transient)) {
      await sendQuit(connection);
    } else {
      transport.destroy();
    }
    throw error;
  }
}

/** EHLO, then HELO if EHLO is refused (RFC 5321 §3.2); LHLO alone for LMTP (RFC 2033 §4.1). */
async function hello(connection: SmtpConnection, options: SessionOptions): Promise<Capabilities> {
  const domain = options.domain;
  if (options.protocol === 'lmtp') {
    const reply = await connection.command({ verb: 'LHLO', domain });
    if (reply.code === 250) return Capabilities.fromEhloReply(reply);
    throw helloError('LHLO', reply);
  }
  const ehlo = await connection.command({ verb: 'EHLO', domain });
  if (ehlo.code === 250) return Capabilities.fromEhloReply(ehlo);
  if (isTransientReply(ehlo)) throw helloError('EHLO', ehlo);
  const helo = await connection.command({ verb: 'HELO', domain });
  if (helo.code === 250) return Capabilities.none(helo.lines[0]?.split(' ')[0] ?? '');
  throw helloError('HELO', helo, ehlo);
}

function greetingError(greeting: Reply, options: SessionOptions): OutboxError {
  const server = options.protocol === 'lmtp' ? 'LMTP server' : 'SMTP server';
  return new OutboxError('E_GREETING', `the ${server} at ${options.host} refused the session: ${describeReply(greeting)}`, {
    transient: isTransientReply(greeting),
    reply: greeting,
    command: 'greeting',
  });
}

function helloError(verb: string, reply: Reply, ehlo?: Reply): OutboxError {
  const both = ehlo ? `EHLO and HELO were refused: ${describeReply(ehlo)}; ${describeReply(reply)}` : `${verb} was refused: ${describeReply(reply)}`;
  return new OutboxError('E_HELLO_REJECTED', `the server does not accept us: ${both}`, {
    transient: isTransientReply(reply),
    reply,
    command: verb,
  });
}

/** After these the stream is in an unknown state; anything more we write could be misread. */
function connectionUsable(failure: unknown): boolean {
  if (failure === undefined) return true;
  if (!(failure instanceof OutboxError)) return false;
  return !['E_CONNECTION', 'E_TIMEOUT', 'E_PROTOCOL', 'E_IO'].includes(failure.code);
}

async function sendQuit(connection: SmtpConnection): Promise<void> {
  const quit = { verb: 'QUIT' } as const;
  try {
    await connection.send(quit);
  } catch {
    // The outcome is already decided; a server gone before QUIT changes nothing.
  }
  connection.transport.end();
}
