/**
 * The command backend (`outbox serve --command=CMD`), msmtpd's pipe: each
 * message is written to the standard input of `/bin/sh -c LINE`, where LINE
 * is CMD with its FIRST `%F` replaced by the envelope sender and each
 * recipient appended, as msmtpd builds it (the null sender `<>` is passed as
 * MAILER-DAEMON, as msmtpd does), so existing msmtpd command lines keep working.
 *
 * Addresses reach a shell, so each is checked AND quoted:
 * - checked against msmtpd's own whitelist since its 1.8.19 fix,
 *   `[A-Za-z0-9.@_+/=-]` with no leading "-": nothing that is shell syntax,
 *   nothing a program could read as an option (`-oQ/tmp`). An address outside
 *   it is refused at MAIL/RCPT with 553 (RFC 5321: mailbox name not allowed),
 *   before any data is taken;
 * - then single-quoted anyway, so a later widening of the set stays safe.
 *
 * Exit status → reply, as msmtpd maps it: 0 delivered; EX_NOHOST (68),
 * EX_UNAVAILABLE (69), EX_OSERR (71) and EX_TEMPFAIL (75) are temporary →
 * 451; anything else → 554 naming the status. The first line the command
 * wrote on stderr goes in the reply text (one line, trimmed), so the client
 * sees why. A command that outlives `timeoutMs` is killed and answered 451.
 *
 * Line ends: as msmtpd (smtp_pipe), each CRLF of the message becomes LF on
 * the command's stdin, the local convention of the programs it runs
 * (`msmtp -f %F --`, sendmail, `cat > file`); a CR that is not followed by LF
 * (possible only in a BDAT chunk) is passed on unchanged. msmtp's own test
 * suite (tests/test-header-handling.sh) depends on it.
 *
 * When the session core reports MAIL and RCPT, the command starts at DATA
 * and the message streams straight into it (PipeSink, msmtpd's order);
 * otherwise it is spooled and piped at commit (CommandSink).
 */
import { spawn } from 'node:child_process';
import type { Backend, BackendSession, ConnectionInfo, Delivery, Envelope, MessageSink } from '../backend.js';
import { permanentFailure, temporaryFailure } from '../backend.js';
import type { ReplySpec } from '../../smtp/reply-format.js';
import { SpooledSink, SpoolFile } from './spool-file.js';
// sysexits.h codes msmtpd answers with 451 (trying again later may work): the same set as a local MDA's.
import { TEMPORARY_MDA_STATUSES } from '../../local/exit-status.js';

export interface CommandBackendOptions {
  /** msmtpd's --command line, given to /bin/sh. */
  readonly command: string;
  /** The command is killed and the message answered 451 after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** Environment of the command (default: the server's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where the message is spooled while it arrives (default os.tmpdir()). */
  readonly tmpDir?: string;
}

/** msmtpd's whitelist for addresses on its command line (msmtpd.c get_addr). */
const SAFE_ADDRESS = /^[A-Za-z0-9.@_+/=][A-Za-z0-9.@_+/=-]*$/;
const DEFAULT_TIMEOUT_MS = 600_000;
/** The longest stderr line kept for the reply text. */
const MAX_REASON = 200;

/** True when `address` may be put on a shell command line (and is no option). */
export function isSafeCommandAddress(address: string): boolean {
  return SAFE_ADDRESS.test(address);
}

/** POSIX shell single quoting: '…' with each ' written as '\''. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The line /bin/sh runs: the first %F becomes the sender, each recipient is appended, all quoted. */
export function commandLineFor(command: string, mailFrom: string, recipients: readonly string[]): string {
  const sender = mailFrom === '' ? 'MAILER-DAEMON' : mailFrom;
  for (const address of [sender, ...recipients]) {
    if (!isSafeCommandAddress(address)) throw new RangeError(`address not allowed on a command line: ${JSON.stringify(address)}`);
  }
  const index = command.indexOf('%F');
  const line = index === -1 ? command : command.slice(0, index) + shellQuote(sender) + command.slice(index + 2);
  return [line, ...recipients.map(shellQuote)].join(' ');
}

