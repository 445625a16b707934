/**
 * `outbox oauth2 login|status|logout`: the OAuth2 subcommand (issue 16).
 *
 *   outbox oauth2 login  [-C FILE] [--device] [ACCOUNT]
 *   outbox oauth2 status [-C FILE] [--json]
 *   outbox oauth2 logout [-C FILE] [ACCOUNT]
 *
 * ACCOUNT defaults to the account a plain send would use (`default`).
 * Messages for the user go to standard error, the status to standard
 * output; no token, code, verifier or client secret is ever printed.
 */
import { spawn } from 'node:child_process';
import {
  asyncShellRunner,
  chooseAccount,
  homeDirectory,
  loadConfiguration,
  resolveAccount,
  systemLoadRequest,
  type Account,
  type Configuration,
} from '../config/index.js';
import { OutboxError } from '../errors.js';
import { EX_OK } from './exit-status.js';
import type { Stdio } from './stdio.js';

const USAGE = `usage: outbox oauth2 login  [-C FILE] [--device] [ACCOUNT]
       outbox oauth2 status [-C FILE] [--json]
       outbox oauth2 logout [-C FILE] [ACCOUNT]`;

interface OAuth2Command {
  readonly action: 'login' | 'status' | 'logout';
  readonly file: string | undefined;
  readonly device: boolean;
  readonly json: boolean;
  readonly account: string | undefined;
}

export function parseOAuth2Arguments(argv: readonly string[]): OAuth2Command | 'help' {
  const [action, ...rest] = argv;
  if (action === '--help' || action === '-h' || action === 'help') return 'help';
  if (action !== 'login' && action !== 'status' && action !== 'logout') throw usage(action === undefined ? 'oauth2 needs login, status or logout' : `unknown oauth2 command ${action}`);
  let file: string | undefined;
  let device = false;
  let json = false;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '-C' || arg === '--file') file = rest[++i] ?? missingValue(arg);
    else if (arg.startsWith('--file=')) file = arg.slice('--file='.length);
    else if (arg === '--device' && action === 'login') device = true;
    else if (arg === '--json' && action === 'status') json = true;
    else if (arg === '--help' || arg === '-h') return 'help';
    else if (arg.startsWith('-')) throw usage(`unknown option ${arg} for oauth2 ${action}`);
    else positional.push(arg);
  }
  if (positional.length > (action === 'status' ? 0 : 1)) throw usage(`too many arguments for oauth2 ${action}`);
  return { action, file, device, json, account: positional[0] };
}

function missingValue(option: string): never {
  throw usage(`option ${option} needs a value`);
}

function usage(message: string): OutboxError {
  return new OutboxError('E_USAGE', `${message}\n${USAGE}`);
}

export async function runOAuth2(argv: readonly string[], io: Stdio): Promise<number> {
  const command = parseOAuth2Arguments(argv);
  if (command === 'help') {
    io.writeOut(`${USAGE}\n`);
    return EX_OK;
  }
  const config = loadConfiguration({ ...systemLoadRequest(command.file), env: io.env });
  const oauth2 = await import('../oauth2/index.js');
  const home = homeDirectory(io.env);
  const stores = oauth2.openTokenStores(io.env, home);
  if (command.action === 'status') {
    const statuses = await Promise.all(oauth2Accounts(config).map(async (account) => {
      try {
        return await oauth2.tokenStatus(oauth2.clientOf(account), stores, Date.now());
      } catch (error) {
        if (error instanceof OutboxError) return { account: account.name, error: error.message };
        throw error;
      }
    }));
    io.writeOut(command.json ? `${JSON.stringify(statuses, null, 2)}\n` : renderStatus(statuses));
    return EX_OK;
  }
  const account = accountFor(config, command.account, io.env);
  if (command.action === 'logout') {
    const client = oauth2.clientOf(account);
    const removed = await oauth2.logout(client.key, stores);
    io.writeErr(removed.length === 0 ? `outbox: account ${account.name}: no token was stored\n` : `outbox: account ${account.name}: token removed (${removed.join(', ')})\n`);
    return EX_OK;
  }
  const client = await oauth2.resolveClient(account, asyncShellRunner());
  const browser = hasBrowser(io.env);
  const flow = oauth2.chooseFlow(client, command.device, browser);
  const store = await oauth2.login(client, flow, {
    stores,
    post: oauth2.fetchPost,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    say: (line) => io.writeErr(`${line}\n`),
    openBrowser: browser ? openBrowser : undefined,
  });
  io.writeErr(`outbox: account ${account.name}: logged in; the token is in the ${store === 'keyring' ? 'keyring' : 'token file'}\n`);
  return EX_OK;
}

/** Every account of the files that sets `oauth2_provider`, with its layers resolved (not checked: status shows broken ones too). */
function oauth2Accounts(config: Configuration): Account[] {
  return config.accounts
    .map((definition) => resolveAccount(definition, definition.defaults, definition.explicit))
    .filter((account) => account.oauth2_provider !== null);
}

function accountFor(config: Configuration, name: string | undefined, env: NodeJS.ProcessEnv): Account {
  const { account } = chooseAccount(config, { ...(name !== undefined ? { account: name } : {}), env, sendmail: false });
  if (account.oauth2_provider === null) {
    throw new OutboxError('E_CONFIG', `account ${account.name} does not use OAuth2 (set oauth2_provider google, microsoft or custom)`);
  }
  return account;
}

type StatusLine = Awaited<ReturnType<typeof import('../oauth2/index.js').tokenStatus>> | { account: string; error: string };

function renderStatus(statuses: readonly StatusLine[]): string {
  if (statuses.length === 0) return 'no account sets oauth2_provider\n';
  return statuses.map((s) => {
    if ('error' in s) return `${s.account}: ${s.error}\n`;
    if (!s.accessToken) return `${s.account} (${s.provider}, ${s.user} at ${s.host}): no token; run outbox oauth2 login ${s.account}\n`;
    const expiry = s.expiresAt === null ? 'expiry unknown' : `${s.expired ? 'expired' : 'expires'} ${s.expiresAt}`;
    const refresh = s.refreshToken ? 'refresh token present' : 'no refresh token';
    const mismatch = s.matchesClient ? '' : '; made for another client: run outbox oauth2 login again';
    return `${s.account} (${s.provider}, ${s.user} at ${s.host}): access token present, ${expiry}, ${refresh}, store ${s.store}${mismatch}\n`;
  }).join('');
}

/** A graphical session: DISPLAY (X11) or WAYLAND_DISPLAY. */
function hasBrowser(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env['DISPLAY'] || env['WAYLAND_DISPLAY']);
}

/** xdg-open, detached; if it fails, the printed address is still there. */
function openBrowser(url: string): void {
  try {
    const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // the user opens the printed address
  }
}
