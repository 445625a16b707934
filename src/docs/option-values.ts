/**
 * What the argument of an option can be, read from its commander flags
 * (`<on|off>`, `[auto|on|off]`, `<file>`), for the shell completions. Each
 * word of an argument is either a value to offer (VALUE_WORDS) or a
 * placeholder (PLACEHOLDERS, some with a completion of their own);
 * test/unit/completion.test.ts fails on a word that is neither, so a new
 * option gets a completion decided rather than guessed.
 */
import type { Option } from 'commander';
import { AUTH_METHODS } from '../config/account.js';

/** Literal arguments, offered as they are. */
export const VALUE_WORDS: ReadonlySet<string> = new Set(['on', 'off', 'auto', 'smtp', 'lmtp', 'headers', 'full', 'always', 'on_failure', 'msmtp', 'json', 'none', 'syslog', 'convert', 'send', 'refuse', '7BIT', '8BITMIME']);

export type Completion = 'file' | 'directory' | 'account' | 'nothing';

/** Placeholders: what each stands for; `nothing` is free text the shell cannot guess. */
export const PLACEHOLDERS: Readonly<Record<string, Completion | readonly string[]>> = {
  file: 'file',
  path: 'file',
  dir: 'directory',
  name: 'nothing',
  host: 'nothing',
  IP: 'nothing',
  ip: 'nothing',
  number: 'nothing',
  n: 'nothing',
  seconds: 'nothing',
  octets: 'nothing',
  bits: 'nothing',
  address: 'nothing',
  domain: 'nothing',
  '@domain': 'nothing',
  '#queue': 'nothing',
  envid: 'nothing',
  command: 'nothing',
  cmd: 'nothing',
  priorities: 'nothing',
  fingerprint: 'nothing',
  format: 'nothing',
  conditions: ['success', 'failure', 'delay', 'never'],
  method: AUTH_METHODS,
  facility: ['LOG_USER', 'LOG_MAIL', ...Array.from({ length: 8 }, (_, i) => `LOG_LOCAL${i}`)],
  'user[,passwordeval]': 'nothing',
};

export interface ArgumentShape {
  /** `<x>`: the value may be the next word; `[x]`: only `--opt=x`. */
  readonly required: boolean;
  /** Words to offer. */
  readonly words: readonly string[];
  /** A completion by the shell, when the argument is a file or the like. */
  readonly completion: Completion;
  /** Words that are neither values nor known placeholders (a test refuses them). */
  readonly unknown: readonly string[];
}

/** The argument of an option, or undefined for a flag. `--account` takes an account name. */
export function argumentShape(option: Option): ArgumentShape | undefined {
  const match = /([<[])(.*)[>\]]$/.exec(option.flags);
  if (!match) return undefined;
  const words: string[] = [];
  const unknown: string[] = [];
  let completion: Completion = option.long === '--account' ? 'account' : 'nothing';
  for (const word of match[2]!.split('|')) {
    if (VALUE_WORDS.has(word)) words.push(word);
    else if (!Object.hasOwn(PLACEHOLDERS, word)) unknown.push(word);
    else {
      const meaning = PLACEHOLDERS[word]!;
      if (typeof meaning !== 'string') words.push(...meaning);
      else if (meaning !== 'nothing') completion = meaning;
    }
  }
  return { required: match[1] === '<', words, completion, unknown };
}

/** The names an option is known by: `-C`, `--file`. */
export function optionNames(option: Option): string[] {
  return [option.short, option.long].filter((name): name is string => name !== undefined);
}
