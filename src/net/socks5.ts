/**
 * SOCKS5 (RFC 1928), CONNECT only, without authentication: what msmtp's
 * `proxy_host`/`proxy_port` speak, typically to Tor. The target's host name
 * goes to the proxy unresolved (ATYP 3), so the proxy resolves it and no DNS
 * query leaves this machine; IP literals go as ATYP 1 (IPv4) or 4 (IPv6).
 *
 * `socks5Handshake` runs the exchange on an already connected socket and
 * leaves it a plain, paused `net.Socket` positioned at the first byte of the
 * tunnelled stream (bytes the proxy sent right behind its reply are pushed
 * back with `unshift`), ready for a `SocketTransport` and, later, TLS.
 */
import { isIP, type Socket } from 'node:net';
import { OutboxError } from '../errors.js';

export const SOCKS_VERSION = 0x05;
const METHOD_NO_AUTHENTICATION = 0x00;
const METHOD_NONE_ACCEPTABLE = 0xff;
const COMMAND_CONNECT = 0x01;
const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;
/** A domain name travels with a one-byte length. */
export const MAX_DOMAIN_BYTES = 255;

/** RFC 1928 §6, and whether a later try may succeed (exit 75) or not (exit 69). */
export const SOCKS5_REPLIES: Readonly<Record<number, { readonly text: string; readonly transient: boolean }>> = {
  0x01: { text: 'general SOCKS server failure', transient: true },
  0x02: { text: 'connection not allowed by ruleset', transient: false },
  0x03: { text: 'network unreachable', transient: true },
  0x04: { text: 'host unreachable', transient: true },
  0x05: { text: 'connection refused', transient: true },
  0x06: { text: 'TTL expired', transient: true },
  0x07: { text: 'command not supported', transient: false },
  0x08: { text: 'address type not supported', transient: false },
};

export interface Socks5Target {
  readonly host: string;
  readonly port: number;
}

/** BND.ADDR and BND.PORT of a successful reply: the proxy's side of its connection to the target. */
export interface Socks5Bound {
  readonly type: 'ipv4' | 'ipv6' | 'domain';
  readonly address: string;
  readonly port: number;
}

/** Method selection: version 5, one method offered, "no authentication required". */
export function encodeGreeting(): Buffer {
  return Buffer.from([SOCKS_VERSION, 1, METHOD_NO_AUTHENTICATION]);
}

/**
 * The CONNECT request. Throws E_CONFIG for what SOCKS5 cannot carry: an
 * empty or over-long (more than 255 bytes) host name, a port out of range.
 */
export function encodeConnectRequest(target: Socks5Target): Buffer {
  const { host, port } = target;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OutboxError('E_CONFIG', `cannot ask the SOCKS5 proxy for port ${port}: not a port number (1-65535)`);
  }
  const head = [SOCKS_VERSION, COMMAND_CONNECT, 0x00];
  const portBytes = [port >> 8, port & 0xff];
  const family = isIP(host);
  if (family === 4) {
    return Buffer.from([...head, ATYP_IPV4, ...host.split('.').map(Number), ...portBytes]);
  }
  if (family === 6) {
    return Buffer.concat([Buffer.from([...head, ATYP_IPV6]), ipv6Bytes(host), Buffer.from(portBytes)]);
  }
  const name = Buffer.from(host, 'utf8');
  if (name.length === 0) throw new OutboxError('E_CONFIG', 'cannot ask the SOCKS5 proxy for an empty host name');
  if (name.length > MAX_DOMAIN_BYTES) {
    throw new OutboxError('E_CONFIG', `cannot ask the SOCKS5 proxy for host ${host.slice(0, 40)}…: the name is ${name.length} bytes long, SOCKS5 carries at most ${MAX_DOMAIN_BYTES}`);
  }
  return Buffer.concat([Buffer.from([...head, ATYP_DOMAIN, name.length]), name, Buffer.from(portBytes)]);
}

export type ReplyParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'failed'; readonly code: number }
  | { readonly kind: 'succeeded'; readonly bound: Socks5Bound; readonly length: number };

/**
 * Reads the CONNECT reply from the start of `bytes`: `VER REP RSV ATYP
 * BND.ADDR BND.PORT`. A refusal is known from the first two bytes; a success
 * once BND is complete, and `length` says where the tunnelled stream starts.
 */
export function parseConnectReply(bytes: Uint8Array): ReplyParse {
  if (bytes.length < 1) return { kind: 'incomplete' };
  if (bytes[0] !== SOCKS_VERSION) return { kind: 'invalid', reason: `its reply to CONNECT has version ${hex(bytes[0]!)}, not 0x05` };
  if (bytes.length < 2) return { kind: 'incomplete' };
  const code = bytes[1]!;
  if (code !== 0x00) return { kind: 'failed', code };
  if (bytes.length < 4) return { kind: 'incomplete' };
  const type = bytes[3]!;
  let addressLength: number;
  let addressStart = 4;
  if (type === ATYP_IPV4) addressLength = 4;
  else if (type === ATYP_IPV6) addressLength = 16;
  else if (type === ATYP_DOMAIN) {
    if (bytes.length < 5) return { kind: 'incomplete' };
    addressLength = bytes[4]!;
    addressStart = 5;
  } else {
    return { kind: 'invalid', reason: `its reply to CONNECT has an unknown address type ${hex(type)}` };
  }
  const length = addressStart + addressLength + 2;
  if (bytes.length < length) return { kind: 'incomplete' };
  const raw = bytes.subarray(addressStart, addressStart + addressLength);
  const address = type === ATYP_IPV4 ? Array.from(raw).join('.')
    : type === ATYP_IPV6 ? ipv6Text(raw)
      : Buffer.from(raw).toString('latin1');
  const port = (bytes[length - 2]! << 8) | bytes[length - 1]!;
  return { kind: 'succeeded', bound: { type: type === ATYP_IPV4 ? 'ipv4' : type === ATYP_IPV6 ? 'ipv6' : 'domain', address, port }, length };
}

