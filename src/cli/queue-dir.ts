/**
 * Which queue folder a run uses: `--queue-dir`, else the `queue_dir` of the
 * account the run would send with (-a, -f, or `default`), else
 * `$XDG_STATE_HOME/outbox/queue` (`~/.local/state/outbox/queue`).
 */
import { join } from 'node:path';
import { chooseAccount, expandTilde, homeDirectory, loadConfiguration, systemLoadRequest } from '../config/index.js';
import type { CliOptions } from './options.js';

export function defaultQueueDir(env: NodeJS.ProcessEnv): string {
  const state = env['XDG_STATE_HOME'] || join(homeDirectory(env), '.local', 'state');
  return join(state, 'outbox', 'queue');
}

/** The folder for the queue modes (-q, --queue-run, mailq, --queue-remove). */
export function queueDirFor(options: CliOptions, env: NodeJS.ProcessEnv): string {
  const given = options.settings.filter((s) => s.command === 'queue_dir').at(-1);
  if (given && given.argument !== '') return expandTilde(given.argument, homeDirectory(env));
  if (options.host === undefined) {
    // A syntax error in a file is reported; having no account to choose is not an error here.
    const config = loadConfiguration({ ...systemLoadRequest(options.file), env });
    const named = options.account ?? (config.accounts.some((a) => a.name === 'default') ? 'default' : undefined);
    if (named !== undefined) {
      const { account } = chooseAccount(config, { account: named, env, sendmail: false });
      if (account.queue_dir !== null) return account.queue_dir;
    }
  }
  return defaultQueueDir(env);
}
