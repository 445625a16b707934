/**
 * A small netrc(5) reader for passwords: `machine NAME`, `default`, `login`,
 * `password`, `account`, `macdef` (skipped up to the next blank line), tokens
 * separated by white space, `"…"` tokens with `\` escapes, and lines starting
 * with `#` as comments.
 *
 * Lookup follows msmtp: the first `machine` entry whose name equals the host
 * (ignoring case) and whose `login` equals the user. msmtp never uses the
 * `default` entry, and neither does outbox: a catch-all ftp password should
 * not be sent to a mail server.
 */

export interface NetrcEntry {
  /** `null` for the `default` entry. */
  readonly machine: string | null;
  readonly login?: string;
  readonly password?: string;
  readonly account?: string;
}

export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  let current: { -readonly [K in keyof NetrcEntry]: NetrcEntry[K] } | undefined;
  const tokens = tokenize(text);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.value === 'machine' || token.value === 'default') {
      current = { machine: token.value === 'default' ? null : (tokens[++i]?.value ?? '') };
      entries.push(current);
    } else if (token.value === 'macdef') {
      i = skipMacro(tokens, i);
    } else if (current && (token.value === 'login' || token.value === 'password' || token.value === 'account')) {
      const value = tokens[++i]?.value;
      if (value !== undefined) current[token.value] = value;
    }
  }
  return entries;
}

/** The password for `user` at `host`, if an entry has one. */
export function findNetrcPassword(entries: readonly NetrcEntry[], host: string, user: string): string | undefined {
  const wanted = host.toLowerCase();
  return entries.find((e) => e.machine !== null && e.machine.toLowerCase() === wanted && e.login === user)?.password;
}

interface Token {
  readonly value: string;
  readonly line: number;
  /** True when a blank line follows this token (ends a macdef). */
  readonly blankLineAfter: boolean;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line)) return;
    for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"?|[^\s"]+/g)) {
      const value = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[0];
      tokens.push({ value, line: index, blankLineAfter: false });
    }
    if (line.trim() === '' && tokens.length > 0) {
      const last = tokens[tokens.length - 1]!;
      tokens[tokens.length - 1] = { ...last, blankLineAfter: true };
    }
  });
  return tokens;
}

/** The index of the last token of a macro definition (everything up to the next blank line). */
function skipMacro(tokens: readonly Token[], start: number): number {
  let i = start;
  while (i < tokens.length - 1 && !tokens[i]!.blankLineAfter) i++;
  return i;
}