/**
 * Runs the SOCKS5 exchange on `socket` (connected to the proxy, which
 * `proxyName` names in messages) within `timeoutMs`. On success the socket is
 * paused with any early bytes of the tunnelled stream unshifted: attach the
 * reader, then `resume()`. On failure the socket is destroyed and the error is
 * an `OutboxError`: transient (75) for a proxy that drops us, times out, or
 * answers with a temporary failure; E_PROXY_FAILED (69) for a permanent refusal
 * or an answer that is not SOCKS5.
 */
export function socks5Handshake(
  socket: Socket,
  target: Socks5Target,
  timeoutMs: number,
  proxyName: string,
  /** The timeout as configured, for the message (`timeoutMs` may be what is left of it). */
  configuredTimeoutMs = timeoutMs,
): Promise<Socks5Bound> {
  let request: Buffer;
  try {
    request = encodeConnectRequest(target);
  } catch (error) {
    socket.destroy();
    return Promise.reject(error);
  }
  const destination = `${target.host} port ${target.port}`;
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    let phase: 'method' | 'reply' = 'method';

    const finish = (outcome: { error: OutboxError } | { bound: Socks5Bound; rest: Buffer }) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      socket.off('error', onError);
      if ('error' in outcome) {
        socket.destroy();
        reject(outcome.error);
        return;
      }
      socket.pause();
      if (outcome.rest.length > 0) socket.unshift(outcome.rest);
      resolve(outcome.bound);
    };
    const refuse = (message: string, transient: boolean, code: 'E_PROXY_FAILED' | 'E_CONNECTION' = transient ? 'E_CONNECTION' : 'E_PROXY_FAILED') => {
      finish({ error: new OutboxError(code, `${proxyName}: ${message}`, { transient }) });
    };

    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      if (phase === 'method') {
        if (received.length < 2) return;
        const version = received[0]!;
        const method = received[1]!;
        if (version !== SOCKS_VERSION) {
          refuse(`does not speak SOCKS5: its answer to our greeting starts with ${describeBytes(received)}`, false);
          return;
        }
        if (method === METHOD_NONE_ACCEPTABLE) {
          refuse('accepts none of our authentication methods (we offer only "no authentication", method 0x00)', false);
          return;
        }
        if (method !== METHOD_NO_AUTHENTICATION) {
          refuse(`chose authentication method ${hex(method)}, which we did not offer`, false);
          return;
        }
        received = received.subarray(2);
        phase = 'reply';
        socket.write(request);
        if (received.length === 0) return;
      }
      const reply = parseConnectReply(received);
      switch (reply.kind) {
        case 'incomplete':
          return;
        case 'invalid':
          refuse(`does not speak SOCKS5 properly: ${reply.reason}`, false);
          return;
        case 'failed': {
          const known = SOCKS5_REPLIES[reply.code];
          const text = known?.text ?? 'unassigned reply code';
          refuse(`cannot connect to ${destination}: ${text} (SOCKS5 reply ${hex(reply.code)})`, known?.transient ?? false);
          return;
        }
        case 'succeeded':
          finish({ bound: reply.bound, rest: received.subarray(reply.length) });
          return;
      }
    };
    const onClosed = () => refuse(`closed the connection during the SOCKS5 handshake${phase === 'reply' ? ` (asked to connect to ${destination})` : ''}`, true);
    const onError = (error: NodeJS.ErrnoException) => {
      finish({ error: new OutboxError('E_CONNECTION', `${proxyName}: network error during the SOCKS5 handshake: ${error.message}`, { transient: true, cause: error }) });
    };
    const timer = setTimeout(() => {
      finish({ error: new OutboxError('E_TIMEOUT', `${proxyName}: no ${phase === 'method' ? 'answer to the SOCKS5 greeting' : `reply to CONNECT ${destination}`} within ${configuredTimeoutMs / 1000} s`, { transient: true }) });
    }, Math.max(0, timeoutMs));

    socket.on('data', onData);
    socket.on('end', onClosed);
    socket.on('close', onClosed);
    socket.on('error', onError);
    socket.write(encodeGreeting());
  });
}

function ipv6Bytes(text: string): Buffer {
  // A zone (fe80::1%eth0) means nothing to the proxy. The URL parser rewrites
  // an embedded IPv4 tail (::ffff:192.0.2.1) as hex groups, so only hex is left.
  const bare = text.split('%')[0] ?? '';
  const normal = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const [left = '', right] = normal.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const groups = right === undefined
    ? leftGroups
    : [...leftGroups, ...Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run of two or more zero groups as "::". */
function ipv6Text(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart === -1) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLength).join(':')}`;
}

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function describeBytes(bytes: Uint8Array): string {
  const first = Array.from(bytes.subarray(0, 8), hex).join(' ');
  const printable = Buffer.from(bytes.subarray(0, 40)).toString('latin1');
  // An SMTP or HTTP server answering instead of a proxy is the usual mistake: show its words.
  return /^[\x20-\x7e]+(\r?\n|$)/.test(printable) ? `${first} ("${printable.split(/\r?\n/)[0]}"; is proxy_host/proxy_port a SOCKS5 proxy?)` : first;
}
