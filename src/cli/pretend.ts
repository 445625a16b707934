/** `--pretend`: print what would be used, as msmtp does, and send nothing. */
import { pretendLines, renderPretend, type PretendInput } from '../config/index.js';
import { EX_OK } from './exit-status.js';
import type { Stdio } from './sendmail.js';

export function printPretend(io: Pick<Stdio, 'writeOut'>, input: PretendInput): number {
  io.writeOut(renderPretend(pretendLines(input)));
  return EX_OK;
}
