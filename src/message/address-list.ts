/**
 * RFC 5322 address lists (§3.4) with the obsolete syntax of §4.4 read
 * leniently: mailboxes with or without display names, groups, comments and
 * folds anywhere, RFC 2047 encoded words in display names, obs-route,
 * empty list elements, dots in phrases, UTF-8 (RFC 6532), and addresses
 * without a domain (local alias names such as `root`).
 *
 * Addresses come out as they go on the wire in MAIL FROM / RCPT TO: the local
 * part is rebuilt from its words and written as a dot-atom when it is one
 * (`"simple"@x` becomes `simple@x`, `a."b"@x` becomes `a.b@x`), otherwise as
 * one quoted string with `\` and `"` escaped (`"q u"@example.org`). Domain
 * literals lose their whitespace. Pure; the tokens come from address-tokens.ts.
 */
import { OutboxError } from '../errors.js';
import { AddressSyntaxError, isDotAtom, tokenize, type Token } from './address-tokens.js';
import { decodePhrase, type PhraseWord } from './encoded-word.js';

export interface Mailbox {
  name?: string;
  /** local@domain as it goes on the wire in MAIL/RCPT: local part kept quoted when it needs quoting (e.g. "q u"@example.org), comments and whitespace/folding removed */
  address: string;
}

export interface Group {
  group: string;
  mailboxes: Mailbox[];
}

export type AddressEntry = Mailbox | Group;

/** Parses a header value such as To or Cc. Throws `OutboxError('E_USAGE')` when it is malformed. */
export function parseAddressList(input: string): AddressEntry[] {
  return parseWhole('address list', input, false);
}

/** The mailboxes of a list in order, group members in place of their group. */
export function flattenMailboxes(list: readonly AddressEntry[]): Mailbox[] {
  const out: Mailbox[] = [];
  for (const entry of list) {
    if ('group' in entry) for (const mailbox of entry.mailboxes) out.push(mailbox);
    else out.push(entry);
  }
  return out;
}

/**
 * One command-line recipient argument of sendmail/msmtp: an address list
 * ("Name <a@b>", "a@b, c@d", groups). fetchmail's multidrop mode passes several
 * bare addresses in ONE argument separated by blanks ("alice@x bob@y"): each
 * is returned. Anything that cannot be read completely throws
 * OutboxError('E_USAGE'); an empty argument or an empty group gives [].
 * Returns the envelope addresses in order.
 */
export function parseRecipientArgument(arg: string): string[] {
  return flattenMailboxes(parseWhole('recipient', arg, true)).map((mailbox) => mailbox.address);
}

interface Cursor {
  readonly tokens: readonly Token[];
  pos: number;
  /** Blanks (or comments) separate addresses as commas do: fetchmail's multidrop argument. */
  readonly blankSeparated: boolean;
}

function parseWhole(label: string, input: string, blankSeparated: boolean): AddressEntry[] {
  try {
    const cursor: Cursor = { tokens: tokenize(input), pos: 0, blankSeparated };
    return parseElements(cursor, false, parseEntry);
  } catch (error) {
    if (!(error instanceof AddressSyntaxError)) throw error;
    const message = `cannot parse ${label} ${show(input)}: ${error.message} at offset ${error.offset}`;
    throw new OutboxError('E_USAGE', message, { cause: error });
  }
}

function show(input: string): string {
  return JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input);
}

function syntaxError(token: Token, message: string): AddressSyntaxError {
  return new AddressSyntaxError(message, token.offset);
}

function unexpected(token: Token, expected: string): AddressSyntaxError {
  return syntaxError(token, `${expected} but found ${describe(token)}`);
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end';
  if (token.kind === 'special') return `'${token.text}'`;
  if (token.kind === 'quoted') return 'a quoted string';
  return JSON.stringify(token.text);
}

function tokenAt(c: Cursor, index: number): Token {
  const token = c.tokens[index] ?? c.tokens[c.tokens.length - 1];
  if (!token) throw new Error('tokenize() always ends with an end token');
  return token;
}

function peek(c: Cursor): Token {
  return tokenAt(c, c.pos);
}

function isSpecial(token: Token, char: string): boolean {
  return token.kind === 'special' && token.text === char;
}

function isWord(token: Token): boolean {
  return token.kind === 'atom' || token.kind === 'quoted';
}

/**
 * A list of elements separated by commas, where empty elements are allowed
 * (obs-addr-list). Stops at the end, or at ';' inside a group.
 */
function parseElements<T>(c: Cursor, inGroup: boolean, parseOne: (c: Cursor) => T[]): T[] {
  const out: T[] = [];
  for (;;) {
    const token = peek(c);
    if (isListEnd(token, inGroup)) return out;
    if (isSpecial(token, ',')) {
      c.pos++;
      continue;
    }
    for (const element of parseOne(c)) out.push(element);
    expectSeparator(c, inGroup);
  }
}

function isListEnd(token: Token, inGroup: boolean): boolean {
  return token.kind === 'end' || (inGroup && isSpecial(token, ';'));
}

