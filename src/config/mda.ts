/**
 * The argument of `mda` (issue 15, esmtp's local delivery), read when the
 * file is read so that a mistake is an error at its `file:line`:
 *
 * - `maildir:PATH` and `mbox:PATH`: outbox's built-in deliveries (`~` is the
 *   home directory; `%T` in PATH stands for each local recipient's name);
 * - anything else is a command, split into words here the way a POSIX shell
 *   splits a simple command (blanks; '…'; "…" with \ before $ ` " \ and
 *   newline; \ outside quotes), and later run WITHOUT a shell. `%T` and `%F`
 *   are replaced after the split, so a recipient can never add a word, a
 *   redirection or a second command.
 *
 * Shell syntax that would do something in a shell (`|`, `;`, `&`, `<`, `>`,
 * `(`, `)`, `$`, a backquote) is refused unquoted: written for esmtp, which
 * ran `/bin/sh -c`, such a line would silently mean something else here.
 */
import { ArgumentError, expandTilde, type CommandContext } from './arguments.js';

export type MdaSpec =
  | { readonly kind: 'maildir'; readonly path: string }
  | { readonly kind: 'mbox'; readonly path: string }
  | { readonly kind: 'command'; readonly words: readonly string[] };

/** Characters a shell would act on, refused outside quotes. */
const SHELL_SYNTAX = new Set(['|', ';', '&', '<', '>', '(', ')', '$', '`']);
const BLANKS = new Set([' ', '\t', '\n']);
/** Inside "…", a backslash escapes only these (POSIX 2.2.3). */
const DOUBLE_QUOTE_ESCAPES = new Set(['$', '`', '"', '\\', '\n']);

/** The setting as written is kept (for `--pretend` and the queue); this reads it. Throws ArgumentError. */
export function parseMda(argument: string, home: string): MdaSpec {
  for (const kind of ['maildir', 'mbox'] as const) {
    if (argument.startsWith(`${kind}:`)) {
      const path = expandTilde(argument.slice(kind.length + 1), home);
      if (!path.startsWith('/')) throw new ArgumentError(`mda ${kind}: needs an absolute path (or ~/…)`);
      return { kind, path };
    }
  }
  const words = splitWords(argument).map((word, index) => (index === 0 ? expandTilde(word, home) : word));
  if (words.length === 0) throw new ArgumentError('command mda needs an argument');
  return { kind: 'command', words };
}

/** The `mda` command's parser for the command table: the text is kept, its syntax checked now. */
export function mdaSetting(argument: string, context: CommandContext): string | null {
  if (argument === '') return null;
  try {
    parseMda(argument, context.home);
  } catch (error) {
    if (error instanceof ArgumentError) throw new ArgumentError(`invalid argument for command mda: ${error.message}`);
    throw error;
  }
  return argument;
}

/** A shell's word splitting of one simple command, without expansions. Throws ArgumentError. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined; // undefined: between words ('' is an empty quoted word)
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (BLANKS.has(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ArgumentError('unterminated single quote');
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      const [inside, end] = doubleQuoted(text, i + 1);
      word = (word ?? '') + inside;
      i = end;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ArgumentError('a backslash at the end');
      i++;
      // A backslash-newline is a line continuation; any other escaped character is itself.
      if (text[i] !== '\n') word = (word ?? '') + text[i];
    } else if (SHELL_SYNTAX.has(c)) {
      throw new ArgumentError(`${c} would need a shell: outbox runs the command without one (quote it if it is meant literally)`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The text of "…" starting after the opening quote, and the index of the closing quote. */
function doubleQuoted(text: string, start: number): [string, number] {
  let inside = '';
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') return [inside, i];
    if (c === '\\' && i + 1 < text.length && DOUBLE_QUOTE_ESCAPES.has(text[i + 1]!)) {
      i++;
      if (text[i] !== '\n') inside += text[i];
    } else if (c === '$' || c === '`') {
      throw new ArgumentError(`${c} inside "…" would need a shell: outbox runs the command without one (write \\${c} or use '…')`);
    } else {
      inside += c;
    }
  }
  throw new ArgumentError('unterminated double quote');
}

/** `local_domains a.example, b.example` (commas or blanks): domains compared ignoring ASCII case. */
export function localDomains(argument: string): readonly string[] {
  return argument.split(/[\s,]+/).filter((d) => d !== '').map((d) => d.replace(/[A-Z]/g, (c) => c.toLowerCase()));
}
