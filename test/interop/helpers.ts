/**
 * What the interop cases share: the running servers (described by the
 * setup.json that servers.sh writes and run.sh names in INTEROP_SETUP),
 * running outbox, msmtp and mail clients as separate processes, waiting for a
 * mail to arrive in a Maildir, and taking off the headers the server added.
 *
 * Every wait here is bounded; a timeout fails the case with what the server
 * logged, never hangs the suite.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, TLSSocket, type PeerCertificate } from 'node:tls';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The built CLI, started the way users and MUAs start it. INTEROP_OUTBOX names
 * another one (a build elsewhere, or a deliberately broken copy when checking
 * that the cases catch a fault).
 */
export const OUTBOX = process.env['INTEROP_OUTBOX'] ?? join(REPO, 'bin', 'outbox');

export interface InteropSetup {
  readonly dir: string;
  readonly host: string;
  /** The test domain: Postfix delivers it to Maildirs, Dovecot accepts it over LMTP. */
  readonly domain: string;
  /** The password of every user (Dovecot passdb, so also Postfix SASL). */
  readonly password: string;
  /** Short name → address, e.g. alice → alice@example.test. */
  readonly users: Readonly<Record<'alice' | 'bob' | 'carol' | 'full', string>>;
  readonly tls: { readonly ca: string; readonly cert: string; readonly key: string; readonly names: readonly string[] };
  readonly postfix: {
    readonly configDir: string;
    readonly queueDir: string;
    readonly maillog: string;
    /** Maildirs: `<mailboxes>/<user>/new`. */
    readonly mailboxes: string;
    readonly ports: { readonly smtp: number; readonly submission: number; readonly smtps: number };
    readonly sizeLimit: number;
    /** ETRN for this domain is accepted (fast_flush_domains). */
    readonly flushDomain: string;
    /** RCPT TO this address (alice+tempfail@…) gets 450 4.2.0. */
    readonly tempfailRecipient: string;
    /** Mail from this sender gets 451 4.3.0 after the final dot. */
    readonly tempfailAfterDataSender: string;
    /** Mail from this sender gets 554 5.7.1 after the final dot. */
    readonly rejectAfterDataSender: string;
    /** A hash: access map checked at RCPT, empty at first: setGreylist writes it. */
    readonly greylistMap: string;
  };
  readonly dovecot: {
    readonly config: string;
    readonly log: string;
    readonly authSocket: string;
    readonly mailboxes: string;
    readonly ports: { readonly lmtp: number };
    /** This user's quota is smaller than any mail: LMTP refuses it after the data. */
    readonly quotaUser: string;
  };
  /** Issue 15: a Postfix listener without 8BITMIME; mail for `recipient` goes on to Dovecot over LMTP (its Maildir: maildir('lmtp', recipient)). */
  readonly sevenbit: { readonly port: number; readonly recipient: string };
  /** Dante, a SOCKS5 proxy on loopback. */
  readonly socks: { readonly port: number; readonly log: string };
  /** HOME for the programs the cases run (no dot files of the machine leak in). */
  readonly home: string;
  /** Free for the cases' own files. */
  readonly scratch: string;
}

let cached: InteropSetup | undefined;

export function interopSetup(): InteropSetup {
  if (cached) return cached;
  const file = process.env['INTEROP_SETUP'];
  if (!file || !existsSync(file)) {
    throw new Error('INTEROP_SETUP does not name a setup.json: run the suite with `bash test/interop/run.sh`'
      + ' (or start the servers with `bash test/interop/servers.sh start`)');
  }
  cached = JSON.parse(readFileSync(file, 'utf8')) as InteropSetup;
  return cached;
}

/** A token that marks one case's mail, so cases never mistake each other's mail. */
export function uniqueId(label = 'mail'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Standard input: one buffer, or pieces written one at a time with a pause after each (a slow pipe). */
  readonly input?: string | Buffer | { readonly pieces: readonly (string | Buffer)[]; readonly pauseMs: number };
  /** Added to a minimal environment: PATH, HOME (the setup's), LANG=C.UTF-8. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The process is killed, and the case fails, past this. */
  readonly timeoutMs?: number;
}

