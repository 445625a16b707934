/**
 * `outbox serve` (or `outboxd`)'s command line: msmtpd's options unchanged
 * (--interface, --port, --inetd, --log, --command, --auth), then outbox's
 * own (backends, TLS, limits, LMTP). Parsed with commander into a plain
 * value; parsing never exits, usage errors are OutboxError('E_USAGE').
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';
import { OutboxError } from '../errors.js';
import { SERVER_DEFAULTS } from '../server/server-config.js';
import { helpOption } from './help-groups.js';
import { VERSION } from './version.js';

export type ServeBackendKind = 'relay' | 'command' | 'queue' | 'maildir';

export interface ServeOptions {
  readonly interface: string;
  readonly port: number;
  readonly inetd: boolean;
  /** "none", "syslog" or a file name (msmtpd's --log). */
  readonly log: string;
  readonly backend: ServeBackendKind;
  readonly command?: string;
  readonly maildir?: string;
  /** --account=NAME: relay through this account whatever the sender. */
  readonly account?: string;
  readonly filter?: string;
  /** --auth=USER[,passwordeval], split. */
  readonly auth?: { readonly user: string; readonly passwordeval?: string };
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly tlsImplicit: boolean;
  readonly maxSessions: number;
  readonly maxSize: number;
  readonly maxRecipients: number;
  readonly idleTimeoutMs: number;
  readonly dataTimeoutMs: number;
  readonly lmtp: boolean;
  /** -C FILE: the configuration the relay and queue backends read. */
  readonly file?: string;
}

export type ServeParseOutcome = { readonly kind: 'run'; readonly options: ServeOptions } | { readonly kind: 'printed'; readonly text: string };

/** msmtpd's defaults. */
const DEFAULT_INTERFACE = '127.0.0.1';
const DEFAULT_PORT = 25;

