/**
 * Opening the connection and handing back a `Transport`, one of three ways:
 *
 * - `socketPath`: a unix-domain socket (msmtp's `socket`); host, port and
 *   proxy are ignored.
 * - `proxy`: TCP to a SOCKS5 proxy, which is asked to connect to host and
 *   port and resolves the host name itself (msmtp's `proxy_host`, for Tor).
 * - otherwise TCP to the host: resolve every address, then race them as RFC
 *   8305 (Happy Eyeballs) describes, IPv6 first (`happy-eyeballs.ts`).
 *
 * `sourceAddress` (msmtp's `source_ip`) binds each TCP attempt, to the host or
 * to the proxy. Everything, DNS included, happens within `timeoutMs`. DNS and
 * connect failures become errors with the right meaning: a name that does not
 * exist is permanent (EX_NOHOST); a source address this host cannot use is a
 * configuration error (EX_CONFIG); everything a retry may fix is transient.
 * See docs/networking.md.
 */
import { lookup, lookupService } from 'node:dns/promises';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { OutboxError } from '../errors.js';
import type { Transport } from '../transport.js';
import {
  ConnectAttemptsFailed, raceConnections, sortAddresses,
  type AttemptFailure, type ConnectAttempt, type RaceWinner, type ResolvedAddress,
} from './happy-eyeballs.js';
import { encodeConnectRequest, socks5Handshake } from './socks5.js';
import { SocketTransport } from './socket-transport.js';
import { connectUnixSocket, unixSocketPeer } from './unix-socket.js';

export type { ResolvedAddress } from './happy-eyeballs.js';

/**
 * Turns a host name into addresses, throwing Node's DNS errors (ENOTFOUND,
 * EAI_AGAIN, ESERVFAIL…). `reverse`, where the resolver has one, names an
 * address (for --serverinfo); it is part of the same value so that whoever
 * chooses the resolver chooses it for both directions.
 */
export interface Resolve {
  (host: string): Promise<ResolvedAddress[]>;
  /** The address's name; the address itself, or a rejection, when it has none. */
  reverse?(address: string, port: number): Promise<string>;
}

export interface ConnectOptions {
  /** A name, an IPv4 address, or an IPv6 address with or without brackets. */
  readonly host: string;
  readonly port: number;
  /** Everything: resolving, connecting, and the SOCKS5 exchange. */
  readonly timeoutMs: number;
  readonly resolve?: Resolve;
  /** msmtp source_ip: bind the outgoing socket (to the host or the proxy) to this IP address. */
  readonly sourceAddress?: string;
  /** msmtp socket: a unix-domain socket; overrides host, port, proxy and sourceAddress. */
  readonly socketPath?: string;
  /** SOCKS5 (RFC 1928), no authentication; the host name is sent to the proxy unresolved. */
  readonly proxy?: { readonly host: string; readonly port: number };
}

export type Connector = (options: ConnectOptions) => Promise<Transport>;

/** For tests: replace the per-address connect, or the 250 ms Connection Attempt Delay. */
export interface ConnectorHooks {
  readonly attempt?: ConnectAttempt;
  readonly attemptDelayMs?: number;
}

/**
 * The system resolver (getaddrinfo: /etc/hosts, then DNS), as msmtp uses;
 * every address, in its order. Backwards, getnameinfo (/etc/hosts first),
 * which answers with the address itself when it knows no name.
 */
export const systemResolve: Resolve = Object.assign(
  async (host: string): Promise<ResolvedAddress[]> => {
    const found = await lookup(host, { all: true, verbatim: true });
    return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 as const : 4 as const }));
  },
  { reverse: async (address: string, port: number) => (await lookupService(address, port)).hostname },
);

