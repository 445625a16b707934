/**
 * fnmatch(3) with flags 0, as msmtp uses it to match `from` patterns: `*`
 * matches any run of characters (`/` and a leading `.` included), `?` one
 * character, `[…]` one character of a set (`!` or `^` negates, ranges,
 * `[:alpha:]`-style classes), `\x` a literal x. An unclosed `[` is a literal
 * `[`. Case-sensitive. Characters are Unicode code points.
 */

type Token =
  | { readonly kind: 'literal'; readonly char: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'star' }
  | { readonly kind: 'set'; readonly negated: boolean; readonly members: readonly Member[] };

type Member =
  | { readonly kind: 'range'; readonly low: number; readonly high: number }
  | { readonly kind: 'class'; readonly test: RegExp };

const CLASSES: Readonly<Record<string, RegExp>> = {
  alpha: /^\p{L}$/u,
  digit: /^[0-9]$/,
  alnum: /^[\p{L}0-9]$/u,
  upper: /^\p{Lu}$/u,
  lower: /^\p{Ll}$/u,
  space: /^[ \t\n\v\f\r]$/,
  blank: /^[ \t]$/,
  punct: /^[!-/:-@[-`{-~]$/,
  xdigit: /^[0-9A-Fa-f]$/,
  cntrl: /^[\u0000-\u001f\u007f]$/,
  print: /^[^\u0000-\u001f\u007f]$/,
  graph: /^[^\u0000-\u0020\u007f]$/,
};

const NOTHING = /(?!)/;

/** True when `text` matches the glob `pattern` (fnmatch with flags 0). */
export function fnmatch(pattern: string, text: string): boolean {
  return matchTokens(compile(Array.from(pattern)), Array.from(text));
}

/** msmtp treats a `from` containing `*`, `?` or `[` as a pattern. */
export function isPattern(from: string): boolean {
  return /[*?[]/.test(from);
}

function compile(chars: readonly string[]): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i]!;
    if (char === '*') tokens.push({ kind: 'star' });
    else if (char === '?') tokens.push({ kind: 'any' });
    else if (char === '\\' && i + 1 < chars.length) tokens.push({ kind: 'literal', char: chars[++i]! });
    else if (char === '[') {
      const set = compileSet(chars, i + 1);
      if (set) {
        tokens.push(set.token);
        i = set.end;
      } else tokens.push({ kind: 'literal', char });
    } else tokens.push({ kind: 'literal', char });
  }
  return tokens;
}

/** The set starting after `[` at `start`, and the index of its `]`; `undefined` when it never closes. */
function compileSet(chars: readonly string[], start: number): { token: Token; end: number } | undefined {
  let i = start;
  const negated = chars[i] === '!' || chars[i] === '^';
  if (negated) i++;
  const members: Member[] = [];
  for (let first = true; i < chars.length; first = false) {
    const char = chars[i]!;
    if (char === ']' && !first) return { token: { kind: 'set', negated, members }, end: i };
    if (char === '[' && chars[i + 1] === ':') {
      const close = chars.indexOf(':', i + 2);
      if (close > 0 && chars[close + 1] === ']') {
        members.push({ kind: 'class', test: CLASSES[chars.slice(i + 2, close).join('')] ?? NOTHING });
        i = close + 2;
        continue;
      }
    }
    const [low, next] = setChar(chars, i);
    if (chars[next] === '-' && next + 1 < chars.length && chars[next + 1] !== ']') {
      const [high, after] = setChar(chars, next + 1);
      members.push({ kind: 'range', low: low.codePointAt(0)!, high: high.codePointAt(0)! });
      i = after;
    } else {
      members.push({ kind: 'range', low: low.codePointAt(0)!, high: low.codePointAt(0)! });
      i = next;
    }
  }
  return undefined;
}

/** One character of a set (a backslash quotes the next) and the index after it. */
function setChar(chars: readonly string[], i: number): [string, number] {
  if (chars[i] === '\\' && i + 1 < chars.length) return [chars[i + 1]!, i + 2];
  return [chars[i]!, i + 1];
}

function matchesOne(token: Token, char: string): boolean {
  switch (token.kind) {
    case 'literal':
      return token.char === char;
    case 'any':
      return true;
    case 'set': {
      const code = char.codePointAt(0)!;
      const member = token.members.some((m) => (m.kind === 'range' ? code >= m.low && code <= m.high : m.test.test(char)));
      return member !== token.negated;
    }
    case 'star':
      return false;
  }
}

/** Greedy matching that backtracks to the last `*`: linear for one star, never exponential. */
function matchTokens(tokens: readonly Token[], text: readonly string[]): boolean {
  let t = 0;
  let s = 0;
  let starToken = -1;
  let starText = 0;
  while (s < text.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      starToken = t++;
      starText = s;
    } else if (token && matchesOne(token, text[s]!)) {
      t++;
      s++;
    } else if (starToken >= 0) {
      t = starToken + 1;
      s = ++starText;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}