const UNSAFE_ADDRESS: ReplySpec = { code: 553, text: '5.1.7 Address not allowed here: only A-Z a-z 0-9 . @ _ + / = - and no leading -' };

export class CommandBackend implements Backend {
  constructor(private readonly options: CommandBackendOptions) {}

  newSession(_connection?: ConnectionInfo): BackendSession {
    // The envelope as MAIL and RCPT built it, when the session core reports them.
    let from: string | undefined;
    const recipients: string[] = [];
    return {
      mail: (address) => {
        if (address !== '' && !isSafeCommandAddress(address)) return UNSAFE_ADDRESS;
        from = address;
        recipients.length = 0;
        return undefined;
      },
      rcpt: (address) => {
        if (!isSafeCommandAddress(address)) return { ...UNSAFE_ADDRESS, text: UNSAFE_ADDRESS.text.replace('5.1.7', '5.1.3') };
        recipients.push(address);
        return undefined;
      },
      reset: () => {
        from = undefined;
        recipients.length = 0;
      },
      open: async () =>
        from !== undefined && recipients.length > 0
          ? new PipeSink(this.options, from, [...recipients])
          // Without MAIL and RCPT reported, the envelope is known only at commit: the message is
          // spooled to a private file while it arrives and streamed into the command from there.
          : new SpooledSink(await SpoolFile.create(this.options.tmpDir), (envelope, spool) => runCommand(this.options, envelope, spool.chunks())),
    };
  }
}

/**
 * msmtpd's order, when MAIL and RCPT told us the envelope: the command
 * starts at DATA and the message goes straight into its stdin as it
 * arrives, with back-pressure (a slow command slows the client; nothing
 * piles up in memory or on disk). If the envelope at commit is not the one
 * the command was started with, the command is killed and the message
 * answered 451: the command must never deliver to other addresses than
 * the client was told.
 */
class PipeSink implements MessageSink {
  private readonly running: RunningCommand | undefined;
  private readonly refusal: Delivery | undefined;

  constructor(
    options: CommandBackendOptions,
    private readonly from: string,
    private readonly recipients: readonly string[],
  ) {
    try {
      this.running = startCommand(options, commandLineFor(options.command, from, recipients));
    } catch (error) {
      this.refusal = { kind: 'refused', reply: permanentFailure((error as Error).message, 553) };
    }
  }

  async write(bytes: Buffer): Promise<void> {
    await this.running?.write(bytes);
  }

  async commit(envelope: Envelope): Promise<Delivery> {
    if (!this.running) return this.refusal!;
    const same = envelope.mailFrom === this.from && envelope.recipients.length === this.recipients.length && envelope.recipients.every((r, i) => r === this.recipients[i]);
    if (!same) {
      killGroup(this.running.pid);
      await this.running.done;
      return { kind: 'refused', reply: temporaryFailure('envelope changed during the data; nothing was piped') };
    }
    this.running.end();
    return this.running.done;
  }

  async abort(): Promise<void> {
    if (!this.running) return;
    killGroup(this.running.pid);
    await this.running.done;
  }
}


/** Runs the command for `envelope` with `message` on its stdin (with back-pressure) and maps its exit. */
export async function runCommand(options: CommandBackendOptions, envelope: Envelope, message: AsyncIterable<Buffer>): Promise<Delivery> {
  let running: RunningCommand;
  try {
    running = startCommand(options, commandLineFor(options.command, envelope.mailFrom, envelope.recipients));
  } catch (error) {
    return { kind: 'refused', reply: permanentFailure((error as Error).message, 553) };
  }
  try {
    for await (const chunk of message) await running.write(chunk);
  } catch {
    // The exit status decides; a read error of the spool shows as a command that saw a short message.
  }
  running.end();
  return running.done;
}

