#!/usr/bin/env node
// Full vs resumed TLS handshake, in one process, to a loopback TLS server:
// outbox's own connectTls (dist/net/tls-connect.js, built by npm run build)
// with an empty session cache, then with the cache the first run filled.
// Certificates are made at run time with openssl (a throwaway CA + localhost).
// Prints medians and the saving; writes nothing outside a temp folder.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';

const RUNS = 40;
const dir = mkdtempSync(join(tmpdir(), 'outbox-bench-tls-'));
const sh = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA and a localhost certificate; RSA 2048 by default, as most mail servers still use. */
function makeCertificates(key) {
  const newkey = key === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  sh('req', '-x509', ...newkey, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bench CA');
  sh('req', ...newkey, '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  sh('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(key, maxVersion) {
  makeCertificates(key);
  const { connectTls } = await import(new URL('../dist/net/tls-connect.js', import.meta.url).href);
  const server = createServer({ key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')), maxVersion }, (socket) => {
    socket.on('error', () => {});
    socket.end('220 bench\r\n');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  const policy = (cache) => ({
    mode: 'tls', trustFile: join(dir, 'ca.pem'), crlFile: null, fingerprint: null, certcheck: true, hostOverride: null,
    certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: cache,
  });
  const once = async (cache) => {
    const started = process.hrtime.bigint();
    const { transport, info } = await connectTls({ host: 'localhost', port, timeoutMs: 5000 }, policy(cache));
    await transport.read(5000); // the greeting: a TLS 1.3 ticket arrives with it
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    transport.destroy();
    return { ms, resumed: info.resumed };
  };
  const full = [];
  const resumed = [];
  let resumedCount = 0;
  for (let i = 0; i < RUNS; i++) {
    const cache = join(dir, `cache-${i}`);
    full.push((await once(cache)).ms);
    const second = await once(cache);
    resumed.push(second.ms);
    if (second.resumed) resumedCount++;
  }
  server.close();
  const f = median(full);
  const r = median(resumed);
  console.log(`TLS handshake to loopback (${maxVersion === 'TLSv1.2' ? 'TLS 1.2' : 'TLS 1.3'}, ${key === 'ec' ? 'ECDSA P-256' : 'RSA 2048'}, ${RUNS} pairs): full ${f.toFixed(2)} ms, resumed ${r.toFixed(2)} ms (median); `
    + `resumed/full ${(r / f).toFixed(2)}x, saving ${(f - r).toFixed(2)} ms; ${resumedCount}/${RUNS} second connections resumed`);
}

try {
  for (const [key, maxVersion] of [['rsa', 'TLSv1.3'], ['ec', 'TLSv1.3'], ['rsa', 'TLSv1.2']]) await main(key, maxVersion);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
