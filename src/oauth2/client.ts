/**
 * An account's OAuth2 client (RFC 6749 §2): its id, its secret when it has
 * one, the endpoints and the scope, from the provider's data overridden by
 * the account's own settings. Errors name the setting's `file:line`; the
 * client secret and its command never appear in one.
 */
import { OutboxError } from '../errors.js';
import type { Account, OAuth2Provider } from '../config/account.js';
import { firstOutputLine, type AsyncCommandRunner } from '../config/shell.js';
import { describeAccount, describeSetting } from '../config/validate.js';
import { PROVIDERS } from './providers.js';
import type { TokenKey } from './token-record.js';

export type OAuth2Account = Pick<
  Account,
  | 'name' | 'file' | 'line' | 'sources' | 'host' | 'user'
  | 'oauth2_provider' | 'oauth2_client_id' | 'oauth2_client_secret' | 'oauth2_client_secret_eval'
  | 'oauth2_auth_endpoint' | 'oauth2_token_endpoint' | 'oauth2_device_endpoint' | 'oauth2_scope'
>;

export interface OAuth2Client {
  /** The account's name, for messages ("run outbox oauth2 login NAME"). */
  readonly account: string;
  readonly provider: OAuth2Provider;
  readonly clientId: string;
  /** Confidential or not, Google wants it even from desktop apps; undefined when none is configured. */
  readonly clientSecret: string | undefined;
  readonly authorizationEndpoint: string | undefined;
  readonly tokenEndpoint: string;
  readonly deviceEndpoint: string | undefined;
  readonly scope: string;
  readonly authorizationParameters: Readonly<Record<string, string>>;
  /** False when the provider's device grant refuses the mail scope (Google). */
  readonly deviceGrantForMail: boolean;
  /** Where its tokens are stored. */
  readonly key: TokenKey;
}

/** The account's client, without its secret: what `status` and the send path's first look need. */
export function clientOf(account: OAuth2Account): Omit<OAuth2Client, 'clientSecret'> {
  const provider = account.oauth2_provider;
  if (provider === null) throw new OutboxError('E_CONFIG', `${describeAccount(account)}: oauth2_provider not set`);
  const builtIn = provider === 'custom' ? undefined : PROVIDERS[provider];
  const clientId = account.oauth2_client_id;
  if (clientId === null) throw new OutboxError('E_CONFIG', `${describeSetting(account, 'oauth2_provider')}: account ${account.name}: oauth2_client_id not set`);
  const tokenEndpoint = account.oauth2_token_endpoint ?? builtIn?.token;
  const scope = account.oauth2_scope ?? builtIn?.scope;
  if (tokenEndpoint === undefined) throw missing(account, 'oauth2_token_endpoint');
  if (scope === undefined) throw missing(account, 'oauth2_scope');
  if (account.user === null || account.user === '') throw missing(account, 'user');
  return {
    account: account.name,
    provider,
    clientId,
    authorizationEndpoint: account.oauth2_auth_endpoint ?? builtIn?.authorization,
    tokenEndpoint,
    deviceEndpoint: account.oauth2_device_endpoint ?? builtIn?.device,
    scope,
    authorizationParameters: builtIn?.authorizationParameters ?? {},
    deviceGrantForMail: builtIn?.deviceGrantForMail ?? true,
    key: { host: account.host ?? '', user: account.user },
  };
}

/** The whole client, its secret from `oauth2_client_secret` or the first line `oauth2_client_secret_eval` prints. */
export async function resolveClient(account: OAuth2Account, runCommand: AsyncCommandRunner): Promise<OAuth2Client> {
  const client = clientOf(account);
  if (account.oauth2_client_secret !== null) return { ...client, clientSecret: account.oauth2_client_secret };
  if (account.oauth2_client_secret_eval === null) return { ...client, clientSecret: undefined };
  const output = firstOutputLine(await runCommand(account.oauth2_client_secret_eval));
  if (!output.ok) throw new OutboxError('E_CONFIG', `${describeSetting(account, 'oauth2_client_secret_eval')}: ${output.reason}`);
  return { ...client, clientSecret: output.line };
}

function missing(account: OAuth2Account, setting: string): OutboxError {
  return new OutboxError('E_CONFIG', `${describeSetting(account, 'oauth2_provider')}: account ${account.name}: oauth2_provider ${account.oauth2_provider} needs ${setting}`);
}

/** The error that sends the user to `outbox oauth2 login` (exit 77). */
export function loginNeeded(account: string, why: string): OutboxError {
  return new OutboxError('E_OAUTH2_LOGIN', `account ${account}: ${why}; run outbox oauth2 login ${account}`);
}
