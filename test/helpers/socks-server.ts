/**
 * A small SOCKS5 server (RFC 1928, CONNECT, "no authentication") for tests,
 * on 127.0.0.1:0. It records every request, relays to the real target, and
 * can be told to misbehave: answer CONNECT with a given reply code, refuse
 * every authentication method, say nothing, send its reply in pieces or
 * glued to the target's first bytes.
 *
 * It only ever connects to loopback: a domain name is looked up in `hosts`
 * (unknown names get reply 0x04, as Tor answers a name it cannot resolve), and
 * an address that is not loopback gets 0x02 (not allowed by ruleset).
 */
import { createServer, connect, isIP, type AddressInfo, type Socket } from 'node:net';

export interface SocksRequest {
  /** The methods the client offered. */
  readonly methods: readonly number[];
  readonly command: number;
  /** 1 (IPv4), 3 (domain name) or 4 (IPv6). */
  readonly addressType: number;
  readonly host: string;
  readonly port: number;
  /** The client's address as the proxy saw it. */
  readonly clientAddress: string | undefined;
}

export interface SocksServerOptions {
  /** Names the proxy "resolves", each to a loopback address. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Answer every CONNECT with this reply code instead of relaying. */
  readonly reply?: number;
  /** The method chosen in answer to the greeting (0x00 by default; 0xff: none acceptable). */
  readonly method?: number;
  /** Raw bytes sent on connection, before the client says anything (a server that is not a proxy). */
  readonly banner?: Buffer;
  /** Answer the greeting, then never answer CONNECT. */
  readonly silentAfterGreeting?: boolean;
  /** Called when a request has been read (before it is answered, if it is). */
  readonly onRequest?: (request: SocksRequest) => void;
  /** Close the connection instead of answering CONNECT. */
  readonly closeAfterGreeting?: boolean;
  /** The address type of BND.ADDR in a success reply (default: IPv4). */
  readonly bound?: 'ipv4' | 'ipv6' | 'domain';
  /** Write the success reply and the target's first bytes in one write. */
  readonly coalesce?: boolean;
  /** Write the replies one byte at a time. */
  readonly dribble?: boolean;
}

export interface SocksServer {
  readonly port: number;
  readonly requests: SocksRequest[];
  /** Connections the proxy accepted. */
  readonly connections: () => number;
  /** Connections (client and relayed) still open. */
  readonly openSockets: () => number;
  close(): Promise<void>;
}

const LOOPBACK_V4 = /^127\.\d+\.\d+\.\d+$/;

