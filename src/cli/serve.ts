/**
 * `outbox serve` / `outboxd`: msmtpd's job and E-MailRelay's, on outbox's
 * backends. Turns the options into a ServerConfig (src/server/server-config.ts),
 * refuses unsafe or broken settings before listening, and runs the server
 * (src/server/server.ts) until SIGTERM or SIGINT, then stops listening, lets the
 * sessions finish for a bounded time, and exits 0.
 *
 * Safety (issue 14): a non-loopback --interface without --auth is refused
 * (64); TLS files that cannot be read are a configuration error (78) naming
 * the file. The password of --auth is never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { firstOutputLine, resolvePassword, systemSecretDeps } from '../config/index.js';
import { OutboxError, strerror } from '../errors.js';
import { saslprep } from '../sasl/saslprep.js';
import { scramCredentials } from '../sasl/server.js';
import type { Backend } from '../server/backend.js';
import { CommandBackend } from '../server/backends/command.js';
import { filterBackend } from '../server/backends/filter.js';
import { createMaildir, MaildirBackend } from '../server/backends/maildir.js';
import type { ServerAuth, ServerConfig, ServerTls } from '../server/server-config.js';
import { EX_OK } from './exit-status.js';
import { serverLogger } from './serve-log.js';
import { parseServeCommandLine, type ServeOptions } from './serve-options.js';
import { queueBackend, relayBackend } from './serve-relay.js';
import { serveStreams, startServer } from '../server/server.js';
import type { Stdio } from './stdio.js';
import { removeTempFilesOnExit } from './temp-cleanup.js';

/** How long sessions get to finish after SIGTERM before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export async function runServe(argv: readonly string[], io: Stdio): Promise<number> {
  const outcome = parseServeCommandLine(argv);
  if (outcome.kind === 'printed') {
    io.writeOut(outcome.text);
    return EX_OK;
  }
  const options = outcome.options;
  checkSafety(options);
  const tls = loadTls(options);
  removeTempFilesOnExit();
  const config: ServerConfig = {
    protocol: options.lmtp ? 'lmtp' : 'smtp',
    hostname: osHostname(),
    backend: await backendFor(options, io),
    sizeLimit: options.maxSize,
    maxRecipients: options.maxRecipients,
    maxSessions: options.maxSessions,
    maxLineLength: 4096,
    idleTimeoutMs: options.idleTimeoutMs,
    dataTimeoutMs: options.dataTimeoutMs,
    // The relay's every step has RFC 5321's timeout; a backstop 451 while it still delivers would bring the mail again.
    ...(options.backend === 'relay' ? { commitTimeoutMs: 'none' as const } : {}),
    // Under --inetd the peer is whoever inetd or systemd accepted: not known to be local, so AUTH with a readable password needs TLS.
    loopback: !options.inetd && isLoopback(options.interface),
    onLog: serverLogger(options.log, io),
    ...(tls ? { tls } : {}),
    ...(options.auth ? { auth: await authFor(options.auth) } : {}),
  };
  if (options.inetd) {
    await serveStreams(config, process.stdin, process.stdout);
    return EX_OK;
  }
  const server = await startServer(config, { host: options.interface, port: options.port }).catch((error: unknown) => {
    if (error instanceof OutboxError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new OutboxError('E_IO', `cannot listen on ${options.interface} port ${options.port}: ${code ?? (error as Error).message}`, { cause: error });
  });
  await stopSignal();
  // Sessions get SHUTDOWN_GRACE_MS to end on their own; then they are cut, and the close itself is bounded too.
  const closing = server.drain ? server.drain(SHUTDOWN_GRACE_MS) : server.close();
  await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 2 * SHUTDOWN_GRACE_MS).unref())]);
  return EX_OK;
}

/**
 * Resolves at the first SIGTERM or SIGINT. The listeners stay: while they
 * are there, the spool's cleanup handler (temp-cleanup.ts) does not re-raise
 * the signal and kill the process in the middle of the bounded shutdown;
 * the spool folders go at exit instead.
 */
