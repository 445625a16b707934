/**
 * The command line: msmtp's options and the sendmail options msmtp accepts or
 * ignores, parsed with commander into one plain `CliOptions` value. Parsing
 * never exits the process; usage errors come back as OutboxError('E_USAGE').
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { OutboxError } from '../errors.js';
import { ACCOUNT_OPTIONS, type GivenSetting } from './account-options.js';
import { groupForHelp, helpOption, HELP_GROUPS } from './help-groups.js';

export type Mode = 'sendmail' | 'serverinfo' | 'rmqs' | 'configure' | QueueMode;
/** The queue's modes: -q/--queue-flush, --queue-run, -bp/--queue-list/mailq, --queue-remove. */
export type QueueMode = 'queue-flush' | 'queue-run' | 'queue-list' | 'queue-remove';

export interface CliOptions {
  readonly mode: Mode;
  /** `-P`: print the configuration that would be used and stop. */
  readonly pretend: boolean;
  /** `-a`: the account to use. */
  readonly account?: string;
  /** `-C`: the user configuration file. */
  readonly file?: string;
  /** `--host`: use only command-line settings, read no file. */
  readonly host?: string;
  /** `-f`: the envelope-from address (it also chooses the account). */
  readonly from?: string;
  /** `-t`: recipients from To, Cc and Bcc too. */
  readonly readRecipients: boolean;
  /** `--read-envelope-from`: the envelope-from from the mail's From. */
  readonly readEnvelopeFrom: boolean;
  readonly debug: boolean;
  /** `--json`: machine-readable output where a mode has it (--serverinfo). */
  readonly json: boolean;
  /** `--chunking=off`: never BDAT, for a server that offers CHUNKING but gets it wrong. */
  readonly chunking: boolean;
  /** The account settings given as options, in the order given. */
  readonly settings: readonly GivenSetting[];
  readonly recipients: readonly string[];
  readonly rmqs?: string;
  readonly configure?: string;
  /** `-V`: the DSN envelope identifier. */
  readonly envid?: string;
  /** `--queue-remove`: the ids to remove (the words after the options). */
  readonly queueIds?: readonly string[];
  /** sendmail's `-B 7BIT|8BITMIME`: the caller's declaration of the body (docs/eightbit.md). */
  readonly bodyType?: '7BIT' | '8BITMIME';
}

/** What the command line said that changes --version's answer. */
export interface VersionRequest {
  /** `-C FILE`. */
  readonly file?: string | undefined;
  /** `--queue-dir DIR`. */
  readonly queueDir?: string | undefined;
}

export type ParseOutcome =
  | { readonly kind: 'run'; readonly options: CliOptions }
  | { readonly kind: 'printed'; readonly text: string }
  /** `--version` or `-d0.1`: main.ts prints it (version-info.ts, loaded only then). */
  | { readonly kind: 'version'; readonly request: VersionRequest };

/** sendmail's `-b` modes: only `m` (deliver mail, the default) is ours. */
const UNSUPPORTED_MODES: Readonly<Record<string, string>> = {
  s: 'SMTP on standard input (-bs)',
  d: 'daemon mode (-bd)',
  i: 'initialising the alias database (-bi)',
  t: 'address test mode (-bt)',
  v: 'address verification (-bv)',
};