function expectSeparator(c: Cursor, inGroup: boolean): void {
  const token = peek(c);
  if (isSpecial(token, ',')) c.pos++;
  else if (isListEnd(token, inGroup)) return;
  else if (c.blankSeparated && token.spaceBefore) return;
  else throw unexpected(token, inGroup ? "expected ',' or ';'" : "expected ','");
}

/** The index of the first token from the cursor on that is not a word or a dot. */
function runEnd(c: Cursor): number {
  let i = c.pos;
  while (isWord(tokenAt(c, i)) || isSpecial(tokenAt(c, i), '.')) i++;
  return i;
}

/** address = mailbox / group; the token after the leading words decides which. */
function parseEntry(c: Cursor): AddressEntry[] {
  const end = runEnd(c);
  if (isSpecial(tokenAt(c, end), ':')) return [parseGroup(c, end)];
  return parseMember(c, end);
}

function parseMember(c: Cursor, end = runEnd(c)): Mailbox[] {
  const stop = tokenAt(c, end);
  if (isSpecial(stop, '<')) return [parseNameAddr(c, end)];
  if (isSpecial(stop, ':')) throw syntaxError(stop, 'a group inside a group');
  return parseAddrSpecs(c, end);
}

function parseGroup(c: Cursor, colon: number): Group {
  const group = phrase(c, colon) ?? '';
  c.pos = colon + 1;
  const mailboxes = parseElements(c, true, (cursor) => parseMember(cursor));
  const close = peek(c);
  if (!isSpecial(close, ';')) throw syntaxError(close, `group ${JSON.stringify(group)} not closed with ';'`);
  c.pos++;
  return { group, mailboxes };
}

function parseNameAddr(c: Cursor, open: number): Mailbox {
  const name = phrase(c, open);
  const openToken = tokenAt(c, open);
  c.pos = open + 1;
  if (isSpecial(peek(c), '>')) throw syntaxError(openToken, "'<>' (the null path) is not allowed in an address list");
  skipObsRoute(c);
  const address = parseAddrSpec(c);
  const close = peek(c);
  if (close.kind === 'end') throw syntaxError(openToken, "unbalanced '<' (no '>')");
  if (!isSpecial(close, '>')) throw unexpected(close, "expected '>'");
  c.pos++;
  return name === undefined ? { address } : { name, address };
}

/** obs-route: `<@a.example,@b.example:user@c.example>`; the route is dropped. */
function skipObsRoute(c: Cursor): void {
  if (!isSpecial(peek(c), '@') && !isSpecial(peek(c), ',')) return;
  for (;;) {
    const token = peek(c);
    c.pos++;
    if (isSpecial(token, ':')) return;
    if (isSpecial(token, '@')) parseDomain(c);
    else if (!isSpecial(token, ',')) throw unexpected(token, "expected ':' after the route");
  }
}

/** Bare addr-specs; more than one only in a blank-separated run such as "alice bob@x". */
function parseAddrSpecs(c: Cursor, end: number): Mailbox[] {
  const out: Mailbox[] = [];
  do out.push({ address: parseAddrSpec(c) });
  while (c.blankSeparated && c.pos < end && peek(c).spaceBefore);
  return out;
}

function parseAddrSpec(c: Cursor): string {
  const local = parseLocalPart(c);
  if (!isSpecial(peek(c), '@')) return local;
  c.pos++;
  return `${local}@${parseDomain(c)}`;
}

function parseLocalPart(c: Cursor): string {
  const words = [readWord(c, 'expected an address')];
  while (isSpecial(peek(c), '.')) {
    c.pos++;
    words.push(readWord(c, "expected a word after '.' in the local part"));
  }
  const local = words.join('.');
  return isDotAtom(local) ? local : `"${local.replace(/["\\]/g, '\\$&')}"`;
}

function readWord(c: Cursor, expected: string): string {
  const token = peek(c);
  if (!isWord(token)) throw unexpected(token, expected);
  c.pos++;
  return token.text;
}

function parseDomain(c: Cursor): string {
  const first = peek(c);
  if (first.kind === 'literal') {
    c.pos++;
    return first.text;
  }
  const labels = [readAtom(c, "expected a domain after '@'")];
  while (isSpecial(peek(c), '.')) {
    c.pos++;
    labels.push(readAtom(c, "expected a domain label after '.'"));
  }
  return labels.join('.');
}

function readAtom(c: Cursor, expected: string): string {
  const token = peek(c);
  if (token.kind !== 'atom') throw unexpected(token, expected);
  c.pos++;
  return token.text;
}

/**
 * The display name made of the tokens from the cursor up to `end`: tokens
 * not separated by whitespace form one word ("Q." or an encoded word with a
 * dot in it), words are joined by single spaces and encoded words decoded.
 * Undefined when the phrase is empty.
 */
function phrase(c: Cursor, end: number): string | undefined {
  const words: PhraseWord[] = [];
  for (let i = c.pos; i < end; i++) {
    const token = tokenAt(c, i);
    const quoted = token.kind === 'quoted';
    const last = words[words.length - 1];
    if (last && !token.spaceBefore) {
      last.text += token.text;
      last.quoted ||= quoted;
    } else words.push({ text: token.text, quoted });
  }
  const name = decodePhrase(words);
  return name === '' ? undefined : name;
}
