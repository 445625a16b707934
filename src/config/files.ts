/**
 * Which configuration files are read, in which order, and the permission rule
 * for files that hold a password (msmtp's `get_conf()` and `check_secure()`):
 *
 * 1. The system file: `$OUTBOX_SYSTEM_CONFIG`, else `/etc/msmtprc`. A file that
 *    cannot be opened is skipped; a syntax error in it is fatal.
 * 2. The user file: `-C FILE`, else `~/.msmtprc`, else (when `~/.msmtprc` does
 *    not exist) `$XDG_CONFIG_HOME/msmtp/config` (`~/.config/msmtp/config`). A
 *    `-C` file that cannot be read is an I/O error (exit 74); a default one
 *    that cannot be opened is skipped.
 * 3. Accounts: the user file's in file order, then the system file's whose
 *    names the user file does not define.
 *
 * A user file with a non-empty `password` (also one printed by `eval`) must be
 * owned by the effective user and have no group or other permissions (nor the
 * user's execute bit), unless the effective user is root.
 */
import { OutboxError, strerror } from '../errors.js';
import { checkFallbackChains } from './fallback.js';
import { errorAt } from './location.js';
import { parseConfigFile, type AccountDefinition, type ParsedFile } from './parser.js';
import { checkRoutes, type Route } from './routes.js';
import type { CommandRunner } from './shell.js';

export const SYSTEM_CONFIG_FILE = '/etc/msmtprc';
/** Environment variable naming another system file (tests, unusual installations). */
export const SYSTEM_CONFIG_VARIABLE = 'OUTBOX_SYSTEM_CONFIG';

/** The file operations loading needs; errors carry a Node `code` (ENOENT, EACCES…). */
export interface FileSystem {
  readFile(path: string): Uint8Array;
  /** stat(2), following symbolic links. */
  stat(path: string): { readonly uid: number; readonly mode: number };
  exists(path: string): boolean;
}

export interface LoadRequest {
  /** `-C FILE`. */
  readonly userFile?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  /** The effective user id; `null` where there is none (Windows): no permission check. */
  readonly euid: number | null;
  readonly fs: FileSystem;
  /** Runs `eval` commands. */
  readonly runCommand: CommandRunner;
}

export interface ConfigFileReport {
  readonly path: string;
  readonly role: 'system' | 'user';
  readonly loaded: boolean;
  /** Why it was not loaded, in strerror's words ("No such file or directory"). */
  readonly reason?: string;
}

export interface Configuration {
  /** The system file, then the user file, each loaded or skipped. */
  readonly files: readonly ConfigFileReport[];
  /** User accounts in file order, then the system accounts the user file does not redefine. */
  readonly accounts: readonly AccountDefinition[];
  /** `route` lines (issue 16): the user file's, then the system file's; each names an account above. */
  readonly routes?: readonly Route[];
}

export function loadConfiguration(request: LoadRequest): Configuration {
  const system = readConfigFile(systemConfigPath(request.env), 'system', request);
  const user = readConfigFile(userConfigPath(request), 'user', request);
  if (user.parsed) checkSecrets(user.parsed, request);
  const userAccounts = user.parsed?.accounts ?? [];
  const userNames = new Set(userAccounts.map((a) => a.name));
  const systemAccounts = (system.parsed?.accounts ?? []).filter((a) => !userNames.has(a.name));
  const accounts = [...userAccounts, ...systemAccounts];
  // Fail-over chains (issue 16) may cross from the user file into the system file, so they are checked on the whole list.
  checkFallbackChains(accounts);
  const routes = [...(user.parsed?.routes ?? []), ...(system.parsed?.routes ?? [])];
  checkRoutes(routes, new Set(accounts.map((a) => a.name)));
  return { files: [system.report, user.report], accounts, routes };
}

export function systemConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  return env[SYSTEM_CONFIG_VARIABLE] || SYSTEM_CONFIG_FILE;
}

/** `-C`, else `~/.msmtprc` unless only the XDG file exists. */
export function userConfigPath(request: Pick<LoadRequest, 'userFile' | 'env' | 'home' | 'fs'>): string {
  if (request.userFile !== undefined) return request.userFile;
  const dotFile = `${request.home}/.msmtprc`;
  if (request.fs.exists(dotFile)) return dotFile;
  const xdgHome = request.env['XDG_CONFIG_HOME'];
  const configHome = xdgHome && xdgHome.startsWith('/') ? xdgHome : `${request.home}/.config`;
  const xdgFile = `${configHome}/msmtp/config`;
  return request.fs.exists(xdgFile) ? xdgFile : dotFile;
}

interface FileResult {
  readonly report: ConfigFileReport;
  readonly parsed?: ParsedFile;
}

/** Errors that mean "cannot open": the file is skipped unless it was named with -C. */
const CANNOT_OPEN = new Set(['ENOENT', 'EACCES', 'EPERM', 'ENOTDIR', 'ELOOP', 'ENAMETOOLONG']);

function readConfigFile(path: string, role: 'system' | 'user', request: LoadRequest): FileResult {
  let content: Uint8Array;
  try {
    content = request.fs.readFile(path);
  } catch (error) {
    const code = errorCode(error);
    const named = role === 'user' && request.userFile !== undefined;
    if (CANNOT_OPEN.has(code) && !named) return { report: { path, role, loaded: false, reason: strerror(error) } };
    throw new OutboxError('E_IO', `${path}: ${strerror(error)}`, { cause: error });
  }
  const parsed = parseConfigFile(content, path, { home: request.home, runCommand: request.runCommand });
  return { report: { path, role, loaded: true }, parsed };
}

function checkSecrets(parsed: ParsedFile, request: LoadRequest): void {
  const line = parsed.passwordLines[0];
  if (line === undefined || request.euid === null || request.euid === 0) return;
  let status: { uid: number; mode: number };
  try {
    status = request.fs.stat(parsed.file);
  } catch (error) {
    throw new OutboxError('E_IO', `${parsed.file}: ${strerror(error)}`, { cause: error });
  }
  const where = { file: parsed.file, line };
  if (status.uid !== request.euid) throw errorAt(where, 'contains secrets and therefore must be owned by you');
  if ((status.mode & 0o177) !== 0) {
    throw errorAt(where, 'contains secrets and therefore must have no more than user read/write permissions');
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