/** A resolver that asks one DNS server (`ip` or `ip:port`) directly; for tests and private setups. */
export function dnsServerResolve(server: string): Resolve {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([server]);
  const forward = async (host: string): Promise<ResolvedAddress[]> => {
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
  // The first PTR record, from the same server.
  return Object.assign(forward, { reverse: async (address: string) => (await resolver.reverse(address))[0] ?? address });
}

/**
 * Starts resolving `host` now and answers the first request for that name
 * with this lookup; any other request goes to `resolve`. The CLI calls it
 * once the account is known, so the lookup overlaps reading the mail and
 * running passwordeval; nothing connects any earlier (issue 17). An IP
 * literal needs no lookup and gets `resolve` back. A failed lookup is
 * reported, as any other, by whoever asks for it.
 */
export function prefetchResolve(resolve: Resolve, host: string): Resolve {
  const name = unbracket(host);
  if (isIP(name) !== 0) return resolve;
  let pending: Promise<ResolvedAddress[]> | undefined = resolve(name);
  pending.catch(() => {}); // not asked for when the mail fails first
  const prefetching = (asked: string): Promise<ResolvedAddress[]> => {
    if (pending === undefined || asked !== name) return resolve(asked);
    const lookup = pending;
    pending = undefined;
    return lookup;
  };
  return resolve.reverse ? Object.assign(prefetching, { reverse: resolve.reverse.bind(resolve) }) : prefetching;
}

/** A connector; `hooks` are for tests. */
export function createConnector(hooks: ConnectorHooks = {}): Connector {
  return async (options) => {
    if (options.socketPath !== undefined) {
      const socket = await connectUnixSocket(options.socketPath, options.timeoutMs);
      return new SocketTransport(socket, unixSocketPeer(options.socketPath));
    }
    const deadline = Date.now() + options.timeoutMs;
    const source = sourceAddressOf(options.sourceAddress);
    const host = unbracket(options.host);
    if (options.proxy) return connectThroughProxy({ ...options, host }, options.proxy, source, deadline, hooks);
    const { socket, address } = await openTcp(host, options.port, `${host} port ${options.port}`, { ...options, source, deadline, hooks });
    return new SocketTransport(socket, `${host} (${address.address}) port ${options.port}`);
  };
}

export const connectTcp: Connector = createConnector();

/** `[::1]` → `::1`: brackets are URL syntax, not part of the address. */
export function unbracket(host: string): string {
  if (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6) return host.slice(1, -1);
  return host;
}

interface Source {
  readonly address: string;
  readonly family: 4 | 6;
}

function sourceAddressOf(value: string | undefined): Source | undefined {
  if (value === undefined || value === '') return undefined;
  const address = unbracket(value);
  const family = isIP(address);
  if (family === 0) throw new OutboxError('E_CONFIG', `source_ip ${value} is not an IP address`);
  return { address, family: family === 6 ? 6 : 4 };
}

async function connectThroughProxy(
  options: ConnectOptions,
  proxy: { readonly host: string; readonly port: number },
  source: Source | undefined,
  deadline: number,
  hooks: ConnectorHooks,
): Promise<Transport> {
  const proxyHost = unbracket(proxy.host);
  const proxyName = `SOCKS5 proxy ${proxyHost} port ${proxy.port}`;
  encodeConnectRequest({ host: options.host, port: options.port }); // what SOCKS5 cannot carry fails before connecting
  const { socket, address } = await openTcp(proxyHost, proxy.port, proxyName, { ...options, source, deadline, hooks });
  // socks5Handshake destroys the socket when it fails.
  await socks5Handshake(socket, { host: options.host, port: options.port }, deadline - Date.now(), proxyName, options.timeoutMs);
  const peer = `${options.host} port ${options.port} via SOCKS5 proxy ${proxyHost} (${address.address}) port ${proxy.port}`;
  const transport = new SocketTransport(socket, peer, { port: options.port });
  socket.resume(); // the handshake left it paused, with any early bytes of the SMTP stream unshifted
  return transport;
}

interface TcpContext {
  readonly timeoutMs: number;
  readonly resolve?: Resolve;
  readonly source: Source | undefined;
  readonly deadline: number;
  readonly hooks: ConnectorHooks;
}

/** Resolve `host` (a name or an IP literal), keep the source's family, race the addresses. */
async function openTcp(host: string, port: number, where: string, context: TcpContext): Promise<RaceWinner> {
  const { source, deadline, timeoutMs } = context;
  const family = isIP(host);
  const resolved = family === 0
    ? await resolveHost(host, context.resolve ?? systemResolve, where, deadline - Date.now(), timeoutMs)
    : [{ address: host, family: family as 4 | 6 }];
  const usable = source ? resolved.filter((entry) => entry.family === source.family) : resolved;
  if (source && usable.length === 0) {
    // A settings mismatch no retry fixes: the source_ip cannot reach any of the host's addresses.
    throw new OutboxError('E_CONFIG', `cannot connect to ${where}: source_ip ${source.address} is an IPv${source.family} address, `
      + `and ${host} has only IPv${source.family === 4 ? 6 : 4} addresses (${resolved.map((entry) => entry.address).join(', ')})`);
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw timeoutError(where, timeoutMs);
  try {
    return await raceConnections(sortAddresses(usable), {
      port,
      timeoutMs: remaining,
      ...(source ? { localAddress: source.address } : {}),
      ...(context.hooks.attempt ? { attempt: context.hooks.attempt } : {}),
      ...(context.hooks.attemptDelayMs === undefined ? {} : { attemptDelayMs: context.hooks.attemptDelayMs }),
    });
  } catch (error) {
    throw connectError(error, where, timeoutMs, source);
  }
}

/** Resolution within the connect timeout; the answer must not be empty. */
async function resolveHost(host: string, resolve: Resolve, where: string, remainingMs: number, timeoutMs: number): Promise<ResolvedAddress[]> {
  const name = where.startsWith('SOCKS5 proxy') ? `proxy host ${host}` : `host ${host}`;
  let timer: NodeJS.Timeout | undefined;
  const lookup = resolve(host);
  lookup.catch(() => {}); // when the timeout wins, a late failure must not go unhandled
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OutboxError('E_DNS_TEMPORARY', `cannot locate ${name}: no answer within ${timeoutMs / 1000} s`, { transient: true })), Math.max(0, remainingMs));
  });
  try {
    const found = await Promise.race([lookup, timedOut]);
    if (found.length > 0) return found;
    throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
  } catch (error) {
    if (error instanceof OutboxError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NONAME') {
      throw new OutboxError('E_HOST_NOT_FOUND', `cannot locate ${name}: name or service not known`, { cause: error });
    }
    throw new OutboxError('E_DNS_TEMPORARY', `cannot locate ${name}: temporary DNS failure (${code ?? String(error)})`, { transient: true, cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The most telling error of a failed race: a source address that cannot be
 * bound (the settings are wrong), then a refusal (someone answered), then any
 * other network error (unreachable…), and only then a timeout. With several
 * addresses the message lists what happened to each.
 */
function connectError(error: unknown, where: string, timeoutMs: number, source: Source | undefined): OutboxError {
  if (!(error instanceof ConnectAttemptsFailed)) {
    return new OutboxError('E_CONNECTION', `cannot connect to ${where}: ${(error as Error).message}`, { transient: true, cause: error });
  }
  const { failures, untried } = error;
  const bindFailure = failures.find((f) => f.error.syscall === 'bind');
  if (bindFailure && source) {
    const cause = bindFailure.error;
    if (cause.code === 'EADDRINUSE') {
      return new OutboxError('E_CONNECTION', `cannot connect to ${where}: cannot bind source address ${source.address}: no local port is free`, { transient: true, cause });
    }
    return new OutboxError('E_CONFIG', `cannot connect to ${where}: cannot bind source address ${source.address} (source_ip): ${describe(cause)}`, { cause });
  }
  const refused = failures.find((f) => f.error.code === 'ECONNREFUSED');
  const other = failures.find((f) => f.error.code !== 'ECONNREFUSED' && f.error.code !== 'ETIMEDOUT');
  const chosen: AttemptFailure | undefined = refused ?? other;
  const several = failures.length + untried.length > 1;
  const details = several
    ? ` (${[...failures.map((f) => `${f.address.address}: ${describe(f.error)}`), ...untried.map((a) => `${a.address}: not tried`)].join('; ')})`
    : '';
  if (!chosen) {
    return new OutboxError('E_TIMEOUT', `cannot connect to ${where}: timed out after ${timeoutMs / 1000} s${details}`, { transient: true, cause: failures[0]?.error });
  }
  return new OutboxError('E_CONNECTION', `cannot connect to ${where}: ${describe(chosen.error)}${details}`, { transient: true, cause: chosen.error });
}

function timeoutError(where: string, timeoutMs: number): OutboxError {
  return new OutboxError('E_TIMEOUT', `cannot connect to ${where}: timed out after ${timeoutMs / 1000} s`, { transient: true });
}

function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ETIMEDOUT': return 'timed out';
    case 'EHOSTUNREACH': return 'host unreachable';
    case 'ENETUNREACH': return 'network unreachable';
    case 'EADDRNOTAVAIL': return 'address not available on this machine';
    case 'EINVAL': return error.syscall === 'bind' ? 'cannot bind an address of this family' : error.message;
    case 'ECONNRESET': return 'connection reset';
    case 'EACCES': case 'EPERM': return 'permission denied (a firewall?)';
    default: return error.message;
  }
}