/** Runs a program to its end with bounded time; never throws for a non-zero exit. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO,
      env: {
        PATH: process.env['PATH'],
        HOME: interopSetup().home,
        LANG: 'C.UTF-8',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the program may exit before reading all its input
    void writeInput(child.stdin, options.input);
  });
}

async function writeInput(stdin: NodeJS.WritableStream, input: RunOptions['input']): Promise<void> {
  if (input === undefined || typeof input === 'string' || Buffer.isBuffer(input)) {
    stdin.end(input ?? '');
    return;
  }
  for (const piece of input.pieces) {
    stdin.write(piece);
    await sleep(input.pauseMs);
  }
  stdin.end();
}

/** Where a client sends: Postfix's plain listener, or Dovecot's LMTP. */
export type Target = 'postfix' | 'lmtp';

/** --host, --port (and --protocol) for a target: the options outbox and msmtp share. */
export function serverOptions(target: Target = 'postfix'): string[] {
  const setup = interopSetup();
  return target === 'postfix'
    ? [`--host=${setup.host}`, `--port=${setup.postfix.ports.smtp}`]
    : [`--host=${setup.host}`, `--port=${setup.dovecot.ports.lmtp}`, '--protocol=lmtp'];
}

/** The sender every case uses unless it says otherwise (a domain that is not delivered). */
export const SENDER = 'sender@sender.test';

/** `bin/outbox ARGS < input`. A --timeout keeps a stuck server from holding the case. */
export function runOutbox(args: readonly string[], input: RunOptions['input'], options: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [OUTBOX, '--timeout=20', ...args], { ...options, input });
}

/** `msmtp ARGS < input`. With --host, msmtp reads no configuration file. */
export function runMsmtp(args: readonly string[], input: RunOptions['input'], options: RunOptions = {}): Promise<RunResult> {
  return run('msmtp', ['--timeout=20', ...args], { ...options, input });
}

/** outbox to a target with -f SENDER: the common call. */
export function sendWithOutbox(
  recipients: readonly string[],
  mail: RunOptions['input'],
  { target = 'postfix', from = SENDER, extra = [] }: { target?: Target; from?: string; extra?: readonly string[] } = {},
): Promise<RunResult> {
  return runOutbox([...serverOptions(target), '-f', from, ...extra, '--', ...recipients], mail);
}

/** msmtp with the same options as sendWithOutbox. */
export function sendWithMsmtp(
  recipients: readonly string[],
  mail: RunOptions['input'],
  { target = 'postfix', from = SENDER, extra = [] }: { target?: Target; from?: string; extra?: readonly string[] } = {},
): Promise<RunResult> {
  return runMsmtp([...serverOptions(target), '-f', from, ...extra, '--', ...recipients], mail);
}

/** A mail as it lies in a Maildir (line ends are LF there). */
export interface StoredMail {
  readonly path: string;
  readonly raw: Buffer;
}

/** The Maildir of a user (short name or address) in Postfix's or Dovecot's store. */
export function maildir(store: Target, user: string): string {
  const setup = interopSetup();
  const name = user.replace(/@.*$/, '').replace(/\+.*$/, '');
  return join(store === 'postfix' ? setup.postfix.mailboxes : setup.dovecot.mailboxes, name);
}

/** Every mail in a Maildir (new/ and cur/) that contains the token. */
export function findMail(store: Target, user: string, token: string | Buffer): StoredMail[] {
  const found: StoredMail[] = [];
  for (const sub of ['new', 'cur']) {
    const dir = join(maildir(store, user), sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const raw = readFileSync(path);
      if (raw.includes(token)) found.push({ path, raw });
    }
  }
  return found;
}

/**
 * Polls a Maildir until `count` mails containing the token are there (Maildir
 * delivery renames into new/, so a file seen is complete). Fails after
 * `timeoutMs` with the end of the server's log.
 */
export async function waitForMail(
  store: Target,
  user: string,
  token: string | Buffer,
  { count = 1, timeoutMs = 20_000 }: { count?: number; timeoutMs?: number } = {},
): Promise<StoredMail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = findMail(store, user, token);
    if (found.length >= count) return found;
    if (Date.now() >= deadline) {
      throw new Error(`${count} mail(s) with ${String(token)} did not reach ${store} mailbox ${user} within ${timeoutMs} ms `
        + `(found ${found.length})\n${serverLogTail(store)}`);
    }
    await sleep(100);
  }
}

