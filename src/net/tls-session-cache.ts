/**
 * TLS sessions kept across runs, so the next connection to the same server
 * resumes instead of repeating the full handshake (one round trip and the
 * certificate checks fewer). One file per host, port and verification
 * settings: a session is only resumed under the exact settings it was
 * verified with, because a resumed handshake shows no certificate and Node
 * does not check one again.
 *
 * The cache is an optimisation and never a reason to fail: every problem
 * (unwritable folder, corrupt or foreign file, clock jump) means a full
 * handshake, silently. Session files hold secrets that can decrypt a TLS 1.2
 * resumed session, so the folder is 0700 and files are 0600 and ours, or unused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CachedSession {
  /** The session as Node gives it (`'session'` event) and takes it (`session` option). */
  readonly session: Buffer;
  /** DER of the server certificate the session was verified with: a resumed handshake does not show it again. */
  readonly certificate: Buffer;
}

export interface SessionCache {
  load(): CachedSession | undefined;
  /** Synchronous, so a ticket that arrives just before the connection closes is not lost. */
  save(entry: CachedSession): void;
}

/** The longest a session is kept, whatever the server's ticket lifetime says. */
export const MAX_SESSION_AGE_MS = 24 * 60 * 60 * 1000;
const MAX_FILE_SIZE = 64 * 1024;
const FORMAT = 1;

interface Entry {
  readonly format: number;
  readonly key: string;
  readonly savedAt: number;
  readonly expiresAt: number;
  readonly session: string;
  readonly certificate: string;
}

/** The cache entry of one server (host, port) under one set of verification settings (`PreparedTls.settingsKey`). */
export function openSessionCache(dir: string, host: string, port: number, settingsKey: string, now: () => number = Date.now): SessionCache {
  const name = host.toLowerCase();
  const key = createHash('sha256').update(`${name}\n${port}\n${settingsKey}`).digest('hex');
  // Readable names so one server's sessions can be removed by hand; the key makes them unique.
  const prefix = `${name.replace(/[^a-z0-9.-]/g, '_').slice(0, 100)}_${port}_`;
  const file = join(dir, `${prefix}${key.slice(0, 32)}.session`);
  return {
    load: () => load(file, key, now()),
    save: (entry) => save(dir, prefix, file, key, entry, now()),
  };
}

function load(file: string, key: string, now: number): CachedSession | undefined {
  let text: string;
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || !isPrivateFile(stat) || stat.size > MAX_FILE_SIZE) return undefined;
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const entry = parse(text, key, now);
  if (!entry) remove(file);
  return entry;
}

function parse(text: string, key: string, now: number): CachedSession | undefined {
  try {
    const entry = JSON.parse(text) as Partial<Entry>;
    if (entry.format !== FORMAT || entry.key !== key) return undefined;
    if (typeof entry.savedAt !== 'number' || typeof entry.expiresAt !== 'number') return undefined;
    // Expired, or saved "in the future": the clock moved; either way, start afresh.
    if (now >= entry.expiresAt || entry.savedAt > now + 60_000) return undefined;
    if (typeof entry.session !== 'string' || typeof entry.certificate !== 'string') return undefined;
    const session = Buffer.from(entry.session, 'base64');
    const certificate = Buffer.from(entry.certificate, 'base64');
    if (derLength(session) !== session.length || derLength(certificate) !== certificate.length) return undefined;
    return { session, certificate };
  } catch {
    return undefined;
  }
}

function save(dir: string, prefix: string, file: string, key: string, entry: CachedSession, now: number): void {
  const tmp = join(dir, `.${randomBytes(8).toString('hex')}.tmp`);
  try {
    if (!privateFolder(dir)) return;
    const lifetime = Math.min((sessionLifetimeSeconds(entry.session) ?? Infinity) * 1000, MAX_SESSION_AGE_MS);
    const record: Entry = {
      format: FORMAT,
      key,
      savedAt: now,
      expiresAt: now + lifetime,
      session: entry.session.toString('base64'),
      certificate: entry.certificate.toString('base64'),
    };
    writeFileSync(tmp, JSON.stringify(record), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
    // Sessions of this server under settings no longer in use would only wait to expire.
    for (const name of readdirSync(dir)) {
      const sameServer = name.startsWith(prefix) && /^[0-9a-f]{32}\.session$/.test(name.slice(prefix.length));
      if (sameServer && join(dir, name) !== file) remove(join(dir, name));
    }
  } catch {
    remove(tmp);
  }
}

/** Creates the folder 0700, or tightens it; refuses one that is not ours. */
function privateFolder(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || !ours(stat)) return false;
  if ((stat.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return true;
}

function isPrivateFile(stat: { uid: number; mode: number }): boolean {
  return ours(stat) && (stat.mode & 0o077) === 0;
}

function ours(stat: { uid: number }): boolean {
  const uid = process.getuid?.();
  return uid === undefined || stat.uid === uid;
}

function remove(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or not ours to remove: either way nothing to do.
  }
}

/**
 * The length a DER value says it has (tag, length, contents), or -1 when the
 * bytes cannot be one. Enough to tell a session or certificate from garbage.
 */
export function derLength(der: Uint8Array): number {
  const header = derHeader(der, 0);
  return header ? header.start + header.length : -1;
}

/**
 * The ticket lifetime the server announced (SSL_SESSION's [9]), else the
 * session timeout ([2]), in seconds. Node exposes neither, so the session's
 * DER (OpenSSL's SSL_SESSION_ASN1, a SEQUENCE of tagged fields) is read.
 */
export function sessionLifetimeSeconds(der: Uint8Array): number | undefined {
  const outer = derHeader(der, 0);
  if (!outer || der[0] !== 0x30) return undefined;
  let timeout: number | undefined;
  let hint: number | undefined;
  for (let at = outer.start; at < outer.start + outer.length;) {
    const field = derHeader(der, at);
    if (!field) return undefined;
    const tag = der[at];
    if (tag === 0xa2 || tag === 0xa9) {
      const value = derInteger(der, field.start);
      if (tag === 0xa2) timeout = value;
      else hint = value;
    }
    at = field.start + field.length;
  }
  return hint !== undefined && hint > 0 ? hint : timeout !== undefined && timeout > 0 ? timeout : undefined;
}

function derHeader(der: Uint8Array, at: number): { start: number; length: number } | undefined {
  const first = der[at + 1];
  if (der[at] === undefined || first === undefined) return undefined;
  if (first < 0x80) return { start: at + 2, length: first };
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i++) {
    const byte = der[at + 2 + i];
    if (byte === undefined) return undefined;
    length = length * 256 + byte;
  }
  const start = at + 2 + octets;
  return start + length <= der.length ? { start, length } : undefined;
}

function derInteger(der: Uint8Array, at: number): number | undefined {
  const header = derHeader(der, at);
  if (der[at] !== 0x02 || !header || header.length > 6) return undefined;
  let value = 0;
  for (let i = 0; i < header.length; i++) value = value * 256 + (der[header.start + i] ?? 0);
  return value;
}
