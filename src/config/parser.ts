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
import type { AccountOrigin, AccountSettings } from './account.js';
import { ArgumentError, none, required } from './arguments.js';
import { parseCommand } from './commands.js';
import { layer } from './layer.js';
import { lex, lexLine, trimBlanks, type ConfigLine } from './lexer.js';
import { errorAt, printable, type Location } from './location.js';
import { firstOutputLine, type CommandRunner } from './shell.js';

export interface AccountDefinition extends AccountOrigin {
  readonly file: string;
  readonly line: number;
  /** The `defaults` in force at the `account` line. */
  readonly defaults: AccountSettings;
  /** What the account inherited (`account x : a, b`) and then set itself. */
  readonly explicit: AccountSettings;
}

export interface ParsedFile {
  readonly file: string;
  /** In file order. */
  readonly accounts: readonly AccountDefinition[];
  /** Lines that set a non-empty `password` (directly or through `eval`): the file holds a secret. */
  readonly passwordLines: readonly number[];
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
  readonly accounts: AccountDefinition[];
  readonly passwordLines: number[];
}

export function parseConfigFile(content: Uint8Array | string, file: string, options: ParseOptions): ParsedFile {
  const state: State = { section: { kind: 'none' }, defaults: {}, accounts: [], passwordLines: [] };
  for (const line of lex(content, file)) {
    const effective = line.command === 'eval' ? evaluate(line, options.runCommand) : line;
    if (effective) apply(state, effective, options, effective !== line);
  }
  return { file, accounts: state.accounts, passwordLines: state.passwordLines };
}

/** The line an `eval` line stands for, or `null` when its command printed a blank line. */
function evaluate(line: ConfigLine, runCommand: CommandRunner): ConfigLine | null {
  const command = guarded(line, false, () => required(line.argument, { command: 'eval', home: '' }));
  const output = firstOutputLine(command, runCommand(command));
  if (!output.ok) throw errorAt(line, `eval: ${output.reason}`, 'E_IO');
  const replacement = lexLine(output.line, line);
  if (replacement?.command === 'eval') throw errorAt(line, `eval: the output of '${command}' is another eval command`);
  return replacement;
}

function apply(state: State, line: ConfigLine, options: ParseOptions, fromEval: boolean): void {
  guarded(line, fromEval, () => {
    if (line.command === 'defaults') {
      none(line.argument, { command: 'defaults', home: '' });
      state.section = { kind: 'defaults' };
    } else if (line.command === 'account') {
      startAccount(state, line);
    } else {
      set(state, line, parseCommand(line.command, line.argument, options.home));
    }
  });
}

function set(state: State, line: ConfigLine, settings: AccountSettings): void {
  if (line.command === 'password' && settings.password) state.passwordLines.push(line.line);
  if (state.section.kind === 'none') {
    addAccount(state, { name: 'default', file: line.file, line: line.line, defaults: {}, explicit: {} });
  }
  const section = state.section;
  if (section.kind === 'defaults') {
    state.defaults = layer(state.defaults, settings);
  } else if (section.kind === 'account') {
    const account = state.accounts[section.index]!;
    state.accounts[section.index] = { ...account, explicit: layer(account.explicit, settings) };
  }
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
    return definition.explicit;
  });
  addAccount(state, { name, file: line.file, line: line.line, defaults: state.defaults, explicit: layer(...inherited) });
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

/** Runs `step`, turning an ArgumentError into an error at the line. */
function guarded<T>(location: Location, fromEval: boolean, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (!(error instanceof ArgumentError)) throw error;
    throw errorAt(location, printable(error.message) + (fromEval ? ' (in the line printed by eval)' : ''));
  }
}
