/**
 * Opening the connection: resolve the host, connect over TCP to each address
 * in turn within the connect timeout, and hand back a `Transport`. DNS and
 * connect failures become errors with the right meaning: a name that does not
 * exist is permanent (EX_NOHOST); everything a retry may fix is transient.
 */
import { lookup } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import { connect, isIP, type Socket } from 'node:net';
import { OutboxError } from '../errors.js';
import type { Transport } from '../smtp/transport.js';
import { SocketTransport } from './socket-transport.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Turns a host name into addresses, throwing Node's DNS errors (ENOTFOUND, EAI_AGAIN, ESERVFAIL…). */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly resolve?: Resolve;
}

export type Connector = (options: ConnectOptions) => Promise<Transport>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), as msmtp uses. */
export const systemResolve: Resolve = async (host) => {
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** A resolver that asks one DNS server (`ip` or `ip:port`) directly; for tests and private setups. */
export function dnsServerResolve(server: string): Resolve {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([server]);
  return async (host) => {
    const [v6, v4] = await Promise.allSettled([resolver.resolve6(host), resolver.resolve4(host)]);
    const addresses: ResolvedAddress[] = [
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 as const })) : []),
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 as const })) : []),
    ];
    if (addresses.length > 0) return addresses;
    // Report the more telling failure: a server error over "no such record".
    const errors = [v4, v6].map((r) => (r.status === 'rejected' ? (r.reason as NodeJS.ErrnoException) : undefined));
    throw errors.find((e) => e && e.code !== 'ENOTFOUND' && e.code !== 'ENODATA') ?? errors[0] ?? errors[1];
  };
}

export const connectTcp: Connector = async ({ host, port, timeoutMs, resolve = systemResolve }) => {
  const deadline = Date.now() + timeoutMs;
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) as 4 | 6 }] : await resolveHost(host, resolve);
  let lastError: unknown;
  for (const { address } of addresses) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    try {
      const socket = await connectSocket(address, port, remaining);
      return new SocketTransport(socket, `${host} (${address}) port ${port}`);
    } catch (error) {
      lastError = error;
    }
  }
  throw connectError(lastError, host, port, timeoutMs);
};

async function resolveHost(host: string, resolve: Resolve): Promise<ResolvedAddress[]> {
  try {
    const found = await resolve(host);
    if (found.length > 0) return found;
    throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NONAME') {
      return Promise.reject(new OutboxError('E_HOST_NOT_FOUND', `cannot locate host ${host}: name or service not known`, { cause: error }));
    }
    return Promise.reject(new OutboxError('E_DNS_TEMPORARY', `cannot locate host ${host}: temporary DNS failure (${code ?? String(error)})`, { transient: true, cause: error }));
  }
}

function connectSocket(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

function connectError(error: unknown, host: string, port: number, timeoutMs: number): OutboxError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host} port ${port}`;
  if (code === 'ETIMEDOUT' || error === undefined) {
    return new OutboxError('E_TIMEOUT', `cannot connect to ${where}: timed out after ${timeoutMs / 1000} s`, { transient: true, cause: error });
  }
  const reason = code === 'ECONNREFUSED' ? 'connection refused' : (error as Error).message;
  return new OutboxError('E_CONNECTION', `cannot connect to ${where}: ${reason}`, { transient: true, cause: error });
}