export function parseServeCommandLine(argv: readonly string[]): ServeParseOutcome {
  let printed = '';
  const program = buildServeProgram((text) => {
    printed += text;
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return { kind: 'printed', text: printed };
      throw new OutboxError('E_USAGE', error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  return { kind: 'run', options: toServeOptions(program.opts<Record<string, unknown>>()) };
}

/** The server's program: --help, outbox-serve(1) and the completions are made from its options. */
export function buildServeProgram(print: (text: string) => void = () => {}): Command {
  return new Command('outbox serve')
    .description('Accept mail over SMTP or LMTP and relay it, queue it, pipe it to a command or keep it in a Maildir (msmtpd compatible).')
    .addHelpOption(helpOption())
    // The descriptions name each default in the option's own units; commander's "(default: 300000)" would repeat them in milliseconds.
    .configureHelp({ optionDescription: (option) => option.description })
    .version(`outbox serve version ${VERSION}`, '--version', 'print version information and exit')
    .exitOverride()
    .configureOutput({ writeOut: print, writeErr: () => {} })
    .option('--interface <ip>', `listen on this address (default ${DEFAULT_INTERFACE})`, DEFAULT_INTERFACE)
    .option('--port <number>', `listen on this port (default ${DEFAULT_PORT}; 0 picks a free one, logged)`, integer(0, 65535), DEFAULT_PORT)
    .option('--inetd', 'one session on standard input and output')
    .option('--log <none|syslog|file>', 'where to log (default none)', 'none')
    .option('--command <cmd>', 'pipe each mail to cmd (run by /bin/sh; the first %F is the sender, recipients are appended)')
    .option('--auth <user[,passwordeval]>', 'require authentication as user; the password from passwordeval, else the keyring, else a prompt')
    .option('--account <name>', 'relay every mail through this account')
    .option('--queue', "put each mail into outbox's queue (250 once it is on disk)")
    .option('--maildir <dir>', 'keep each mail in a Maildir (made if missing)')
    .option('--filter <cmd>', "run cmd with the mail's file name first: 0 accepts, 75 is 451, else 550")
    .option('--tls-cert-file <file>', 'offer STARTTLS with this certificate (PEM)')
    .option('--tls-key-file <file>', "the certificate's private key (PEM)")
    .option('--tls-implicit', 'TLS from the first byte (a submissions port, RFC 8314)')
    .option('--max-sessions <n>', `concurrent sessions (default ${SERVER_DEFAULTS.maxSessions})`, integer(1, 100_000), SERVER_DEFAULTS.maxSessions)
    .option('--max-size <octets>', 'largest message; K, M, G suffixes (default: no limit)', size, SERVER_DEFAULTS.sizeLimit)
    .option('--max-recipients <n>', `recipients per mail (default ${SERVER_DEFAULTS.maxRecipients})`, integer(1, 1_000_000), SERVER_DEFAULTS.maxRecipients)
    .option('--idle-timeout <seconds>', `drop a silent client after this long (default ${SERVER_DEFAULTS.idleTimeoutMs / 1000})`, seconds, SERVER_DEFAULTS.idleTimeoutMs)
    .option('--data-timeout <seconds>', `longest pause inside a message (default ${SERVER_DEFAULTS.dataTimeoutMs / 1000})`, seconds, SERVER_DEFAULTS.dataTimeoutMs)
    .option('--lmtp', 'speak LMTP (RFC 2033): one reply per recipient')
    .option('-C, --file <file>', 'the configuration file for the relay and the queue');
}

function toServeOptions(raw: Record<string, unknown>): ServeOptions {
  const text = (key: string): string | undefined => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined);
  const chosen = (['command', 'queue', 'maildir', 'account'] as const).filter((key) => raw[key] !== undefined && raw[key] !== false);
  if (chosen.length > 1) throw new OutboxError('E_USAGE', `cannot use both --${chosen[0]} and --${chosen[1]}`);
  const backend: ServeBackendKind = raw['command'] !== undefined ? 'command' : raw['queue'] ? 'queue' : raw['maildir'] !== undefined ? 'maildir' : 'relay';
  const iface = text('interface')!;
  if (isIP(iface) === 0) throw new OutboxError('E_USAGE', `--interface needs an IP address, not ${JSON.stringify(iface)}`);
  const certFile = text('tlsCertFile');
  const keyFile = text('tlsKeyFile');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new OutboxError('E_USAGE', '--tls-cert-file and --tls-key-file go together');
  if (raw['tlsImplicit'] && certFile === undefined) throw new OutboxError('E_USAGE', '--tls-implicit needs --tls-cert-file and --tls-key-file');
  const options: ServeOptions = {
    interface: iface,
    port: raw['port'] as number,
    inetd: Boolean(raw['inetd']),
    log: text('log')!,
    backend,
    maxSessions: raw['maxSessions'] as number,
    maxSize: raw['maxSize'] as number,
    maxRecipients: raw['maxRecipients'] as number,
    idleTimeoutMs: raw['idleTimeout'] as number,
    dataTimeoutMs: raw['dataTimeout'] as number,
    lmtp: Boolean(raw['lmtp']),
    tlsImplicit: Boolean(raw['tlsImplicit']),
    ...defined('command', text('command')),
    ...defined('maildir', text('maildir')),
    ...defined('account', text('account')),
    ...defined('filter', text('filter')),
    ...defined('file', text('file')),
    ...defined('tlsCertFile', certFile),
    ...defined('tlsKeyFile', keyFile),
    ...defined('auth', authOption(text('auth'))),
  };
  if (options.log === '') throw new OutboxError('E_USAGE', '--log needs none, syslog or a file name');
  return options;
}

/** msmtpd: everything before the first comma is the user, the rest the passwordeval command. */
function authOption(value: string | undefined): ServeOptions['auth'] {
  if (value === undefined) return undefined;
  const comma = value.indexOf(',');
  const user = comma === -1 ? value : value.slice(0, comma);
  if (user === '') throw new OutboxError('E_USAGE', '--auth needs a user name');
  return comma === -1 ? { user } : { user, passwordeval: value.slice(comma + 1) };
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError('not a whole number');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

function size(value: string): number {
  const match = /^(\d+)([KMG]?)$/i.exec(value);
  if (!match) throw new InvalidArgumentError('a number of octets, optionally with K, M or G');
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(match[1]) * unit;
}

function seconds(value: string): number {
  return integer(1, 86_400)(value) * 1000;
}

function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
