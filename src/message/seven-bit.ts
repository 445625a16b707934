/**
 * An 8-bit mail made 7-bit for a server without 8BITMIME (RFC 6152 forbids
 * sending it 8-bit data; RFC 1652 §3 and RFC 2045 say how to encode it):
 *
 * - each leaf part with 8-bit octets becomes quoted-printable (text/*) or
 *   base64 (anything else), its Content-Transfer-Encoding rewritten; a 7-bit
 *   part with lines over 998 octets becomes quoted-printable (RFC 5321
 *   §4.5.3.1.6);
 * - multiparts are walked to any depth (mime-walker.ts) and `message/rfc822`
 *   parts are converted inside, never encoded (RFC 2046 §5.2.1); composite
 *   parts labelled `8bit`/`binary` are relabelled `7bit`;
 * - 8-bit header fields become encoded words (header-7bit.ts);
 * - a mail that is not MIME gets MIME-Version, Content-Type (text/plain; its
 *   charset is UTF-8 when the body is valid UTF-8, else ISO-8859-1) and
 *   Content-Transfer-Encoding: quoted-printable for its converted body;
 * - nothing inside a multipart/signed (RFC 1847) is changed: when something
 *   there would have to be, the conversion is refused (E_CONVERSION).
 *
 * Three passes over the spool, each in constant memory: `analyse` learns
 * what every part holds (the encoding of a part must be written before its
 * body, so it cannot be decided while streaming), `convertedSize` counts the
 * result for RFC 1870's SIZE, and `convertChunks` produces it. The plan is
 * one entry per leaf part.
 */
import { conversionError, isUtf8, sevenBitField } from './header-7bit.js';
import { has8bit, type RawField } from './mime-header.js';
import { MimeWalker, type Entity, type MimeVisitor } from './mime-walker.js';
import { Base64Encoder, OctetFilter, QuotedPrintableEncoder, qpEscape, type BodyRegion, type Output } from './transfer-encoding.js';

/** What one leaf part becomes: as it is, quoted-printable, base64, or its stray 8-bit octets escaped (`=XX`) or dropped. */
export type PartPlan = 'keep' | 'qp' | 'base64' | 'escape' | 'strip';

export interface SevenBitPlan {
  /** By leaf index (mime-walker.ts numbers them in order). */
  readonly parts: readonly PartPlan[];
  /** For leaves without a Content-Type field that become quoted-printable: the charset to declare. */
  readonly charsets: ReadonlyMap<number, string>;
}

/** RFC 5321 §4.5.3.1.6: a line is at most 998 octets without its CRLF. */
const MAX_LINE = 998;
const CRLF = Buffer.from('\r\n');

/** Reads the mail once and decides each part's encoding; refuses what cannot be converted. */
export async function analyse(source: AsyncIterable<Buffer>): Promise<SevenBitPlan> {
  const parts: PartPlan[] = [];
  const charsets = new Map<number, string>();
  const walker = new MimeWalker(analysingVisitor(parts, charsets));
  for await (const chunk of source) walker.push(chunk);
  walker.end();
  return { parts, charsets };
}

function analysingVisitor(parts: PartPlan[], charsets: Map<number, string>): MimeVisitor {
  return {
    header(entity) {
      for (const field of entity.fields) {
        if (!has8bit(field.raw)) continue;
        if (entity.signed) throw signedError('a header field');
        sevenBitField(field); // refuses an address with 8-bit octets before anything is sent
      }
    },
    region(entity, signed) {
      const counts = new PartCounts(!!entity && !entity.fields.some((f) => f.name === 'content-type'));
      return {
        data: (bytes) => counts.data(bytes),
        lineBreak: () => counts.lineBreak(),
        end() {
          if (!entity) {
            if (signed && counts.has8bit) throw signedError('the preamble or epilogue');
            return;
          }
          const plan = decide(entity, counts.has8bit, counts.longestLine > MAX_LINE);
          if (plan !== 'keep' && signed) throw signedError(`a ${entity.type.mediaType} part`);
          parts[entity.leafIndex] = plan;
          if (counts.utf8 !== undefined && plan === 'qp') charsets.set(entity.leafIndex, counts.utf8.valid() ? 'utf-8' : 'iso-8859-1');
        },
      };
    },
    raw() {},
  };
}

function signedError(what: string): Error {
  return conversionError(`${what} inside a signed part (multipart/signed, RFC 1847) has 8-bit data or over-long lines, and changing it would break the signature`);
}

function decide(entity: Entity, eightBit: boolean, longLines: boolean): PartPlan {
  if (entity.encoding === 'quoted-printable') return eightBit ? 'escape' : 'keep';
  if (entity.encoding === 'base64') return eightBit ? 'strip' : 'keep';
  if (!eightBit && !longLines) return 'keep';
  return entity.type.mediaType.startsWith('text/') || !eightBit ? 'qp' : 'base64';
}

/** A part's 8-bit-ness and longest line, and (when its charset may have to be declared) whether it is UTF-8. */
class PartCounts {
  has8bit = false;
  longestLine = 0;
  private line = 0;
  readonly utf8: Utf8Check | undefined;

  constructor(checkUtf8: boolean) {
    this.utf8 = checkUtf8 ? new Utf8Check() : undefined;
  }

