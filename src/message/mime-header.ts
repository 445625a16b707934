/**
 * The few MIME header fields the 7-bit conversion must understand, read
 * from a header block's raw lines: Content-Type with its parameters
 * (RFC 2045 §5.1, quoted strings and comments included), and
 * Content-Transfer-Encoding (§6.1). Tolerant: anything it cannot read is the
 * RFC's default, as a MIME reader would take it.
 */

/** One header field as written: its lines (folds included), each ending CRLF. */
export interface RawField {
  /** The name in lower case, `''` for a line that is not a field. */
  readonly name: string;
  readonly raw: Buffer;
}

export interface ContentType {
  /** `type/subtype` in lower case. */
  readonly mediaType: string;
  readonly params: ReadonlyMap<string, string>;
}

const TEXT_PLAIN: ContentType = { mediaType: 'text/plain', params: new Map() };

/** The header block's lines (each with its CRLF) grouped into fields; continuation lines join the field above. */
export function groupFields(lines: readonly Buffer[]): RawField[] {
  const fields: { name: string; parts: Buffer[] }[] = [];
  for (const line of lines) {
    const first = line[0];
    const last = fields[fields.length - 1];
    if ((first === 0x20 || first === 0x09) && last) {
      last.parts.push(line);
      continue;
    }
    const colon = line.indexOf(0x3a);
    const name = colon > 0 ? line.toString('latin1', 0, colon).trim().toLowerCase() : '';
    fields.push({ name, parts: [line] });
  }
  return fields.map((f) => ({ name: f.name, raw: f.parts.length === 1 ? f.parts[0]! : Buffer.concat(f.parts) }));
}

/** A field's value: after the colon, unfolded, read as latin1 (one character per octet), trimmed. */
export function fieldValue(field: RawField): string {
  const text = field.raw.toString('latin1');
  return text.slice(text.indexOf(':') + 1).replace(/\r\n(?=[ \t])/g, '').replace(/\r\n$/, '').trim();
}

/** RFC 2045 §5.1 token characters: printable ASCII but SPACE and tspecials. */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+/;

/** Content-Type, or `fallback` (text/plain; RFC 2046 §5.1.5: message/rfc822 in a digest) when absent or unreadable. */
export function contentType(fields: readonly RawField[], fallback: ContentType = TEXT_PLAIN): ContentType {
  const field = fields.find((f) => f.name === 'content-type');
  if (!field) return fallback;
  const text = stripComments(fieldValue(field));
  const match = /^\s*([!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+)\s*\/\s*([!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+)/.exec(text);
  if (!match) return fallback;
  return { mediaType: `${match[1]}/${match[2]}`.toLowerCase(), params: parseParams(text.slice(match[0].length)) };
}

/** `; name=value` pairs; names in lower case, quoted values unquoted. */
export function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  let rest = text;
  for (let guard = 0; guard < 1000; guard++) {
    const semicolon = /^\s*;\s*/.exec(rest);
    if (!semicolon) break;
    rest = rest.slice(semicolon[0].length);
    const name = TOKEN.exec(rest);
    if (!name) break;
    rest = rest.slice(name[0].length);
    const equals = /^\s*=\s*/.exec(rest);
    if (!equals) break;
    rest = rest.slice(equals[0].length);
    const quoted = /^"((?:[^"\\]|\\.)*)"/s.exec(rest);
    const token = quoted ? null : /^[^;\s]*/.exec(rest);
    const value = quoted ? quoted[1]!.replace(/\\(.)/gs, '$1') : token![0];
    rest = rest.slice((quoted ?? token)![0].length);
    if (!params.has(name[0].toLowerCase())) params.set(name[0].toLowerCase(), value);
  }
  return params;
}

/** Comments `( … )` (nested, with quoted pairs) removed outside quoted strings. */
function stripComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += text.slice(i, i + 2);
      i++;
    } else if (depth === 0 && c === '"') {
      quoted = !quoted;
      out += c;
    } else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/** Content-Transfer-Encoding in lower case; `7bit` when absent (RFC 2045 §6.1). */
export function transferEncoding(fields: readonly RawField[]): string {
  const field = fields.find((f) => f.name === 'content-transfer-encoding');
  if (!field) return '7bit';
  return stripComments(fieldValue(field)).trim().toLowerCase() || '7bit';
}

/** A multipart's boundary when it is one RFC 2046 §5.1.1 allows (1–70 characters). */
export function boundaryOf(type: ContentType): Buffer | undefined {
  const boundary = type.params.get('boundary');
  if (boundary === undefined || boundary.length === 0 || boundary.length > 70 || /[^\x20-\x7e]/.test(boundary)) return undefined;
  return Buffer.from(boundary, 'latin1');
}

/** Whether the octets hold anything above 127. */
export function has8bit(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte >= 0x80) return true;
  return false;
}
