/**
 * What the server said it can do: the EHLO (or LHLO) reply parsed into
 * keywords and parameters (RFC 5321 §4.1.1.1). A HELO session has none.
 */
import type { Reply } from './reply.js';

export class Capabilities {
  /** The domain the server named on the first line of its EHLO reply. */
  readonly serverDomain: string;
  /** The greeting text after the domain on the first line. */
  readonly greetingText: string;
  /** Keyword (upper case) → parameters, in the order the server sent them. */
  private readonly keywords: ReadonlyMap<string, readonly string[]>;

  constructor(serverDomain: string, greetingText: string, keywords: ReadonlyMap<string, readonly string[]>) {
    this.serverDomain = serverDomain;
    this.greetingText = greetingText;
    this.keywords = keywords;
  }

  /** The capabilities of an EHLO/LHLO reply. Lines that are not `keyword *(SP param)` are kept verbatim, upper-cased. */
  static fromEhloReply(reply: Reply): Capabilities {
    const [first = '', ...rest] = reply.lines;
    const space = first.indexOf(' ');
    const keywords = new Map<string, readonly string[]>();
    for (const line of rest) {
      const words = line.trim().split(/[ \t]+/).filter(Boolean);
      const [keyword, ...params] = words;
      if (!keyword) continue;
      // RFC 4954's predecessor servers say "AUTH=PLAIN LOGIN"; treat it as AUTH.
      const oldAuth = /^AUTH=(.*)$/i.exec(keyword);
      if (oldAuth) {
        if (!keywords.has('AUTH')) keywords.set('AUTH', [oldAuth[1] ?? '', ...params].filter(Boolean));
        continue;
      }
      keywords.set(keyword.toUpperCase(), params);
    }
    return new Capabilities(space === -1 ? first : first.slice(0, space), space === -1 ? '' : first.slice(space + 1), keywords);
  }

  /** A session opened with HELO: no extensions at all. */
  static none(serverDomain = ''): Capabilities {
    return new Capabilities(serverDomain, '', new Map());
  }

  has(keyword: string): boolean {
    return this.keywords.has(keyword.toUpperCase());
  }

  params(keyword: string): readonly string[] {
    return this.keywords.get(keyword.toUpperCase()) ?? [];
  }

  /** RFC 1870: the declared maximum message size; 0 means no fixed limit; undefined when SIZE is absent or malformed. */
  get maxSize(): number | undefined {
    if (!this.has('SIZE')) return undefined;
    const value = this.params('SIZE')[0];
    if (value === undefined) return 0;
    return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  }

  /** The SASL mechanisms offered with AUTH, upper-cased. */
  get authMechanisms(): readonly string[] {
    return this.params('AUTH').map((m) => m.toUpperCase());
  }

  /** Every keyword with its parameters, for `--serverinfo` and debugging. */
  entries(): Array<[string, readonly string[]]> {
    return [...this.keywords.entries()];
  }
}
