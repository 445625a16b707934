/**
 * The msmtprc parser: lexed lines → account definitions, as msmtp builds them.
 *
 * - `defaults` starts a section whose settings apply to the accounts defined
 *   after it in the same file (a later `defaults` adds to it; it never resets).
 * - `account NAME [: A[,B…]]` starts an account: the current defaults, then
 *   the settings A explicitly set (its own and those it inherited), then B's,
 *   then its own lines. A and B must be defined earlier in the same file.
 * - Redefining an account in the same file is an error.
 * - `eval CMD` is replaced by the first line CMD prints (an `eval` line may not
 *   print another `eval`).
 * - Settings before the first `defaults` or `account` line belong to an
 *   account named `default`, started at the first of them (msmtp does this; a
 *   later `account default` is then a redefinition).
 *
 * Every error is an OutboxError('E_CONFIG') whose message starts with `file:line: `,
 * except a failing `eval`, which is 'E_IO' (msmtp exits 74 for it).
 */
import type { AccountOrigin, AccountSettings, SettingSources } from './account.js';
import { ArgumentError, none, required } from './arguments.js';
import { COMMANDS, STRUCTURE_COMMANDS, parseCommand } from './commands.js';
import { layer } from './layer.js';
import { lex, lexLine, trimBlanks, type ConfigLine } from './lexer.js';
import { errorAt, printable, type Location } from './location.js';
import { parseRouteArgument, type Route } from './routes.js';
import { firstOutputLine, type CommandRunner } from './shell.js';

export interface AccountDefinition extends AccountOrigin {
  readonly file: string;
  readonly line: number;
  /** The `defaults` in force at the `account` line. */
  readonly defaults: AccountSettings;
  /** What the account inherited (`account x : a, b`) and then set itself. */
  readonly explicit: AccountSettings;
  /** The line that set each key of `defaults` and `explicit` (the later one where both do). */
  readonly sources: SettingSources;
}

export interface ParsedFile {
  readonly file: string;
  /** In file order. */
  readonly accounts: readonly AccountDefinition[];
  /** Lines that set a non-empty `password` (directly or through `eval`): the file holds a secret. */
  readonly passwordLines: readonly number[];
  /** `route PATTERN ACCOUNT` lines (issue 16), in file order; their accounts are checked once both files are read. */
  readonly routes: readonly Route[];
}

export interface ParseOptions {
  /** The home directory for `~` in file names. */
  readonly home: string;
  /** Runs `eval` commands. */
  readonly runCommand: CommandRunner;
}

type Section =
  | { readonly kind: 'none' }
  | { readonly kind: 'defaults' }
  | { readonly kind: 'account'; readonly index: number };

interface State {
  section: Section;
  defaults: AccountSettings;
  defaultsSources: SettingSources;
  readonly accounts: AccountDefinition[];
  readonly passwordLines: number[];
  readonly routes: Route[];
}

export function parseConfigFile(content: Uint8Array | string, file: string, options: ParseOptions): ParsedFile {
  const state: State = { section: { kind: 'none' }, defaults: {}, defaultsSources: {}, accounts: [], passwordLines: [], routes: [] };
  for (const line of lex(content, file)) {
    const effective = line.command === 'eval' ? evaluate(line, options.runCommand) : line;
    if (effective) apply(state, effective, options, effective !== line);
  }
  return { file, accounts: state.accounts, passwordLines: state.passwordLines, routes: state.routes };
}

/** The line an `eval` line stands for, or `null` when its command printed a blank line. */
function evaluate(line: ConfigLine, runCommand: CommandRunner): ConfigLine | null {
  const command = guarded(line, undefined, () => required(line.argument, { command: 'eval', home: '' }));
  const output = firstOutputLine(runCommand(command));
  if (!output.ok) throw errorAt(line, `eval: ${output.reason}`, 'E_IO');
  const replacement = lexLine(output.line, line);
  if (replacement?.command === 'eval') throw errorAt(line, 'eval: the command printed another eval command');
  return replacement;
}

function apply(state: State, line: ConfigLine, options: ParseOptions, fromEval: boolean): void {
  guarded(line, fromEval ? line.command : undefined, () => {
    if (line.command === 'defaults') {
      none(line.argument, { command: 'defaults', home: '' });
      state.section = { kind: 'defaults' };
    } else if (line.command === 'account') {
      startAccount(state, line);
    } else if (line.command === 'route') {
      addRoute(state, line);
    } else {
      set(state, line, parseCommand(line.command, line.argument, options.home));
    }
  });
}