export function parseCommandLine(argv: readonly string[]): ParseOutcome {
  if (optionWords(argv).some((arg) => DEBUG_WITH_ARGUMENT.exec(arg)?.[2] === '0.1')) return { kind: 'version', request: {} };
  let printed = '';
  const program = buildProgram((text) => { printed += text; });
  try {
    program.parse(withoutDebugArguments(withExplicitOptionalValues(argv)), { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed') return { kind: 'printed', text: printed };
      throw new OutboxError('E_USAGE', error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  const raw = program.opts<Record<string, unknown>>();
  // As msmtp: the whole command line is parsed first; -C and --queue-dir change what --version names.
  if (raw['version']) return { kind: 'version', request: { file: stringOrUndefined(raw['file']), queueDir: stringOrUndefined(raw['queueDir']) } };
  return { kind: 'run', options: toCliOptions(program) };
}

/**
 * msmtp's `-d` and `-v` take an optional argument in the same word (getopt
 * `d::`), as sendmail's debug flags do: `-d0.1` is sendmail's "print the
 * version", which programs use to probe their MTA (`sendmail -d0.1 -bt`);
 * any other argument just means debug. commander would read `-dt` as `-d -t`.
 */
const DEBUG_WITH_ARGUMENT = /^-([dv])(.+)$/;

function withoutDebugArguments(argv: readonly string[]): string[] {
  const options = optionWords(argv).length;
  return argv.map((arg, i) => {
    const match = DEBUG_WITH_ARGUMENT.exec(arg);
    return match && i < options ? `-${match[1]}` : arg;
  });
}

/** The words before `--`, where options are. */
function optionWords(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/**
 * msmtp (getopt_long) takes an optional argument only as `--tls=off`; a bare
 * `--tls` never swallows the next word, which may be a recipient. commander
 * would take it, so bare optional-value options become `--tls=` (msmtp reads
 * an empty argument as "on", or as "unset" for names and files).
 */
function withExplicitOptionalValues(argv: readonly string[]): string[] {
  const optional = new Set(ACCOUNT_OPTIONS.filter((o) => o.flags.includes('[')).map((o) => longFlag(o.flags)));
  const options = optionWords(argv).length;
  return argv.map((arg, i) => (i < options && optional.has(arg) ? `${arg}=` : arg));
}

function longFlag(flags: string): string {
  return /--[\w-]+/.exec(flags)![0];
}

/** The program: its options are the table --help, the man page and the shell completions are made from. */
export function buildProgram(print: (text: string) => void = () => {}): Command {
  const program = new Command('outbox')
    .usage('[options] [--] recipient...')
    .description('Send a mail read from standard input over SMTP or LMTP (sendmail interface).')
    .addHelpOption(helpOption(HELP_GROUPS.general))
    .option('--version', 'print version information and exit')
    .argument('[recipient...]', 'addresses (address lists are allowed)')
    .exitOverride()
    .configureOutput({ writeOut: print, writeErr: () => {} })
    .allowExcessArguments(true)
    .option('-P, --pretend', 'print the configuration that would be used; send nothing')
    .option('-d, --debug', 'print the dialogue with the server')
    .option('-v', 'the same as --debug')
    .option('-S, --serverinfo', 'print information about the server')
    .option('--json', 'with --serverinfo: print JSON')
    .option('--chunking <on|off>', 'use BDAT if offered (default on)', parseOnOff)
    .option('--rmqs <host|@domain|#queue>', 'ask the server to start its queue (ETRN)')
    .option('--configure <address>', 'print a configuration for the address')
    .option('-C, --file <file>', 'the user configuration file')
    .option('-a, --account <name>', 'use this account')
    .option('--host <host>', 'the server; read no configuration file')
    .option('-f, --from <address>', 'the envelope-from address')
    .option('-t, --read-recipients', 'read recipients from the mail too')
    .option('--read-envelope-from', "the envelope-from from the mail's From")
    .addOption(new Option('-B <7BIT|8BITMIME>', "the body's type as the caller declares it (sendmail's -B; docs/eightbit.md)").argParser(parseBodyType))
    .option('-V <envid>', 'the DSN envelope identifier (ENVID)')
    .option('-q, --queue-flush', 'send every queued mail now')
    .option('--queue-run', 'send the queued mails that are due')
    .option('--queue-list', 'list the queue (also -bp, or as mailq)')
    .option('--queue-remove', 'remove queued mails by id, no bounce');
  for (const { flags, description } of ACCOUNT_OPTIONS) program.addOption(new Option(flags, description));
  addIgnoredSendmailOptions(program);
  groupForHelp(program);
  // A function: the text is made when --help asks for it, not at every start (sorting and joining cost start-up time).
  return program.addHelpText('after', () => helpEpilogue(program));
}

/** After the options: the server, the ignored sendmail options (as msmtp lists them), the names. */
function helpEpilogue(program: Command): string {
  const ignored = program.options.filter((o) => o.hidden).map((o) => (o.short === '-b' ? '-bm' : o.short ?? o.flags));
  ignored.sort(byLetterLowerFirst);
  return [
    '',
    'Server mode (msmtpd compatible): outbox serve [options], or outboxd; see outbox serve --help.',
    'OAuth2 tokens: outbox oauth2 login|status|logout [ACCOUNT]; see outbox oauth2 --help.',
    `Accepted but ignored: ${ignored.join(', ')}.`,
    'Called mailq, outbox lists the queue (-bp); called outboxd, it is outbox serve. More: man outbox.',
  ].join('\n');
}

/** `-A, -bm, -G, -h, … -o, -O`: case ignored, then the lower-case one first; plain code units, so no ICU collator is set up. */
function byLetterLowerFirst(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (x !== y) return x < y ? -1 : 1;
  return a === b ? 0 : a < b ? 1 : -1;
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
  hidden('-b <mode>', parseMode);
  hidden('-G');
  hidden('-h <hops>');
  hidden('-L <tag>');
  hidden('-m');
  hidden('-n');
}

function parseOnOff(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError('use on or off');
}

/** sendmail's -B: RFC 6152's two body types, in any case. */
function parseBodyType(type: string): string {
  const upper = type.toUpperCase();
  if (upper === '7BIT' || upper === '8BITMIME') return upper;
  throw new InvalidArgumentError('use 7BIT or 8BITMIME');
}

function parseMode(mode: string): string {
  if (mode === 'm' || mode === 'p') return mode;
  const what = UNSUPPORTED_MODES[mode[0] ?? ''] ?? `mode -b${mode}`;
  throw new InvalidArgumentError(`${what} is not supported`);
}

function toCliOptions(program: Command): CliOptions {
  const raw = program.opts<Record<string, unknown>>();
  const text = (key: string) => (typeof raw[key] === 'string' ? (raw[key] as string) : undefined);
  const settings: GivenSetting[] = [];
  for (const { flags, command } of ACCOUNT_OPTIONS) {
    const option = new Option(flags);
    const value = raw[option.attributeName()];
    if (value === undefined) continue;
    const argument = value === true ? '' : String(value);
    // msmtp's -R takes sendmail's spelling "hdrs"; the configuration file does not.
    settings.push({ command, argument: command === 'dsn_return' && argument === 'hdrs' ? 'headers' : argument, option: longFlag(flags) });
  }
  const options: CliOptions = {
    mode: modeOf(raw),
    pretend: Boolean(raw['pretend']),
    ...defined('account', text('account')),
    ...defined('file', text('file')),
    ...defined('host', text('host')),
    ...defined('from', text('from')),
    ...defined('rmqs', text('rmqs')),
    ...defined('configure', text('configure')),
    ...defined('envid', text('V')),
    ...defined('bodyType', text('B') as CliOptions['bodyType']),
    readRecipients: Boolean(raw['readRecipients']),
    readEnvelopeFrom: Boolean(raw['readEnvelopeFrom']),
    debug: Boolean(raw['debug'] || raw['v']),
    json: Boolean(raw['json']),
    chunking: raw['chunking'] !== false,
    settings,
    recipients: program.args,
  };
  const result: CliOptions = options.mode === 'queue-remove' ? { ...options, recipients: [], queueIds: program.args } : options;
  checkCombinations(result);
  return result;
}

function modeOf(raw: Record<string, unknown>): Mode {
  const queueModes = QUEUE_MODES.filter(([key]) => (key === 'b' ? raw['b'] === 'p' : raw[key] !== undefined && raw[key] !== false));
  if (queueModes.length > 1) throw new OutboxError('E_USAGE', `cannot use both ${queueModes[0]![1]} and ${queueModes[1]![1]}`);
  if (queueModes.length === 1) return queueModes[0]![2];
  if (raw['configure'] !== undefined) return 'configure';
  if (raw['serverinfo']) return 'serverinfo';
  if (raw['rmqs'] !== undefined) return 'rmqs';
  return 'sendmail';
}

/** commander's key, the option as written, the mode. */
const QUEUE_MODES: readonly (readonly [string, string, QueueMode])[] = [
  ['queueFlush', '-q', 'queue-flush'],
  ['queueRun', '--queue-run', 'queue-run'],
  ['queueList', '--queue-list', 'queue-list'],
  ['b', '-bp', 'queue-list'],
  ['queueRemove', '--queue-remove', 'queue-remove'],
];

/** The combinations msmtp refuses with EX_USAGE. */
function checkCombinations(options: CliOptions): void {
  const usage = (message: string) => new OutboxError('E_USAGE', message);
  if (options.host !== undefined && options.account !== undefined) throw usage('cannot use both --host and --account');
  if (options.from !== undefined && options.readEnvelopeFrom) throw usage('cannot use both --from and --read-envelope-from');
  if (options.mode === 'serverinfo' && options.rmqs !== undefined) throw usage('cannot use both --serverinfo and --rmqs');
  if (options.mode !== 'sendmail' && options.mode !== 'configure' && options.mode !== 'queue-remove' && options.recipients.length > 0) {
    throw usage(`--${options.mode} takes no recipients`);
  }
  if (options.mode === 'queue-remove' && (options.queueIds ?? []).length === 0) throw usage('--queue-remove needs the ids of the mails to remove');
  if (options.mode.startsWith('queue-') && options.pretend) throw usage(`cannot use both --pretend and --${options.mode}`);
}

function defined<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
