/**
 * `--version` (and sendmail's `-d0.1` probe): msmtp's lines, with the
 * configuration files as they would be chosen now, and outbox's queue folder.
 * Collected as data, then rendered. Nothing is read but whether files exist:
 * `--version` must work with a broken configuration, and reading the files
 * would run their `eval` commands. So the queue folder is `--queue-dir`, else
 * the default; an account's `queue_dir` is named as what overrides it.
 * Loaded only for `--version` (a dynamic import in main.ts).
 */
import { expandTilde, homeDirectory, nodeFileSystem, systemConfigPath, userConfigPath } from '../config/index.js';
import type { VersionRequest } from './options.js';
import { defaultQueueDir } from './queue-dir.js';
import { VERSION } from './version.js';

export interface VersionInfo {
  readonly version: string;
  readonly platform: string;
  readonly systemConfig: string;
  readonly userConfig: string;
  readonly queueDir: string;
  /** Whether the queue folder is the default one (an account's `queue_dir` would win). */
  readonly queueDirIsDefault: boolean;
}

export function versionInfo(request: VersionRequest, env: NodeJS.ProcessEnv): VersionInfo {
  const home = homeDirectory(env);
  const given = request.queueDir !== undefined && request.queueDir !== '' ? request.queueDir : undefined;
  return {
    version: VERSION,
    platform: `Node.js ${process.version} on ${process.platform}-${process.arch}`,
    systemConfig: systemConfigPath(env),
    userConfig: userConfigPath({ userFile: request.file, env, home, fs: nodeFileSystem }),
    queueDir: given !== undefined ? expandTilde(given, home) : defaultQueueDir(env),
    queueDirIsDefault: given === undefined,
  };
}

/** msmtp's layout: one "Name: value" line each, the file names last before the notice. */
export function renderVersion(info: VersionInfo): string {
  return [
    `outbox version ${info.version}`,
    `Platform: ${info.platform}`,
    'Protocols: SMTP, LMTP',
    `System configuration file name: ${info.systemConfig}`,
    `User configuration file name: ${info.userConfig}`,
    `Queue folder: ${info.queueDir}${info.queueDirIsDefault ? " (unless the account's queue_dir names another)" : ''}`,
    'This is free software; it comes with NO WARRANTY.',
    '',
  ].join('\n');
}