/** `route` belongs to the file, not to an account: only in `defaults`, where it cannot look like an account's setting. */
function addRoute(state: State, line: ConfigLine): void {
  if (state.section.kind !== 'defaults') throw new ArgumentError('command route is allowed only in a defaults section');
  state.routes.push({ ...parseRouteArgument(line.argument), file: line.file, line: line.line });
}

function set(state: State, line: ConfigLine, settings: AccountSettings): void {
  if (line.command === 'password' && settings.password) state.passwordLines.push(line.line);
  if (line.command === 'oauth2_client_secret' && settings.oauth2_client_secret) state.passwordLines.push(line.line);
  if (state.section.kind === 'none') {
    addAccount(state, { name: 'default', file: line.file, line: line.line, defaults: {}, explicit: {}, sources: {} });
  }
  const section = state.section;
  const sources = sourcesAt(line, settings);
  if (section.kind === 'defaults') {
    state.defaults = layer(state.defaults, settings);
    state.defaultsSources = { ...state.defaultsSources, ...sources };
  } else if (section.kind === 'account') {
    const account = state.accounts[section.index]!;
    state.accounts[section.index] = { ...account, explicit: layer(account.explicit, settings), sources: { ...account.sources, ...sources } };
  }
}

/** Each key `settings` sets, at `line` (for a line printed by `eval`, the `eval` line). */
function sourcesAt(line: Location, settings: AccountSettings): SettingSources {
  const at = { file: line.file, line: line.line };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined).map(([key]) => [key, at]));
}

/** The sources of what a parent account passes on: its explicit settings, not its defaults. */
function explicitSources(parent: AccountDefinition): SettingSources {
  return Object.fromEntries(Object.entries(parent.sources).filter(([key]) => key in parent.explicit));
}

function addAccount(state: State, definition: AccountDefinition): void {
  state.accounts.push(definition);
  state.section = { kind: 'account', index: state.accounts.length - 1 };
}

function startAccount(state: State, line: ConfigLine): void {
  const { name, parents } = accountHeader(line.argument);
  if (state.accounts.some((a) => a.name === name)) throw new ArgumentError(`account ${name} was already defined`);
  const inherited = parents.map((parent) => {
    const definition = state.accounts.find((a) => a.name === parent);
    if (!definition) throw new ArgumentError(`account ${parent} not (yet) defined`);
    return definition;
  });
  const explicit = layer(...inherited.map((parent) => parent.explicit));
  const sources = Object.assign({}, state.defaultsSources, ...inherited.map(explicitSources)) as SettingSources;
  addAccount(state, { name, file: line.file, line: line.line, defaults: state.defaults, explicit, sources });
}

/** `NAME`, or `NAME : A, B` with blanks allowed around `:` and `,`. */
function accountHeader(argument: string): { name: string; parents: string[] } {
  const colon = argument.indexOf(':');
  const head = colon < 0 ? argument : argument.slice(0, colon);
  const name = trimBlanks(head);
  if (name === '') throw new ArgumentError('missing account name');
  if (name.includes(',')) throw new ArgumentError('an account name must not contain colons or commas');
  if (colon < 0) return { name, parents: [] };
  const parents = argument.slice(colon + 1).split(',').map(trimBlanks);
  if (parents.some((parent) => parent === '')) throw new ArgumentError('missing account name');
  if (parents.some((parent) => parent.includes(':'))) {
    throw new ArgumentError('an account name must not contain colons or commas');
  }
  return { name, parents };
}

/**
 * Runs `step`, turning an ArgumentError into an error at the line. For a line
 * an `eval` command printed (`printed`: its command word), the message names
 * only a known command word: the line may be a secret (an `eval` meant as
 * `passwordeval` prints just the password).
 */
function guarded<T>(location: Location, printed: string | undefined, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    if (printed === undefined) throw errorAt(location, printable(error.message));
    const known = Object.hasOwn(COMMANDS, printed) || (STRUCTURE_COMMANDS as readonly string[]).includes(printed);
    throw errorAt(location, `eval: the command printed ${known ? `a ${printed} line that is not valid` : 'an unknown command'} (the line is not shown: it may hold a secret)`);
  }
}
