/**
 * The whole message, read before connecting, because MAIL FROM must declare
 * its size (RFC 1870) and its 8-bit-ness (RFC 6152). Line endings are
 * normalised to CRLF on the way in; the counts are those of message-stats.ts.
 *
 * Up to `memoryLimit` bytes (default 1 MiB) stay in memory. Past that the
 * message goes to `message` in a private folder (mkdtemp under the temporary
 * directory, mode 0700; the file 0600), and memory holds at most one chunk.
 * The folder is removed by `dispose()`, when spooling fails, and, through
 * the register of temp-files.ts, by the CLI on process exit and on SIGINT,
 * SIGTERM and SIGHUP (cli/temp-cleanup.ts).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxError } from '../errors.js';
import { declareCrlf, LineEndingNormalizer, type CrlfChunks } from './line-endings.js';
import { StatsCounter, type MessageStats } from './message-stats.js';
import { makePrivateDir, removePrivateDir } from './temp-files.js';
import { toBuffer, type MessageSource } from './header-reader.js';

const DEFAULT_MEMORY_LIMIT = 1024 * 1024;
const READ_CHUNK = 64 * 1024;
/** Buffers the file is read into in turn; see fromFile. */
const READ_RING = 4;

export interface SpoolOptions {
  /** The most bytes kept in memory before spilling to a file (default 1 MiB). */
  readonly memoryLimit?: number;
  /** Where the private folder is made (default: os.tmpdir(), i.e. $TMPDIR or /tmp). */
  readonly tmpDir?: string;
}

export interface Spool extends MessageStats {
  /** The file holding the message when it did not fit in memory. */
  readonly path: string | undefined;
  /**
   * The message, CRLF throughout (and declared so: the send path does not
   * normalise it again); can be read any number of times until disposed. A
   * chunk stays valid until `READ_RING - 1` more have been read (the buffers
   * are reused): a consumer that keeps chunks longer copies them.
   */
  chunks(): CrlfChunks;
  /** Frees the memory and removes the file. Safe to call more than once. */
  dispose(): Promise<void>;
}

/** Reads `source` to its end into a spool. A failing source is OutboxError('E_IO'); nothing is left behind. */
export async function spoolMessage(source: MessageSource, options: SpoolOptions = {}): Promise<Spool> {
  const writer = new SpoolWriter(options.memoryLimit ?? DEFAULT_MEMORY_LIMIT, options.tmpDir ?? tmpdir());
  const normalizer = new LineEndingNormalizer();
  try {
    for await (const chunk of readingErrorsAsIo(source)) await writer.write(normalizer.push(toBuffer(chunk)));
    await writer.write(normalizer.end());
    return await writer.finish();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function* readingErrorsAsIo(source: MessageSource): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) yield chunk;
  } catch (error) {
    if (error instanceof OutboxError) throw error;
    throw new OutboxError('E_IO', `cannot read the mail: ${(error as Error).message}`, { cause: error });
  }
}

function ioError(what: string, error: unknown): OutboxError {
  return new OutboxError('E_IO', `cannot ${what} the temporary file: ${(error as Error).message}`, { cause: error });
}

class SpoolWriter {
  private readonly stats = new StatsCounter();
  private memory: Buffer[] = [];
  private memoryBytes = 0;
  private dir: string | undefined;
  private file: FileHandle | undefined;

  constructor(
    private readonly memoryLimit: number,
    private readonly tmpDir: string,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    this.stats.push(chunk);
    if (!this.file && this.memoryBytes + chunk.length <= this.memoryLimit) {
      this.memory.push(Buffer.from(chunk));
      this.memoryBytes += chunk.length;
      return;
    }
    if (!this.file) await this.spill();
    await this.append(chunk);
  }

  private async spill(): Promise<void> {
    try {
      this.dir = await makePrivateDir(this.tmpDir);
      this.file = await open(join(this.dir, 'message'), 'wx', 0o600);
    } catch (error) {
      throw ioError('create', error);
    }
    for (const buffered of this.memory) await this.append(buffered);
    this.memory = [];
    this.memoryBytes = 0;
  }

  private async append(chunk: Buffer): Promise<void> {
    try {
      let written = 0;
      while (written < chunk.length) written += (await this.file!.write(chunk, written)).bytesWritten;
    } catch (error) {
      throw ioError('write', error);
    }
  }

  async finish(): Promise<Spool> {
    this.stats.end();
    try {
      await this.file?.close();
    } catch (error) {
      throw ioError('write', error);
    }
    this.file = undefined;
    const path = this.dir === undefined ? undefined : join(this.dir, 'message');
    return new FinishedSpool(this.stats.snapshot(), this.memory, this.dir, path);
  }

  async abort(): Promise<void> {
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
    if (this.dir !== undefined) removePrivateDir(this.dir);
    this.memory = [];
  }
}

class FinishedSpool implements Spool {
  readonly octets: number;
  readonly has8bit: boolean;
  readonly hasNul: boolean;
  readonly firstNulLine: number | undefined;
  readonly longestLine: number;
  readonly lines: number;
  private disposed = false;

  constructor(
    stats: MessageStats,
    private memory: Buffer[],
    private readonly dir: string | undefined,
    readonly path: string | undefined,
  ) {
    ({
      octets: this.octets,
      has8bit: this.has8bit,
      hasNul: this.hasNul,
      firstNulLine: this.firstNulLine,
      longestLine: this.longestLine,
      lines: this.lines,
    } = stats);
  }

  chunks(): CrlfChunks {
    if (this.disposed) throw new Error('the spool was disposed');
    return declareCrlf(this.path === undefined ? fromMemory(this.memory) : fromFile(this.path));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.memory = [];
    if (this.dir !== undefined) removePrivateDir(this.dir);
  }
}

async function* fromMemory(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield chunk;
}

/**
 * Reads the spooled file into a small ring of buffers instead of a new buffer
 * per chunk: a stream of short-lived 64 KiB buffers fragments the C heap and
 * costs several MB of RSS. The contract (kept by delivery/message-stream.ts,
 * which holds one chunk back and has written it before it asks for the one
 * after the next): a chunk stays valid until `READ_RING - 1` more chunks
 * have been read.
 */
export async function* fromFile(path: string): AsyncGenerator<Buffer> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw ioError('open', error);
  }
  const ring = Array.from({ length: READ_RING }, () => Buffer.allocUnsafe(READ_CHUNK));
  try {
    for (let turn = 0; ; turn++) {
      const buffer = ring[turn % READ_RING]!;
      const { bytesRead } = await file.read(buffer, 0, READ_CHUNK, null).catch((error: unknown) => {
        throw ioError('read', error);
      });
      if (bytesRead === 0) return;
      yield bytesRead === READ_CHUNK ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close().catch(() => undefined);
  }
}
