/**
 * Certificates made at test time with the openssl CLI in a private temporary
 * folder: nothing is checked in, nothing expires under the tests' feet, and no
 * test needs a global switch that turns verification off.
 *
 * `openssl ca` signs (rather than `x509 -req`) because OpenSSL 3.0's `x509`
 * cannot set an arbitrary notBefore/notAfter (`-not_before` came in 3.4), and
 * an expired certificate and a CRL both need the CA's database anyway.
 * EC P-256 keys keep generation fast (RSA keys take much longer to make).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls';

export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM text of the certificate and of its private key. */
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  readonly dir: string;
  /** The throwaway CA that signs everything below but `otherCaServer`. */
  readonly caFile: string;
  readonly ca: string;
  /** A second, unrelated CA. */
  readonly otherCaFile: string;
  /** localhost: SAN DNS:localhost, IP:127.0.0.1, IP:::1. */
  readonly server: CertificateFiles;
  /** localhost, but valid only in January 2020. */
  readonly expired: CertificateFiles;
  /** localhost, valid from 2090 on. */
  readonly notYetValid: CertificateFiles;
  /** mail.example.org only. */
  readonly otherName: CertificateFiles;
  /** localhost, revoked in `crlFile`. */
  readonly revoked: CertificateFiles;
  /** localhost, signed by the other CA. */
  readonly otherCaServer: CertificateFiles;
  /** localhost, self-signed. */
  readonly selfSigned: CertificateFiles;
  /** A client certificate (extendedKeyUsage clientAuth) signed by the CA. */
  readonly client: CertificateFiles;
  /** The CA's CRL, revoking `revoked`. */
  readonly crlFile: string;
  /** Removes the folder. */
  cleanup(): void;
}

const LOCALHOST_SAN = 'DNS:localhost,IP:127.0.0.1,IP:::1';

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-certs-'));
  try {
    return build(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function build(dir: string): TestCertificates {
  const openssl = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });

  const ca = makeCa(dir, 'ca', 'Outbox Test CA', openssl);
  const otherCa = makeCa(dir, 'other-ca', 'Outbox Unrelated CA', openssl);

  const sign = (caName: string, name: string, cn: string, san: string, extensions: string, dates?: [string, string]) => {
    const keyFile = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const certFile = join(dir, `${name}.pem`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/O=Outbox Tests/CN=${cn}`]);
    openssl([
      'ca', '-batch', '-notext', '-config', join(dir, `${caName}.cnf`), '-extensions', extensions, '-in', csr, '-out', certFile,
      ...(dates ? ['-startdate', dates[0], '-enddate', dates[1]] : ['-days', '30']),
    ], { SAN: san });
    return files(certFile, keyFile);
  };

  const server = sign('ca', 'server', 'localhost', LOCALHOST_SAN, 'server_ext');
  const expired = sign('ca', 'expired', 'localhost', LOCALHOST_SAN, 'server_ext', ['20200101000000Z', '20200131000000Z']);
  const notYetValid = sign('ca', 'not-yet-valid', 'localhost', LOCALHOST_SAN, 'server_ext', ['20900101000000Z', '20910101000000Z']);
  const otherName = sign('ca', 'other-name', 'mail.example.org', 'DNS:mail.example.org', 'server_ext');
  const revoked = sign('ca', 'revoked', 'localhost', LOCALHOST_SAN, 'server_ext');
  const client = sign('ca', 'client', 'outbox client', 'DNS:client.example.org', 'client_ext');
  const otherCaServer = sign('other-ca', 'other-ca-server', 'localhost', LOCALHOST_SAN, 'server_ext');

  const selfSignedKey = join(dir, 'self-signed.key');
  const selfSignedCert = join(dir, 'self-signed.pem');
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', selfSignedKey, '-out', selfSignedCert,
    '-days', '30', '-subj', '/CN=localhost', '-addext', `subjectAltName=${LOCALHOST_SAN}`]);

  const caConfig = join(dir, 'ca.cnf');
  openssl(['ca', '-config', caConfig, '-revoke', revoked.certFile], { SAN: '' });
  const crlFile = join(dir, 'ca.crl.pem');
  openssl(['ca', '-config', caConfig, '-gencrl', '-crldays', '30', '-out', crlFile], { SAN: '' });

  return {
    dir,
    caFile: ca,
    ca: readFileSync(ca, 'utf8'),
    otherCaFile: otherCa,
    server, expired, notYetValid, otherName, revoked, otherCaServer, client,
    selfSigned: files(selfSignedCert, selfSignedKey),
    crlFile,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A self-signed CA with the database `openssl ca` needs; returns the certificate's path. */
function makeCa(dir: string, name: string, cn: string, openssl: (args: string[]) => Buffer): string {
  const home = join(dir, name);
  mkdirSync(join(home, 'new'), { recursive: true });
  writeFileSync(join(home, 'index.txt'), '');
  writeFileSync(join(home, 'serial'), '1000\n');
  writeFileSync(join(home, 'crlnumber'), '1000\n');
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(join(dir, `${name}.cnf`), caConfig(home, certFile, keyFile));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '365', '-subj', `/O=Outbox Tests/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return certFile;
}

function caConfig(home: string, certFile: string, keyFile: string): string {
  return `[ ca ]
default_ca = test_ca

[ test_ca ]
database = ${home}/index.txt
new_certs_dir = ${home}/new
serial = ${home}/serial
crlnumber = ${home}/crlnumber
certificate = ${certFile}
private_key = ${keyFile}
default_md = sha256
default_crl_days = 30
policy = policy_any
unique_subject = no
email_in_dn = no

[ policy_any ]
organizationName = optional
commonName = supplied

[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN

[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = $ENV::SAN
`;
}

function files(certFile: string, keyFile: string): CertificateFiles {
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

// ---------------------------------------------------------------------------
// Loopback servers for the TLS tests: every socket they accept is tracked and
// destroyed by close(), so no test leaves a handle open.

export interface LoopbackServer {
  readonly port: number;
  /** Every socket accepted (plain; for TLS servers the TLS sockets). */
  readonly sockets: Socket[];
  close(): Promise<void>;
}

/** A TLS server on 127.0.0.1:0 (implicit TLS); `onSecure` plays the SMTP side. */
export async function startTlsServer(options: TlsOptions, onSecure: (socket: TLSSocket) => void = greet): Promise<LoopbackServer> {
  const server = createTlsServer(options, (socket) => onSecure(socket));
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  return listen(server, sockets);
}

/** A plain TCP server on 127.0.0.1:0 (a plaintext SMTP server, or one that upgrades to TLS itself). */
export async function startPlainServer(onSocket: (socket: Socket) => void): Promise<LoopbackServer> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
    // A socket nobody reads never sees the client's FIN, and would look like a leak.
    if (socket.listenerCount('data') === 0) socket.resume();
  });
  return listen(server, sockets);
}

