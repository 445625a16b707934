/**
 * A tiny DNS server on 127.0.0.1 for tests: names map to an address or to a
 * response code (NXDOMAIN, SERVFAIL), so "host not found" and "temporary DNS
 * failure" can be tested without sending a packet off this machine.
 */
import { createSocket, type Socket } from 'node:dgram';

export type DnsAnswer = { a: string } | { srv: ReadonlyArray<{ priority: number; weight: number; port: number; target: string }> } | { rcode: 'NXDOMAIN' | 'SERVFAIL' };

const RCODES = { NXDOMAIN: 3, SERVFAIL: 2 } as const;

export interface DnsServer {
  readonly address: string;
  close(): Promise<void>;
}

export async function startDnsServer(zone: Readonly<Record<string, DnsAnswer>>): Promise<DnsServer> {
  const socket: Socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    const response = answer(query, zone);
    if (response) socket.send(response, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

function answer(query: Buffer, zone: Readonly<Record<string, DnsAnswer>>): Buffer | undefined {
  if (query.length < 12) return undefined;
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const entry = zone[name.toLowerCase()] ?? { rcode: 'NXDOMAIN' as const };
  const rcode = 'rcode' in entry ? RCODES[entry.rcode] : 0;
  const records = 'a' in entry && qtype === 1 ? [aRecord(entry.a)] : 'srv' in entry && qtype === 33 ? entry.srv.map(srvRecord) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8180 | rcode, 2); // response, recursion desired + available
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, question, ...records]);
}

function readName(packet: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  for (let length = packet[at] ?? 0; length > 0 && at < packet.length; length = packet[at] ?? 0) {
    labels.push(packet.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return { name: labels.join('.'), end: at + 1 };
}

function aRecord(address: string): Buffer {
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  record.writeUInt16BE(1, 2); // A
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
  return record;
}

function srvRecord(srv: { priority: number; weight: number; port: number; target: string }): Buffer {
  const target = Buffer.concat([...srv.target.split('.').filter(Boolean).map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])), Buffer.from([0])]);
  const record = Buffer.alloc(12 + 6);
  record.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  record.writeUInt16BE(33, 2); // SRV
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(60, 6);
  record.writeUInt16BE(6 + target.length, 10);
  record.writeUInt16BE(srv.priority, 12);
  record.writeUInt16BE(srv.weight, 14);
  record.writeUInt16BE(srv.port, 16);
  return Buffer.concat([record, target]);
}
