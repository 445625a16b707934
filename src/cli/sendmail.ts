/**
 * Sendmail mode: the account from the configuration (or --host), the envelope
 * from -f or the account, the mail from standard input. Returns the exit
 * status; failures are thrown as OutboxError and reported by main.
 */
import { readFileSync } from 'node:fs';
import { expandAccountAliases, requireEnvelopeFrom, type ReadyAccount } from '../config/index.js';
import { deliver } from '../delivery/deliver.js';
import { OutboxError } from '../errors.js';
import { transcriptWriter } from '../log/transcript.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { dnsServerResolve } from '../net/connector.js';
import { timeoutsFor } from '../smtp/timeouts.js';
import { accountForRun } from './account-choice.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import { printPretend } from './pretend.js';
import { refuseUnsupported, warnUnsupported } from './unsupported.js';

export interface Stdio {
  readonly stdin: AsyncIterable<Uint8Array>;
  writeOut(text: string): void;
  writeErr(text: string): void;
  readonly env: NodeJS.ProcessEnv;
}

export async function runSendmail(options: CliOptions, io: Stdio): Promise<number> {
  if (options.readRecipients || options.readEnvelopeFrom) {
    throw new OutboxError('E_USAGE', `${options.readRecipients ? '-t' : '--read-envelope-from'} is not supported yet`);
  }
  const { files, chosen, account } = await accountForRun(options, io.env);
  if (options.pretend) return printPretend(io, { files, chosen: { ...chosen, account }, mode: 'sendmail', readRecipientsFromMail: options.readRecipients });
  const recipients = envelopeRecipients(account, options.recipients);
  refuseUnsupported(account);
  warnUnsupported(account, io);
  const reversePath = nullPathFor(requireEnvelopeFrom(account));
  const resolver = io.env['OUTBOX_DNS_SERVER'];
  const debug = options.debug ? transcriptWriter((line) => io.writeOut(`${line}\n`)) : undefined;
  await deliver({
    session: {
      host: account.host!,
      port: account.port,
      protocol: account.protocol,
      domain: account.domain,
      timeouts: timeoutsFor(account.timeout),
      ...(resolver ? { resolve: dnsServerResolve(resolver) } : {}),
      ...(debug ? { trace: debug } : {}),
    },
    envelope: { reversePath, recipients },
    message: io.stdin,
  });
  return EX_OK;
}

/** Command-line recipients read as address lists, then the account's aliases (envelope only). */
function envelopeRecipients(account: ReadyAccount, args: readonly string[]): string[] {
  const parsed = args.flatMap((arg) => parseRecipientArgument(arg));
  if (parsed.length === 0) throw new OutboxError('E_USAGE', 'no recipients found');
  return expandAccountAliases(account, parsed, (path) => readFileSync(path));
}

/** `MAILER-DAEMON` (any case) is the null reverse-path, as in msmtp. */
function nullPathFor(from: string): string {
  return from.toUpperCase() === 'MAILER-DAEMON' ? '' : from;
}