/** Says "220 ready" and answers each line with "250 ok <line>" until QUIT. */
export function greet(socket: TLSSocket | Socket): void {
  socket.on('error', () => {});
  socket.write('220 ready\r\n');
  answerLines(socket);
}

export function answerLines(socket: TLSSocket | Socket): void {
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let end: number;
    while ((end = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (line === 'QUIT') socket.end('221 bye\r\n');
      else socket.write(`250 ok ${line}\r\n`);
    }
  });
}

async function listen(server: NetServer, sockets: Socket[]): Promise<LoopbackServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Waits (briefly) until every connection the servers accepted is closed. The
 * test servers never close a connection on their own accord but by close(),
 * so one still open means the client side leaked its socket.
 */
export async function expectClientsClosed(servers: readonly LoopbackServer[]): Promise<void> {
  const open = () => servers.flatMap((server) => server.sockets).filter((socket) => !socket.destroyed).length;
  // Up to 10 s (well inside the test timeout): a busy machine may be slow to close, a leak never closes.
  for (let i = 0; i < 1000 && open() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (open() > 0) throw new Error(`${open()} connections still open: a client socket was not closed`);
}

/** Open TCP handles of this process (client sockets and servers), for "nothing left open" checks. */
export function openTcpHandles(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap' || name === 'TCPServerWrap' || name === 'TLSWrap').length;
}

/** Waits until no TCP handle is left open (up to 10 s, well inside the hook timeout); fails the test otherwise. */
export async function expectNoOpenHandles(): Promise<void> {
  for (let i = 0; i < 1000 && openTcpHandles() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const left = openTcpHandles();
  if (left > 0) throw new Error(`${left} TCP handles left open: ${process.getActiveResourcesInfo().join(', ')}`);
}
