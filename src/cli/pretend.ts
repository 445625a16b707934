/**
 * `--pretend`: print what would be used, as msmtp does, and send nothing.
 * Better than msmtp: standard input is read only when the envelope-from must
 * come from the mail (`--read-envelope-from`, or `%F` in `from`), and no
 * `passwordeval` is run.
 */
import { needsMailFrom, pretendLines, renderPretend } from '../config/index.js';
import { readHeader } from '../message/header-reader.js';
import { envelopeFromHeader } from '../message/recipients.js';
import { chooseForRun, expandForRun } from './account-choice.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import type { Stdio } from './stdio.js';

export async function runPretend(options: CliOptions, io: Stdio): Promise<number> {
  const fromMail = options.readEnvelopeFrom ? await mailFromOf(io.stdin) : undefined;
  const { files, chosen, fallbacks } = chooseForRun(options, io.env, fromMail);
  const mailFrom = options.readEnvelopeFrom ? fromMail : needsMailFrom(chosen.account) ? await mailFromOf(io.stdin) : undefined;
  const account = options.mode === 'sendmail' ? await expandForRun(chosen, io.env, mailFrom) : chosen.account;
  io.writeOut(renderPretend(pretendLines({
    files,
    chosen: { ...chosen, account },
    mode: options.mode === 'sendmail' ? 'sendmail' : options.mode === 'rmqs' ? 'rmqs' : 'serverinfo',
    readRecipientsFromMail: options.readRecipients,
    // msmtp prints "(null)" and goes on: --pretend needs no sender.
    ...(options.readEnvelopeFrom ? { extractedEnvelopeFrom: fromMail ?? '(none)' } : {}),
    ...(options.rmqs !== undefined ? { rmqsArgument: options.rmqs } : {}),
    fallbacks: fallbacks.map((account) => account.name),
  })));
  return EX_OK;
}

/** The sender in the mail's From (or Resent-From), if it has one. */
async function mailFromOf(stdin: Stdio['stdin']): Promise<string | undefined> {
  const { header } = await readHeader(stdin);
  return envelopeFromHeader(header);
}
