/**
 * `--serverinfo`: what a server says about itself, collected as data (the
 * CLI renders it as msmtp's text or as JSON). The session is opened as for
 * sending — TLS as configured, STARTTLS and a second EHLO — but nothing is
 * authenticated, and QUIT is sent before anything is printed, as in msmtp.
 */
import { isIP } from 'node:net';
import { systemResolve, type Resolve } from '../net/connector.js';
import type { CertificateInfo, TlsSessionInfo } from '../net/tls-policy.js';
import { openSession, type SessionOptions } from './session.js';

export interface ServerInfo {
  readonly protocol: 'smtp' | 'lmtp';
  readonly host: string;
  readonly port: number;
  /** The unix socket connected to, instead of host and port (msmtp names it in the header line). */
  readonly socket: string | undefined;
  /** The address connected to, when known. */
  readonly address: string | undefined;
  /** Its reverse name, when the resolver knows one. */
  readonly reverseName: string | undefined;
  /** The greeting's text, after "220 ". */
  readonly greeting: readonly string[];
  readonly tls: TlsSessionInfo | undefined;
  /** From the last EHLO/LHLO, as received: keyword (upper case) and parameters; plus STARTTLS when it was used. */
  readonly capabilities: ReadonlyArray<readonly [string, readonly string[]]>;
  /** STARTTLS was offered but the session is not encrypted: more may be offered after it. */
  readonly mayOfferMoreWithTls: boolean;
  readonly warnings: readonly string[];
}

const EXPIRY_WARNING_DAYS = 14;
const REVERSE_LOOKUP_MS = 2000;

export async function collectServerInfo(options: SessionOptions, now: Date = new Date()): Promise<ServerInfo> {
  const session = await openSession(options);
  const address = session.connection.transport.remoteAddress;
  await session.close();
  const capabilities = session.capabilities.entries();
  // A server does not offer STARTTLS again inside TLS; msmtp still lists it, since it was used.
  if (options.tls?.policy.mode === 'starttls' && !session.capabilities.has('STARTTLS')) capabilities.push(['STARTTLS', []]);
  const info = {
    protocol: options.protocol,
    host: options.host,
    port: options.port,
    socket: options.socketPath,
    address,
    reverseName: address ? await reverseName(address, options.port, options.resolve ?? systemResolve) : undefined,
    greeting: session.greeting.lines,
    tls: session.tls,
    capabilities,
    mayOfferMoreWithTls: session.tls === undefined && session.capabilities.has('STARTTLS'),
  };
  return { ...info, warnings: warnings(info, now) };
}

function warnings(info: Omit<ServerInfo, 'warnings'>, now: Date): string[] {
  const found: string[] = [];
  const certificate = info.tls?.certificate;
  if (certificate) found.push(...certificateWarnings(certificate, now));
  const auth = info.capabilities.find(([keyword]) => keyword === 'AUTH');
  if (!info.tls && auth) {
    found.push(`the server offers AUTH (${auth[1].join(' ')}) without TLS: a password sent now could be read on the way`);
  }
  return found;
}

function certificateWarnings(certificate: CertificateInfo, now: Date): string[] {
  const days = (certificate.validTo.getTime() - now.getTime()) / 86_400_000;
  if (days < 0) return [`the server's certificate expired on ${certificate.validTo.toUTCString()}`];
  if (days < EXPIRY_WARNING_DAYS) return [`the server's certificate expires in ${Math.floor(days)} days, on ${certificate.validTo.toUTCString()}`];
  return [];
}

/**
 * The name the session's resolver gives the address (the system's:
 * getnameinfo, /etc/hosts first), within a short time. The same resolver as
 * for connecting, so OUTBOX_DNS_SERVER keeps this lookup on its server too.
 */
async function reverseName(address: string, port: number, resolver: Resolve): Promise<string | undefined> {
  if (!isIP(address) || !resolver.reverse) return undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), REVERSE_LOOKUP_MS); });
  try {
    const found = await Promise.race([resolver.reverse(address, port).catch(() => undefined), timeout]);
    return found && found !== address ? found : undefined;
  } finally {
    clearTimeout(timer);
  }
}
