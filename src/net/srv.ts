/**
 * Finding the submission server of a mail domain (RFC 6186, RFC 8314 §5.1):
 * `_submissions._tcp.DOMAIN` (implicit TLS) is preferred to
 * `_submission._tcp.DOMAIN` (STARTTLS). A target of "." says the service is
 * not offered there. Records are taken by priority, then weight.
 */
import { Resolver } from 'node:dns/promises';
import { OutboxError } from '../errors.js';
import { asciiHost } from './idn.js';

export interface SubmissionServer {
  readonly host: string;
  readonly port: number;
  /** true: implicit TLS (`submissions`); false: STARTTLS (`submission`). */
  readonly implicitTls: boolean;
  /** The name that was looked up. */
  readonly record: string;
}

export type ResolveSrv = (name: string) => Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;

/** SRV lookups through the system's DNS servers, or one server (`ip[:port]`, as OUTBOX_DNS_SERVER). */
export function srvResolver(server?: string): ResolveSrv {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (server) resolver.setServers([server]);
  return (name) => resolver.resolveSrv(name);
}

export async function findSubmissionServer(domain: string, resolveSrv: ResolveSrv): Promise<SubmissionServer> {
  const ascii = asciiHost(domain);
  if (!ascii) throw new OutboxError('E_USAGE', `${JSON.stringify(domain)} is not a valid mail domain`);
  const looked: string[] = [];
  for (const [service, implicitTls] of [['_submissions._tcp', true], ['_submission._tcp', false]] as const) {
    const record = `${service}.${ascii}`;
    looked.push(record);
    const found = await lookup(record, resolveSrv);
    const best = found.filter((r) => r.name !== '' && r.name !== '.').sort((a, b) => a.priority - b.priority || b.weight - a.weight)[0];
    if (best) return { host: best.name.replace(/\.$/, ''), port: best.port, implicitTls, record };
  }
  throw new OutboxError('E_NO_SERVER_FOUND', `no submission server found for ${domain}: no usable SRV record ${looked.join(' or ')}`);
}

async function lookup(name: string, resolveSrv: ResolveSrv): Promise<Array<{ name: string; port: number; priority: number; weight: number }>> {
  try {
    return await resolveSrv(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw new OutboxError('E_DNS_TEMPORARY', `cannot look up ${name}: temporary DNS failure (${code ?? String(error)})`, { transient: true, cause: error });
  }
}