/**
 * For a mail that must not arrive: waits (bounded) until Postfix's queue is
 * empty, so anything it had accepted is delivered by now, then returns what
 * is there. Dovecot's LMTP stores before it replies, so it needs no wait.
 */
export async function settledMail(store: Target, user: string, token: string | Buffer): Promise<StoredMail[]> {
  if (store === 'postfix') await waitForEmptyQueue();
  return findMail(store, user, token);
}

export async function waitForEmptyQueue(timeoutMs = 20_000): Promise<void> {
  const setup = interopSetup();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = await run('postqueue', ['-c', setup.postfix.configDir, '-j'], { timeoutMs: 10_000 });
    if (queue.status === 0 && queue.stdout.trim() === '') return;
    if (Date.now() >= deadline) {
      throw new Error(`Postfix's queue was not empty within ${timeoutMs} ms:\n${queue.stdout}${queue.stderr}\n${serverLogTail('postfix')}`);
    }
    await sleep(200);
  }
}

/**
 * Greylisting on demand: Postfix answers RCPT TO each of these addresses with
 * `450 4.7.1 … greylisted (interop)` from now on, and accepts every other one
 * again (an empty list lifts it). The new map is built beside the old one and
 * renamed over it, so the running smtpd sees its open map unlinked and
 * restarts before it accepts the next connection: the change holds for the
 * very next one, without a reload.
 */
export async function setGreylist(addresses: readonly string[]): Promise<void> {
  const { greylistMap, configDir } = interopSetup().postfix;
  const next = `${greylistMap}.next`;
  writeFileSync(next, addresses.map((a) => `${a.toLowerCase()} 450 4.7.1 greylisted (interop)\n`).join(''));
  const made = await run('postmap', ['-c', configDir, `hash:${next}`], { timeoutMs: 10_000 });
  if (made.status !== 0) throw new Error(`postmap failed (${made.status}): ${made.stderr}`);
  renameSync(`${next}.db`, `${greylistMap}.db`);
  renameSync(next, greylistMap);
}

/** How far Postfix's log reaches now: logSince(mark) is what it logged after. */
export function logMark(): number {
  const file = interopSetup().postfix.maillog;
  return existsSync(file) ? readFileSync(file).length : 0;
}

export function logSince(mark: number): string {
  return readFileSync(interopSetup().postfix.maillog).subarray(mark).toString('utf8');
}

/** The last lines of Postfix's or Dovecot's log, for failure messages. */
export function serverLogTail(store: Target, lines = 30): string {
  const setup = interopSetup();
  const file = store === 'postfix' ? setup.postfix.maillog : setup.dovecot.log;
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, 'utf8').split('\n');
  return `--- last lines of ${file}:\n${text.slice(-lines).join('\n')}`;
}

/** Headers a delivering server puts on top of a mail (Postfix virtual, Dovecot LMTP). */
export const SERVER_HEADERS = ['return-path', 'x-original-to', 'delivered-to', 'received'] as const;
/** Headers a client (msmtp) adds when the mail lacks them. */
export const CLIENT_GENERATED_HEADERS = ['date', 'message-id'] as const;

export interface SplitMail {
  /** The header fields taken off the top, each with its continuation lines, without the final LF. */
  readonly removed: string[];
  /** The rest of the mail, byte for byte. */
  readonly rest: Buffer;
}

/**
 * Takes off the header fields at the very top of a stored mail whose names
 * are in `names` (case-insensitive), stopping at the first other field: what
 * the server (and, if asked, the client) prepended, and nothing the sender wrote
 * further down.
 */
