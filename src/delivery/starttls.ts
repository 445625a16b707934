/**
 * STARTTLS (RFC 3207) without downgrade: asked-for TLS that the server does
 * not offer is an error, never a plaintext session; bytes the server sent
 * after its 220 and before the handshake are an attack (the plaintext
 * injection of CVE-2011-0411 and its kin), never read as replies; after the
 * handshake everything learnt before it is forgotten and EHLO is sent again.
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import type { PreparedTls } from '../net/tls-options.js';
import type { TlsPolicy, TlsSessionInfo } from '../net/tls-policy.js';
import type { Capabilities } from '../smtp/capabilities.js';
import { SmtpConnection, type ConnectionOptions } from '../smtp/connection.js';
import type { Transport } from '../transport.js';

/** Upgrades a connected transport to TLS (src/net/tls-connect.ts; replaceable in tests). */
export type StartTls = (transport: Transport, host: string, policy: TlsPolicy | PreparedTls, timeoutMs: number) => Promise<{ transport: Transport; info: TlsSessionInfo }>;

export interface TlsSetup {
  readonly policy: TlsPolicy;
  readonly startTls: StartTls;
  /**
   * Builds the TLS context (reading the trust store costs ~20 ms of CPU). For
   * STARTTLS the session runs it while the greeting and EHLO are on the way,
   * so the time is not added to the handshake.
   */
  readonly prepare?: (policy: TlsPolicy, host: string) => PreparedTls;
}

export async function negotiateStartTls(
  connection: SmtpConnection,
  capabilities: Capabilities,
  host: string,
  tls: TlsSetup,
  options: ConnectionOptions,
  prepared?: Promise<PreparedTls>,
): Promise<{ connection: SmtpConnection; info: TlsSessionInfo }> {
  if (!capabilities.has('STARTTLS')) {
    throw new OutboxError('E_CAPABILITY', `the server ${host} does not offer STARTTLS; TLS was asked for (tls on), so nothing is sent in plaintext`);
  }
  const reply = await connection.command({ verb: 'STARTTLS' });
  if (reply.code !== 220) {
    throw new OutboxError('E_STARTTLS_REFUSED', `the server refused STARTTLS: ${describeReply(reply)}`, {
      transient: isTransientReply(reply),
      reply,
      command: 'STARTTLS',
    });
  }
  if (connection.hasUnsolicitedInput) {
    throw new OutboxError('E_PROTOCOL', 'the server sent data after its 220 reply to STARTTLS and before the TLS handshake (a plaintext injection); the connection is dropped');
  }
  const upgraded = await tls.startTls(connection.transport, host, prepared ? await prepared : tls.policy, connection.timeouts.command);
  return { connection: new SmtpConnection(upgraded.transport, options), info: upgraded.info };
}
