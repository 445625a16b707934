/**
 * Recipient routing (issue 16): `route PATTERN ACCOUNT` lines, in `defaults`
 * only, choose the account a recipient's mail goes through when `-a` (or
 * `--host`) does not. The pattern is matched as msmtp matches `from`
 * patterns (see select.ts): with `*`, `?` or `[` it is a case-sensitive
 * fnmatch glob where `*` crosses `.` and `@`; otherwise it must equal the
 * address ignoring ASCII case. The first matching line wins: the user
 * file's lines in file order, then the system file's.
 *
 * A route is a file's property, not an account's: it is kept beside the
 * accounts, and the account it names must exist once both files are read
 * (else an error at the route's line).
 */
import { ArgumentError } from './arguments.js';
import { errorAt } from './location.js';
import { fnmatch, isPattern } from './fnmatch.js';

export interface Route {
  readonly pattern: string;
  readonly account: string;
  readonly file: string;
  readonly line: number;
}

/** `PATTERN ACCOUNT`: the pattern has no blanks; the account name is the rest (names may hold blanks). */
export function parseRouteArgument(argument: string): { pattern: string; account: string } {
  const match = /^(\S+)[ \t]+(\S.*)$/.exec(argument);
  if (!match) throw new ArgumentError('command route needs a pattern and an account: route PATTERN ACCOUNT');
  return { pattern: match[1]!, account: match[2]!.trim() };
}

/** The first route whose pattern matches the recipient. */
export function routeFor(routes: readonly Route[], recipient: string): Route | undefined {
  return routes.find((route) => routeMatches(route.pattern, recipient));
}

export function routeMatches(pattern: string, address: string): boolean {
  return isPattern(pattern) ? fnmatch(pattern, address) : asciiLower(pattern) === asciiLower(address);
}

/** Every route names an account that exists; otherwise an E_CONFIG error at the route's line. */
export function checkRoutes(routes: readonly Route[], accountNames: ReadonlySet<string>): void {
  for (const route of routes) {
    if (!accountNames.has(route.account)) throw errorAt(route, `route: account ${route.account} not defined`);
  }
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