/**
 * CRLF → LF for a stream of chunks: a CR at the end of a chunk is held back
 * until the next chunk shows whether an LF follows it.
 */
export class CrlfToLf {
  private heldCr = false;

  /** The converted bytes of `chunk` (possibly empty). */
  push(chunk: Buffer): Buffer {
    let input = chunk;
    if (this.heldCr) {
      this.heldCr = false;
      input = Buffer.concat([Buffer.from('\r'), chunk]);
    }
    if (input.length > 0 && input[input.length - 1] === 0x0d) {
      this.heldCr = true;
      input = input.subarray(0, input.length - 1);
    }
    if (input.indexOf('\r\n') === -1) return input;
    const out = Buffer.allocUnsafe(input.length);
    let length = 0;
    for (let i = 0; i < input.length; i++) {
      if (input[i] === 0x0d && input[i + 1] === 0x0a) continue;
      out[length++] = input[i]!;
    }
    return out.subarray(0, length);
  }

  /** What is still held at the end of the message: a last lone CR. */
  end(): Buffer {
    const rest = this.heldCr ? Buffer.from('\r') : Buffer.alloc(0);
    this.heldCr = false;
    return rest;
  }
}

interface RunningCommand {
  readonly pid: number | undefined;
  /** Resolves when the command can take more (or has stopped reading: its exit status will decide). */
  write(bytes: Buffer): Promise<void>;
  end(): void;
  /** The command's outcome; never rejects. */
  readonly done: Promise<Delivery>;
}

function startCommand(options: CommandBackendOptions, line: string): RunningCommand {
  const child = spawn('/bin/sh', ['-c', line], { stdio: ['pipe', 'ignore', 'pipe'], env: options.env ?? process.env, detached: true });
  let stderr = '';
  let timedOut = false;
  let stdinClosed = false;
  const lineEnds = new CrlfToLf();
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid);
  }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  // A command that exits without reading all its input is judged by its exit status, as msmtpd's pclose.
  child.stdin.on('error', () => undefined);
  child.stdin.on('close', () => (stdinClosed = true));
  const done = new Promise<Delivery>((resolve) => {
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ kind: 'refused', reply: temporaryFailure(`cannot start the pipe command: ${error.message}`) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(outcome(code, signal, timedOut, firstLine(stderr)));
    });
  });
  return {
    pid: child.pid,
    done,
    end: () => child.stdin.end(lineEnds.end()),
    write: async (chunk) => {
      const bytes = lineEnds.push(chunk);
      if (stdinClosed || bytes.length === 0 || child.stdin.write(bytes)) return;
      await new Promise<void>((resolve) => {
        const settle = (): void => {
          child.stdin.off('drain', settle);
          child.stdin.off('close', settle);
          resolve();
        };
        child.stdin.on('drain', settle);
        child.stdin.on('close', settle);
      });
    },
  };
}

function outcome(code: number | null, signal: NodeJS.Signals | null, timedOut: boolean, reason: string): Delivery {
  const why = reason === '' ? '' : `: ${reason}`;
  if (timedOut) return { kind: 'refused', reply: temporaryFailure('Pipe command timed out') };
  if (code === null) return { kind: 'refused', reply: permanentFailure(`Pipe command killed by ${signal ?? 'a signal'}${why}`) };
  if (code === 0) return { kind: 'delivered', id: 'piped' };
  if (TEMPORARY_MDA_STATUSES.has(code)) return { kind: 'refused', reply: temporaryFailure(`Pipe command reported error ${code}${why}`) };
  return { kind: 'refused', reply: permanentFailure(`Pipe command reported error ${code}${why}`) };
}

/** The first non-empty line, control characters dropped, bounded: reply text is one line. */
export function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\x00-\x1f\x7f]/g, ' ').trim().slice(0, MAX_REASON);
}

/**
 * The command runs in its own process group (spawned detached), so a time
 * limit kills the shell and whatever it started (a `sleep`, a hung msmtp)
 * together; killing the shell alone would leave its children holding the
 * pipes open.
 */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
