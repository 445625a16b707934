/**
 * The program: parse the command line, run the mode, map the outcome to an
 * exit status. Only src/cli touches argv, stdio and process.exit.
 */
import { basename } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { localeArguments } from './locale-argv.js';
import type { PartialDeliveryError } from '../delivery/transaction.js';
import { describeReply, isTransientReply, OutboxError } from '../errors.js';
import { EX_OK, EX_SOFTWARE, exitStatusFor } from './exit-status.js';
import { fdWriter } from './fd-writer.js';
import { parseCommandLine } from './options.js';
import { standardInput } from './stdin.js';
import type { Stdio } from './stdio.js';

export async function main(argv: readonly string[], io: Stdio): Promise<number> {
  try {
    // `outbox serve …` (or `outboxd`): the server has its own command line (msmtpd's options).
    if (argv[0] === 'serve') {
      const { runServe } = await import('./serve.js');
      return await runServe(argv.slice(1), io);
    }
    // `outbox oauth2 login|status|logout`: OAuth2 tokens (issue 16), its own small command line.
    if (argv[0] === 'oauth2') {
      const { runOAuth2 } = await import('./oauth2.js');
      return await runOAuth2(argv.slice(1), io);
    }
    const outcome = parseCommandLine(argv);
    if (outcome.kind === 'version') {
      const { renderVersion, versionInfo } = await import('./version-info.js');
      io.writeOut(renderVersion(versionInfo(outcome.request, io.env)));
      return EX_OK;
    }
    if (outcome.kind === 'printed') {
      io.writeOut(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`);
      return EX_OK;
    }
    const options = outcome.options;
    keepYoungGenerationSmall();
    if (options.pretend) {
      const { runPretend } = await import('./pretend.js');
      return await runPretend(options, io);
    }
    if (options.mode === 'serverinfo') {
      const { runServerInfo } = await import('./serverinfo.js');
      return await runServerInfo(options, io);
    }
    if (options.mode === 'configure') {
      const { runConfigure } = await import('./configure.js');
      return await runConfigure(options, io);
    }
    if (options.mode === 'rmqs') {
      const { runRemoteQueueStart } = await import('./rmqs.js');
      return await runRemoteQueueStart(options, io);
    }
    if (options.mode !== 'sendmail') {
      const { runQueueMode } = await import('./queue.js');
      return await runQueueMode(options, io);
    }
    // The other modes returned above; a new Mode stops compiling here until it is dispatched.
    options.mode satisfies 'sendmail';
    // Loaded only when a mail is sent, so --version and --help start fast.
    const { runSendmail } = await import('./sendmail.js');
    return await runSendmail(options, io);
  } catch (error) {
    reportError(error, io);
    return exitStatusFor(error);
  }
}

/**
 * A streamed message makes many short-lived buffers; letting V8 grow its
 * young generation for them costs ~10 MB of RSS for no speed. V8 reads the
 * flag at each scavenge, so setting it now is in time; not for --version and
 * --help, which would load node:v8 (and the streams it needs) for nothing.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

function reportError(error: unknown, io: Stdio): void {
  if (error instanceof OutboxError) {
    io.writeErr(`outbox: ${error.message}\n`);
    // By code, not instanceof: the delivery modules are not loaded for --version.
    if (error.code === 'E_PARTIAL_DELIVERY') reportRecipients(error as PartialDeliveryError, io);
    if (error.code === 'E_USAGE') io.writeErr('outbox: try --help for usage\n');
    return;
  }
  io.writeErr(`outbox: internal error (exit ${EX_SOFTWARE}): ${(error as Error)?.stack ?? String(error)}\n`);
}

/** LMTP partial delivery: every recipient's fate, so the caller can act on each. */
function reportRecipients(error: PartialDeliveryError, io: Stdio): void {
  for (const { recipient, reply, delivered } of error.results) {
    const verdict = delivered ? 'delivered to' : isTransientReply(reply) ? 'temporarily refused for' : 'refused for';
    io.writeErr(`outbox: ${verdict} ${recipient}: ${describeReply(reply)}\n`);
  }
}

/**
 * The name the program was called by: as `mailq` (a link to bin/outbox) it
 * lists the queue, as sendmail's `mailq` does; as `outboxd` it is the
 * server (`outbox serve`), as msmtpd beside msmtp; any other name (outbox,
 * sendmail) is the sendmail interface. Node keeps a symlink's own path in
 * argv[1], so the link's name is seen here.
 */
export function argumentsForName(script: string | undefined, args: readonly string[]): string[] {
  const name = script === undefined ? '' : basename(script);
  if (name === 'mailq') return ['-bp', ...args];
  if (name === 'outboxd') return ['serve', ...args];
  return [...args];
}

/** Runs `main` against the real process. */
export async function runProcess(): Promise<void> {
  const args = argumentsForName(process.argv[1], await localeArguments(process.argv.slice(2), process.env));
  const status = await main(args, {
    // Not process.stdin: a regular file on fd 0 is read without moving its shared offset (see stdin.ts).
    stdin: standardInput(),
    writeOut: fdWriter(1, () => process.stdout),
    writeErr: fdWriter(2, () => process.stderr),
    env: process.env,
    // A getter: process.stderr is made only when a flush asks (see fd-writer.ts).
    get errIsTerminal() {
      return process.stderr.isTTY === true;
    },
    ...(process.argv[1] ? { self: { execPath: process.execPath, script: process.argv[1] } } : {}),
  });
  // Everything is done and flushed (stdout and stderr are synchronous for
  // files, pipes and terminals on Linux; every log write and the session's
  // close were awaited). Exiting now skips Node's tear-down of the heap and
  // the environment, a few milliseconds that every run would pay (issue 17).
  process.exit(status);
}
