/**
 * Small parsers for command arguments, shared by the command table. Each
 * throws an `ArgumentError` with msmtp's wording ("invalid argument X for
 * command Y"); the parser adds `file:line:` in front.
 */
import type { DsnCondition, DsnNotify } from './account.js';

export class ArgumentError extends Error {
  override readonly name = 'ArgumentError';
}

/** What a command parser knows besides its argument. */
export interface CommandContext {
  /** The command being parsed, for error messages. */
  readonly command: string;
  /** The home directory, for `~` in file names. */
  readonly home: string;
}

export function invalid(argument: string, context: CommandContext): ArgumentError {
  return new ArgumentError(`invalid argument ${argument} for command ${context.command}`);
}

export function required(argument: string, context: CommandContext): string {
  if (argument === '') throw new ArgumentError(`command ${context.command} needs an argument`);
  return argument;
}

export function none(argument: string, context: CommandContext): void {
  if (argument !== '') throw new ArgumentError(`command ${context.command} does not take an argument`);
}

/** `on`, `off`, or empty (which means `on`). */
export function onOff(argument: string, context: CommandContext): boolean {
  if (argument === '' || argument === 'on') return true;
  if (argument === 'off') return false;
  throw invalid(argument, context);
}

/** One of `values`; an empty argument means `empty`. */
export function oneOf<T extends string>(values: readonly T[], empty: T) {
  return (argument: string, context: CommandContext): T => {
    if (argument === '') return empty;
    if ((values as readonly string[]).includes(argument)) return argument as T;
    throw invalid(argument, context);
  };
}

/** A string setting that an empty argument unsets. */
export function optional(argument: string): string | null {
  return argument === '' ? null : argument;
}

/** A file name: `~` and `~/…` start at the home directory; empty unsets. */
export function fileName(argument: string, context: CommandContext): string | null {
  if (argument === '') return null;
  return expandTilde(argument, context.home);
}

export function expandTilde(path: string, home: string): string {
  if (path === '~' || path.startsWith('~/')) return home + path.slice(1);
  return path;
}

const INT_MAX = 2 ** 31 - 1;

/** A number from 1 to `max`, read as C's strtol(s, &end, 0) reads it (so `0x19` and `031` are 25). */
export function positiveInteger(argument: string, context: CommandContext, max = INT_MAX): number {
  const value = cLong(argument);
  if (!(value >= 1 && value <= max)) throw invalid(argument, context);
  return value;
}

export function portNumber(argument: string, context: CommandContext): number {
  return positiveInteger(argument, context, 65535);
}

/** strtol with base 0 over the whole string: leading blanks, a sign, 0x hex, 0 octal, decimal; NaN otherwise. */
export function cLong(text: string): number {
  const match = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!match) return NaN;
  const digits = match[2]!;
  const base = /^0[xX]/.test(digits) ? 16 : digits.startsWith('0') ? 8 : 10;
  const magnitude = parseInt(base === 16 ? digits.slice(2) : digits, base);
  return match[1] === '-' ? -magnitude : magnitude;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A duration in seconds: a whole number with an optional `s`, `m`, `h` or `d` suffix (`5d`, `90m`, `3600`). */
export function duration(argument: string, context: CommandContext): number {
  const match = /^([1-9][0-9]{0,8})([smhd]?)$/.exec(argument);
  if (!match) throw invalid(argument, context);
  return Number(match[1]) * DURATION_UNITS[match[2] || 's']!;
}

/** Byte lengths of the fingerprints msmtp accepts: SHA-256, SHA-1, MD5. */
const FINGERPRINT_BYTES = [32, 20, 16];

/** `01:23:…` (or with spaces) → upper-case hex pairs joined by `:`. */
export function fingerprint(argument: string, context: CommandContext): string {
  const pairs = argument.split(/[: ]/);
  const wellFormed =
    FINGERPRINT_BYTES.includes(pairs.length) &&
    argument.length === pairs.length * 3 - 1 &&
    pairs.every((pair) => /^[0-9a-fA-F]{2}$/.test(pair));
  if (!wellFormed) throw invalid(argument, context);
  return pairs.join(':').toUpperCase();
}

const DSN_CONDITIONS: readonly DsnCondition[] = ['failure', 'delay', 'success'];

/** `never`, or a comma-separated list (no spaces) of distinct `failure`, `delay`, `success`. */
export function dsnNotify(argument: string, context: CommandContext): DsnNotify {
  if (argument === 'never') return 'never';
  const conditions = argument.split(',');
  const valid =
    conditions.every((c) => (DSN_CONDITIONS as readonly string[]).includes(c)) &&
    new Set(conditions).size === conditions.length;
  if (!valid) throw invalid(argument, context);
  return conditions as DsnCondition[];
}

/*
 * `from` and `domain` go into MAIL FROM, EHLO, the From header and the
 * Message-ID, where a blank, an angle bracket or a comma cannot be. msmtp
 * takes any text and the server or the header refuses it later; outbox says
 * so at the line. Loose on purpose: any non-ASCII (RFC 6532), the `%`
 * substitutions, and fnmatch's `[…]` in `from` (it also chooses accounts).
 */
const ATEXT = String.raw`[^\s\x00-\x1f\x7f"(),.:;<>@[\\\]]`;
const DOT_ATOM = `${ATEXT}+(?:\\.${ATEXT}+)*`;
const DOMAIN_LITERAL = String.raw`\[[\x21-\x5a\x5e-\x7e]*\]`;
const DOMAIN = new RegExp(`^(?:${DOT_ATOM}|${DOMAIN_LITERAL})$`, 'u');
const PATTERN_TEXT = String.raw`[^\s\x00-\x1f\x7f"(),:;<>@\\]`;
const PATTERN_ATOM = String.raw`[^\s\x00-\x1f\x7f"(),.:;<>@\\]+`;
const PATTERN_DOMAIN = `${PATTERN_ATOM}(?:\\.${PATTERN_ATOM})*`;
const QUOTED_LOCAL = String.raw`"(?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])*"`;
const ADDRESS = new RegExp(`^(?:${PATTERN_TEXT}+|${QUOTED_LOCAL})(?:@(?:${PATTERN_DOMAIN}|${DOMAIN_LITERAL}))?$`, 'u');

/** A domain name or address literal, or empty (`domain`). */
export function mailDomain(argument: string, context: CommandContext): string {
  if (argument === '' || DOMAIN.test(argument)) return argument;
  throw unusable(argument, context, 'not a domain name');
}

/** One address (`local@domain` or a bare local part), or empty (`from`). */
export function mailAddress(argument: string, context: CommandContext): string {
  if (argument === '' || ADDRESS.test(argument)) return argument;
  throw unusable(argument, context, 'not one mail address');
}

function unusable(argument: string, context: CommandContext, why: string): ArgumentError {
  const hint = /\s#/.test(argument) ? ' (a # after a value is part of it: msmtprc has no trailing comments)' : '';
  return new ArgumentError(`${invalid(argument, context).message}: ${why}${hint}`);
}