export function takeLeadingHeaders(raw: Buffer, names: readonly string[] = SERVER_HEADERS): SplitMail {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const removed: string[] = [];
  let at = 0;
  for (;;) {
    const colon = raw.indexOf(':', at);
    const eol = raw.indexOf('\n', at);
    if (colon < 0 || eol < 0 || colon > eol) break;
    const name = raw.subarray(at, colon).toString('latin1').toLowerCase();
    if (!wanted.has(name)) break;
    let end = eol + 1; // and the continuation lines
    while (end < raw.length && (raw[end] === 0x20 || raw[end] === 0x09)) {
      const next = raw.indexOf('\n', end);
      end = next < 0 ? raw.length : next + 1;
    }
    removed.push(raw.subarray(at, end).toString('latin1').replace(/\n$/, ''));
    at = end;
  }
  return { removed, rest: raw.subarray(at) };
}

/** The mail as the sender wrote it, apart from the headers the server prepended. */
export function withoutServerHeaders(raw: Buffer): Buffer {
  return takeLeadingHeaders(raw).rest;
}

/** A header's value from a stored mail's header block (first occurrence, unfolded). */
export function headerValue(raw: Buffer, name: string): string | undefined {
  const end = raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? raw.length : end).toString('latin1').replace(/\n[ \t]+/g, ' ');
  const line = head.split('\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** CRLF → LF: a mail as sent, the way a Maildir keeps it. */
export function asStored(sent: string | Buffer): Buffer {
  const bytes = typeof sent === 'string' ? Buffer.from(sent, 'utf8') : sent;
  return Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

/** A small, complete test mail (CRLF, with Date and Message-ID so no client adds them). */
export function testMail(id: string, { to = 'alice@example.test', subject = `interop ${id}`, body = 'Hello from the interop suite.\r\n' } = {}): string {
  return [
    `From: Interop Sender <${SENDER}>`,
    `To: ${to}`,
    `Subject: ${subject}`,
    'Date: Fri, 21 Nov 2025 12:00:00 +0000',
    `Message-ID: <${id}@interop.test>`,
    `X-Interop-Id: ${id}`,
    '',
    '',
  ].join('\r\n') + body;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface ProbeReply {
  readonly code: number;
  /** The text of each line, after "250-" / "250 ". */
  readonly lines: string[];
}

/**
 * A minimal SMTP/LMTP speaker for checking what a server offers (capabilities,
 * STARTTLS, implicit TLS, AUTH) without outbox. Certificates are checked
 * against the setup's throwaway CA, never switched off.
 */
export class SmtpProbe {
  private buffer = '';
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private socket: Socket) {
    this.listen();
  }

  /** Connects to 127.0.0.1:port; with `tls`, as an implicit-TLS client verifying `servername`. */
  static async connect(port: number, { tls = false, servername = 'localhost' }: { tls?: boolean; servername?: string } = {}): Promise<SmtpProbe> {
    const setup = interopSetup();
    const socket = tls
      ? tlsConnect({ host: setup.host, port, ca: readFileSync(setup.tls.ca), ...tlsName(servername) })
      : netConnect({ host: setup.host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new SmtpProbe(socket);
  }

  /** The next complete reply (multi-line replies joined), within `timeoutMs`. */
  async reply(timeoutMs = 10_000): Promise<ProbeReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        const lines = match[0].split('\r\n').filter((l) => l !== '');
        return { code: Number(lines[0]!.slice(0, 3)), lines: lines.map((l) => l.slice(4)) };
      }
      if (this.closed) throw new Error(`connection closed before a complete reply: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete reply within ${timeoutMs} ms: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  async command(line: string): Promise<ProbeReply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  /** After a 220 to STARTTLS: the TLS handshake on the same connection, verifying `servername`. */
  async upgrade(servername = 'localhost'): Promise<void> {
    const setup = interopSetup();
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, ca: readFileSync(setup.tls.ca), ...tlsName(servername) });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen();
  }

  get encrypted(): boolean {
    return this.socket instanceof TLSSocket;
  }

  close(): void {
    this.socket.destroy();
  }

  private listen(): void {
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.wake?.();
    });
    this.socket.on('close', () => { this.closed = true; this.wake?.(); });
    this.socket.on('error', () => { this.closed = true; this.wake?.(); });
  }
}

/** SNI takes a host name, not an address; an address is checked against the certificate's IP names. */
function tlsName(name: string): { servername?: string; checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined } {
  return {
    ...(isIP(name) ? {} : { servername: name }),
    checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
  };
}
