/** `--rmqs=host|@domain|#queue`: send ETRN and report the server's answer. */
import { systemSecretDeps } from '../config/index.js';
import { remoteQueueStart } from '../delivery/etrn.js';
import { describeReply } from '../errors.js';
import { chooseForRun } from './account-choice.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import type { Stdio } from './stdio.js';
import { authSetupFor, sessionOptionsFor } from './session-options.js';

export async function runRemoteQueueStart(options: CliOptions, io: Stdio): Promise<number> {
  const { chosen } = chooseForRun(options, io.env);
  const auth = await authSetupFor(chosen.account, systemSecretDeps(io.env), io.env);
  const reply = await remoteQueueStart(sessionOptionsFor(chosen.account, options, io), auth, options.rmqs!);
  if (options.debug) io.writeOut(`ETRN accepted: ${describeReply(reply)}\n`);
  return EX_OK;
}
