/**
 * Sendmail mode: the envelope from the command line, the mail from standard
 * input, delivered to the server given with --host. Returns the exit status;
 * failures are reported on stderr with the server's reply.
 */
import { OutboxError } from '../errors.js';
import { deliver } from '../delivery/deliver.js';
import { dnsServerResolve } from '../net/connector.js';
import { timeoutsFor } from '../smtp/timeouts.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { transcriptWriter } from '../log/transcript.js';
import type { CliOptions } from './options.js';
import { EX_OK } from './exit-status.js';

export interface Stdio {
  readonly stdin: AsyncIterable<Uint8Array>;
  writeOut(text: string): void;
  writeErr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

export async function runSendmail(options: CliOptions, io: Stdio): Promise<number> {
  const recipients = envelopeRecipients(options.recipients);
  const host = options.host;
  if (host === undefined) {
    throw new OutboxError('E_CONFIG', 'no server given: use --host (configuration files are not read yet)');
  }
  const protocol = options.protocol ?? 'smtp';
  if (protocol === 'lmtp' && options.port === undefined) {
    throw new OutboxError('E_CONFIG', 'LMTP needs a port: use --port');
  }
  const reversePath = envelopeFrom(options.from);
  const resolver = io.env['OUTBOX_DNS_SERVER'];
  const debug = options.debug ? transcriptWriter((line) => io.writeOut(`${line}\n`)) : undefined;
  await deliver({
    session: {
      host,
      port: options.port ?? 25,
      protocol,
      domain: options.domain ?? 'localhost',
      timeouts: timeoutsFor(options.timeout ?? 'off'),
      ...(resolver ? { resolve: dnsServerResolve(resolver) } : {}),
      ...(debug ? { trace: debug } : {}),
    },
    envelope: { reversePath, recipients },
    message: io.stdin,
  });
  return EX_OK;
}

function envelopeRecipients(args: readonly string[]): string[] {
  const recipients = args.flatMap((arg) => parseRecipientArgument(arg));
  if (recipients.length === 0) throw new OutboxError('E_USAGE', 'no recipients found');
  return recipients;
}

/**
 * `-f`: one address, bare or as `Name <addr>`. `<>` and MAILER-DAEMON are the
 * null reverse-path (bounces), as in msmtp.
 */
function envelopeFrom(from: string | undefined): string {
  if (from === undefined) throw new OutboxError('E_CONFIG', 'envelope-from address is missing: use -f');
  const trimmed = from.trim();
  if (trimmed === '<>' || trimmed.toUpperCase() === 'MAILER-DAEMON') return '';
  const addresses = parseRecipientArgument(trimmed);
  if (addresses.length !== 1) {
    throw new OutboxError('E_USAGE', `invalid envelope-from address ${JSON.stringify(from)}: give exactly one address`);
  }
  return addresses[0]!;
}
