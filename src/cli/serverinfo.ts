/** `--serverinfo` (`-S`): connect as for sending, print what the server offers. */
import { collectServerInfo } from '../delivery/serverinfo.js';
import { chooseForRun } from './account-choice.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import type { Stdio } from './stdio.js';
import { renderServerInfo, renderServerInfoJson } from './serverinfo-render.js';
import { sessionOptionsFor } from './session-options.js';

export async function runServerInfo(options: CliOptions, io: Stdio): Promise<number> {
  const { chosen } = chooseForRun(options, io.env);
  const info = await collectServerInfo(sessionOptionsFor(chosen.account, options, io));
  io.writeOut(options.json ? renderServerInfoJson(info) : renderServerInfo(info));
  return EX_OK;
}