function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => resolve();
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1' || /^::ffff:127\./i.test(address);
}

function checkSafety(options: ServeOptions): void {
  if (!options.inetd && !isLoopback(options.interface) && options.auth === undefined) {
    throw new OutboxError('E_USAGE', `refusing to listen on ${options.interface} without --auth: anyone who can reach it could send mail through this machine (use --auth=USER[,passwordeval], or a loopback --interface)`);
  }
}

function loadTls(options: ServeOptions): ServerTls | undefined {
  if (options.tlsCertFile === undefined || options.tlsKeyFile === undefined) return undefined;
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new OutboxError('E_CONFIG', `cannot read the TLS ${what} file ${file}: ${strerror(error)}`, { cause: error });
    }
  };
  const cert = read(options.tlsCertFile, 'certificate');
  const key = read(options.tlsKeyFile, 'key');
  try {
    return { context: createSecureContext({ cert, key }), implicit: options.tlsImplicit };
  } catch (error) {
    throw new OutboxError('E_CONFIG', `cannot use ${options.tlsCertFile} with ${options.tlsKeyFile}: ${(error as Error).message}`, { cause: error });
  }
}

async function backendFor(options: ServeOptions, stdio: Stdio): Promise<Backend> {
  // Under --inetd standard output is the SMTP stream: whatever a send would print there (a `logfile -`) goes to stderr.
  const io: Stdio = { ...stdio, writeOut: stdio.writeErr };
  const relay = { ...(options.file !== undefined ? { file: options.file } : {}), ...(options.account !== undefined ? { account: options.account } : {}) };
  let backend: Backend;
  switch (options.backend) {
    case 'maildir':
      try {
        await createMaildir(options.maildir!);
      } catch (error) {
        throw new OutboxError('E_IO', `cannot make the Maildir ${options.maildir}: ${(error as Error).message}`, { cause: error });
      }
      backend = new MaildirBackend(options.maildir!);
      break;
    case 'command':
      backend = new CommandBackend({ command: options.command!, env: io.env });
      break;
    case 'queue':
      backend = queueBackend(relay, io);
      break;
    case 'relay':
      backend = relayBackend(relay, io);
      break;
  }
  return options.filter !== undefined ? filterBackend(backend, { command: options.filter, env: io.env }) : backend;
}

/** msmtpd's --auth: the password from passwordeval, else the keyring, netrc or a prompt (for host "localhost"). */
export async function authFor(auth: NonNullable<ServeOptions['auth']>, deps = systemSecretDeps()): Promise<ServerAuth> {
  let password: string | undefined;
  if (auth.passwordeval !== undefined) {
    const output = firstOutputLine(await deps.runCommand(auth.passwordeval));
    if (!output.ok) throw new OutboxError('E_CONFIG', `--auth: cannot get the password: ${output.reason}`);
    password = output.line;
  } else {
    const account = { name: '--auth', file: null, line: null, sources: {}, host: 'localhost', user: auth.user, password: null, passwordeval: null };
    password = (await resolvePassword(account as unknown as Parameters<typeof resolvePassword>[0], deps))?.password;
    if (password === undefined) throw new OutboxError('E_CONFIG', `--auth: cannot get the password for (localhost, smtp, ${auth.user})`);
  }
  const expected = digest(`${auth.user}\0${password}`);
  // SCRAM-SHA-256's stored keys, made once: the password itself is not kept for it. A password SASLprep refuses gets no SCRAM.
  const scram = scramCredentials(password);
  const scramUser = saslprep(auth.user);
  return {
    // Digests of equal length, compared in constant time: the answer's timing says nothing about the password.
    verify: async (user, given) => timingSafeEqual(digest(`${user}\0${given}`), expected),
    ...(scram && scramUser.ok ? { scram: async (user: string) => (user === scramUser.value ? scram : undefined) } : {}),
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