export async function startSocksServer(options: SocksServerOptions = {}): Promise<SocksServer> {
  const sockets = new Set<Socket>();
  const requests: SocksRequest[] = [];
  let accepted = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  };

  const server = createServer((client) => {
    accepted += 1;
    track(client);
    if (options.banner) {
      client.write(options.banner);
      client.resume();
      return;
    }
    let pending = Buffer.alloc(0);
    let stage: 'greeting' | 'request' | 'done' = 'greeting';
    let methods: number[] = [];
    const onData = (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (stage === 'greeting') {
        if (pending.length < 2 || pending.length < 2 + pending[1]!) return;
        methods = [...pending.subarray(2, 2 + pending[1]!)];
        pending = pending.subarray(2 + pending[1]!);
        const method = options.method ?? (methods.includes(0x00) ? 0x00 : 0xff);
        send(client, Buffer.from([0x05, method]));
        if (method !== 0x00) {
          client.end();
          stage = 'done';
          return;
        }
        stage = 'request';
        if (options.closeAfterGreeting) {
          client.destroy();
          stage = 'done';
          return;
        }
      }
      if (stage !== 'request') return;
      const request = readRequest(pending);
      if (!request) return;
      stage = 'done';
      client.off('data', onData);
      const rest = pending.subarray(request.length);
      const seen: SocksRequest = { methods, command: request.command, addressType: request.addressType, host: request.host, port: request.port, clientAddress: client.remoteAddress };
      requests.push(seen);
      options.onRequest?.(seen);
      if (options.silentAfterGreeting) return;
      if (options.reply !== undefined) {
        send(client, replyBytes(options.reply, 'ipv4'));
        client.end();
        return;
      }
      const address = request.addressType === 3 ? options.hosts?.[request.host] : request.host;
      if (address === undefined) {
        send(client, replyBytes(0x04, 'ipv4'));
        client.end();
        return;
      }
      if (!(LOOPBACK_V4.test(address) || address === '::1')) {
        send(client, replyBytes(0x02, 'ipv4'));
        client.end();
        return;
      }
      relay(client, address, request.port, rest);
    };
    client.on('data', onData);
  });

  const relay = (client: Socket, address: string, port: number, early: Buffer) => {
    client.pause();
    const target = connect({ host: address, port });
    track(target);
    target.once('error', (error: NodeJS.ErrnoException) => {
      if (client.destroyed) return;
      send(client, replyBytes(error.code === 'ECONNREFUSED' ? 0x05 : 0x01, 'ipv4'));
      client.end();
    });
    target.once('connect', () => {
      const reply = replyBytes(0x00, options.bound ?? 'ipv4', target.localPort ?? 0);
      const join = () => {
        client.on('data', (chunk: Buffer) => target.write(chunk));
        client.on('end', () => target.end());
        target.on('end', () => client.end());
        client.on('close', () => target.destroy());
        target.on('close', () => client.destroy());
        if (early.length > 0) target.write(early);
        client.resume();
      };
      if (options.coalesce) {
        target.once('data', (first: Buffer) => {
          client.write(Buffer.concat([reply, first]));
          target.on('data', (chunk: Buffer) => client.write(chunk));
          join();
        });
        return;
      }
      send(client, reply);
      target.on('data', (chunk: Buffer) => client.write(chunk));
      join();
    });
  };
  const send = (client: Socket, bytes: Buffer) => {
    if (!options.dribble) client.write(bytes);
    else for (const byte of bytes) client.write(Buffer.from([byte]));
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests,
    connections: () => accepted,
    openSockets: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface ParsedRequest {
  readonly command: number;
  readonly addressType: number;
  readonly host: string;
  readonly port: number;
  readonly length: number;
}

/** `VER CMD RSV ATYP DST.ADDR DST.PORT`, or undefined until it is all there. */
function readRequest(bytes: Buffer): ParsedRequest | undefined {
  if (bytes.length < 5) return undefined;
  const addressType = bytes[3]!;
  let start = 4;
  let size: number;
  if (addressType === 1) size = 4;
  else if (addressType === 4) size = 16;
  else if (addressType === 3) {
    size = bytes[4]!;
    start = 5;
  } else {
    throw new Error(`test SOCKS server: unknown address type ${addressType}`);
  }
  const length = start + size + 2;
  if (bytes.length < length) return undefined;
  const raw = bytes.subarray(start, start + size);
  let host: string;
  if (addressType === 1) host = [...raw].join('.');
  else if (addressType === 3) host = raw.toString('latin1');
  else {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
    // Node's own parser gives the canonical short form.
    host = new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  if (addressType !== 3 && isIP(host) === 0) throw new Error(`test SOCKS server: bad address ${host}`);
  return { command: bytes[1]!, addressType, host, port: bytes.readUInt16BE(length - 2), length };
}

/** `VER REP RSV ATYP BND.ADDR BND.PORT`. */
function replyBytes(code: number, bound: 'ipv4' | 'ipv6' | 'domain', port = 0): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  if (bound === 'ipv6') {
    const address = Buffer.alloc(16);
    address[15] = 1; // ::1
    return Buffer.concat([Buffer.from([0x05, code, 0x00, 0x04]), address, portBytes]);
  }
  if (bound === 'domain') {
    const name = Buffer.from('proxy.test', 'latin1');
    return Buffer.concat([Buffer.from([0x05, code, 0x00, 0x03, name.length]), name, portBytes]);
  }
  return Buffer.concat([Buffer.from([0x05, code, 0x00, 0x01, 127, 0, 0, 1]), portBytes]);
}
