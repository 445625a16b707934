/**
 * The command line: msmtp's options and the sendmail options msmtp accepts or
 * ignores, parsed with commander into one plain `CliOptions` value. Parsing
 * never exits the process; usage errors come back as OutboxError('E_USAGE').
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { OutboxError } from '../errors.js';
import { VERSION } from './version.js';

export interface CliOptions {
  readonly host?: string;
  readonly port?: number;
  readonly from?: string;
  /** `-F`: the sender's full name (used for the From header by a later issue). */
  readonly fullName?: string;
  readonly domain?: string;
  readonly timeout?: number | 'off';
  readonly protocol?: 'smtp' | 'lmtp';
  readonly debug: boolean;
  readonly recipients: readonly string[];
}

export type ParseOutcome =
  | { readonly kind: 'run'; readonly options: CliOptions }
  | { readonly kind: 'printed'; readonly text: string };

/** sendmail's `-b` modes: only `m` (deliver mail, the default) is ours. */
const UNSUPPORTED_MODES: Readonly<Record<string, string>> = {
  s: 'SMTP on standard input (-bs)',
  p: 'printing the queue (-bp)',
  d: 'daemon mode (-bd)',
  i: 'initialising the alias database (-bi)',
  t: 'address test mode (-bt)',
  v: 'address verification (-bv)',
};

export function parseCommandLine(argv: readonly string[]): ParseOutcome {
  let printed = '';
  const program = buildProgram((text) => { printed += text; });
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return { kind: 'printed', text: printed };
      throw new OutboxError('E_USAGE', error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  return { kind: 'run', options: toCliOptions(program.opts(), program.args) };
}

function buildProgram(print: (text: string) => void): Command {
  const program = new Command('outbox')
    .usage('[options] [--] recipient...')
    .description('Send a mail read from standard input over SMTP or LMTP (sendmail interface).')
    .helpOption('--help', 'print this help and exit')
    .version(versionText(), '--version', 'print version information and exit')
    .argument('[recipient...]', 'recipient addresses (address lists are allowed)')
    .exitOverride()
    .configureOutput({ writeOut: print, writeErr: () => {} })
    .allowExcessArguments(true)
    .option('--host <host>', 'the SMTP server to send the mail to')
    .option('--port <number>', 'the server port (default 25 for SMTP; LMTP needs one)', parsePort)
    .option('-f, --from <address>', 'the envelope-from address')
    .option('-F <name>', 'the full name of the sender')
    .option('--domain <name>', 'the EHLO/LHLO argument (default: localhost)')
    .option('--timeout <off|seconds>', 'network timeout; off means RFC 5321 defaults', parseTimeout)
    .option('--protocol <smtp|lmtp>', 'the protocol to speak', parseProtocol)
    .option('-d, --debug', 'print the dialogue with the server')
    .option('-v', 'verbose: the same as --debug (as in msmtp)');
  addIgnoredSendmailOptions(program);
  return program;
}

/** Options that sendmail callers pass and msmtp accepts without effect. */
function addIgnoredSendmailOptions(program: Command): void {
  const hidden = (flags: string, parse?: (value: string) => string) => {
    const option = new Option(flags).hideHelp();
    program.addOption(parse ? option.argParser(parse) : option);
  };
  hidden('-A <arg>');
  hidden('-i');
  hidden('-o <option>'); // -oi, -oem, -odb…
  hidden('-O <option=value>');
  hidden('-B <type>');
  hidden('-b <mode>', parseMode);
  hidden('-G');
  hidden('-h <hops>');
  hidden('-L <tag>');
  hidden('-m');
  hidden('-n');
}

function parseMode(mode: string): string {
  if (mode === 'm') return mode;
  const what = UNSUPPORTED_MODES[mode[0] ?? ''] ?? `mode -b${mode}`;
  throw new InvalidArgumentError(`${what} is not supported`);
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new InvalidArgumentError('invalid port number');
  return port;
}

function parseTimeout(value: string): number | 'off' {
  if (value === 'off') return 'off';
  const seconds = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= 1)) throw new InvalidArgumentError('invalid timeout: use "off" or a number of seconds');
  return seconds;
}

function parseProtocol(value: string): 'smtp' | 'lmtp' {
  if (value === 'smtp' || value === 'lmtp') return value;
  throw new InvalidArgumentError('invalid protocol: use smtp or lmtp');
}

function toCliOptions(raw: Record<string, unknown>, args: readonly string[]): CliOptions {
  const pick = <T>(key: string) => raw[key] as T | undefined;
  return {
    ...defined('host', pick<string>('host')),
    ...defined('port', pick<number>('port')),
    ...defined('from', pick<string>('from')),
    ...defined('fullName', pick<string>('F')),
    ...defined('domain', pick<string>('domain')),
    ...defined('timeout', pick<number | 'off'>('timeout')),
    ...defined('protocol', pick<'smtp' | 'lmtp'>('protocol')),
    debug: Boolean(raw['debug'] || raw['v']),
    recipients: args,
  };
}

function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function versionText(): string {
  return [
    `outbox version ${VERSION}`,
    `Platform: Node.js ${process.version} on ${process.platform}-${process.arch}`,
    'Protocols: SMTP, LMTP',
    'This is free software; it comes with NO WARRANTY.',
  ].join('\n');
}