  data(bytes: Buffer): void {
    this.line += bytes.length;
    if (this.line > this.longestLine) this.longestLine = this.line;
    if (!this.has8bit && has8bit(bytes)) this.has8bit = true;
    this.utf8?.push(bytes);
  }

  lineBreak(): void {
    this.line = 0;
    this.utf8?.push(CRLF);
  }
}

/** Streaming UTF-8 validity: Node's decoder in stream mode throws at the first invalid sequence. */
class Utf8Check {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private ok = true;

  push(bytes: Buffer): void {
    if (!this.ok || !has8bit(bytes)) return;
    try {
      this.decoder.decode(bytes, { stream: true });
    } catch {
      this.ok = false;
    }
  }

  valid(): boolean {
    if (!this.ok) return false;
    try {
      this.decoder.decode();
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The converted mail, chunk by chunk: one output chunk (a fresh buffer) per
 * input chunk, one behind, so that what the end of the input adds (the last
 * line break, a base64 part's last line) goes with the last chunk and the
 * send path writes it together with the final dot.
 */
export async function* convertChunks(source: AsyncIterable<Buffer>, plan: SevenBitPlan): AsyncGenerator<Buffer> {
  const out = new Collector();
  const walker = new MimeWalker(convertingVisitor(out, plan));
  let held: Buffer | undefined;
  for await (const chunk of source) {
    walker.push(chunk);
    if (out.parts.length === 0) continue;
    if (held) yield held;
    held = out.take();
  }
  walker.end();
  out.endWithCrlf();
  const last = held ? Buffer.concat([held, out.take()]) : out.take();
  if (last.length > 0) yield last;
}

/** The converted mail's size in octets, counted without keeping it (RFC 1870 SIZE). */
export async function convertedSize(source: AsyncIterable<Buffer>, plan: SevenBitPlan): Promise<number> {
  const out = new Collector(false);
  const walker = new MimeWalker(convertingVisitor(out, plan));
  for await (const chunk of source) walker.push(chunk);
  walker.end();
  out.endWithCrlf();
  return out.octets;
}

class Collector implements Output {
  parts: Buffer[] = [];
  octets = 0;
  private last = 0x0a;

  constructor(private readonly keep = true) {}

  write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.octets += bytes.length;
    this.last = bytes[bytes.length - 1]!;
    if (this.keep) this.parts.push(bytes);
  }

  /** A mail ends with a line break (a base64 body's last line has none of its own). */
  endWithCrlf(): void {
    if (this.last !== 0x0a) this.write(CRLF);
  }

  take(): Buffer {
    const all = Buffer.concat(this.parts);
    this.parts = [];
    return all;
  }
}

function convertingVisitor(out: Output, plan: SevenBitPlan): MimeVisitor {
  return {
    header(entity) {
      if (entity.signed) {
        for (const field of entity.fields) out.write(field.raw);
        return;
      }
      const part = entity.kind === 'leaf' ? plan.parts[entity.leafIndex] ?? 'keep' : 'keep';
      for (const field of headerFields(entity, part, plan.charsets.get(entity.leafIndex))) out.write(field);
    },
    region(entity, signed): BodyRegion {
      if (!entity) return new OctetFilter(out, signed ? undefined : () => '?');
      switch (plan.parts[entity.leafIndex] ?? 'keep') {
        case 'qp':
          return new QuotedPrintableEncoder(out);
        case 'base64':
          return new Base64Encoder(out);
        case 'escape':
          return new OctetFilter(out, qpEscape);
        case 'strip':
          return new OctetFilter(out, () => '');
        case 'keep':
          return new OctetFilter(out, undefined);
      }
    },
    raw: (bytes) => out.write(bytes),
  };
}

/** The entity's header made 7-bit, with the Content-Transfer-Encoding (and for a plain mail the MIME fields) its body now needs. */
function headerFields(entity: Entity, part: PartPlan, charset: string | undefined): Buffer[] {
  // A label of 8bit or binary is made true: whatever was 8-bit below it is 7-bit now (a leaf kept as it is was 7-bit already).
  const relabel = part === 'keep' && (entity.encoding === '8bit' || entity.encoding === 'binary');
  const newEncoding = part === 'qp' ? 'quoted-printable' : part === 'base64' ? 'base64' : relabel ? '7bit' : undefined;
  const fields = entity.fields.map((field) => sevenBitField(field));
  if (newEncoding === undefined) return fields;
  const cte = Buffer.from(`Content-Transfer-Encoding: ${newEncoding}\r\n`);
  const isCte = (field: RawField) => field.name === 'content-transfer-encoding';
  const first = entity.fields.findIndex(isCte);
  const kept = fields.flatMap((field, i) => (!isCte(entity.fields[i]!) ? [field] : i === first ? [cte] : []));
  const added: Buffer[] = [];
  if (entity.isMessage && !entity.fields.some((f) => f.name === 'mime-version')) added.push(Buffer.from('MIME-Version: 1.0\r\n'));
  if (charset !== undefined) added.push(Buffer.from(`Content-Type: text/plain; charset=${charset}\r\n`));
  if (first === -1) added.push(cte);
  return [...kept, ...added];
}
