/**
 * The built-in providers' endpoints and scopes: data, with where each value
 * is documented, so a change at the provider is a one-line change here.
 * `oauth2_provider custom` has none: every endpoint and the scope come from
 * the account (`oauth2_auth_endpoint`, … `oauth2_scope`), which may also
 * override a built-in value (a Microsoft tenant instead of `common`).
 */
import type { OAuth2Provider } from '../config/account.js';

export interface ProviderEndpoints {
  /** RFC 6749 §3.1: where the user's browser is sent. */
  readonly authorization: string;
  /** RFC 6749 §3.2: code, refresh token and device code exchanged for tokens. */
  readonly token: string;
  /** RFC 8628 §3.1: the device authorization endpoint. */
  readonly device: string | undefined;
  /** RFC 6749 §3.3, space-separated. */
  readonly scope: string;
  /** Extra parameters of the authorization request. */
  readonly authorizationParameters: Readonly<Record<string, string>>;
  /** Whether the device grant can give a token for mail (Google's refuses the Gmail scope). */
  readonly deviceGrantForMail: boolean;
}

export const PROVIDERS: Readonly<Record<Exclude<OAuth2Provider, 'custom'>, ProviderEndpoints>> = {
  /*
   * Google, "OAuth 2.0 for Mobile & Desktop Apps":
   *   https://developers.google.com/identity/protocols/oauth2/native-app
   * (authorization code + PKCE with a loopback redirect on 127.0.0.1; the
   * out-of-band flow was removed in 2022; `access_type=offline` asks for a
   * refresh token, `prompt=consent` for a new one at each login).
   * The scope for SMTP (XOAUTH2/OAUTHBEARER), "OAuth 2.0 Mechanism":
   *   https://developers.google.com/gmail/imap/xoauth2-protocol
   * The device endpoint, "OAuth 2.0 for TV and Limited-Input Device Applications":
   *   https://developers.google.com/identity/protocols/oauth2/limited-input-device
   * whose list of allowed scopes does not include https://mail.google.com/.
   */
  google: {
    authorization: 'https://accounts.google.com/o/oauth2/v2/auth',
    token: 'https://oauth2.googleapis.com/token',
    device: 'https://oauth2.googleapis.com/device/code',
    scope: 'https://mail.google.com/',
    authorizationParameters: { access_type: 'offline', prompt: 'consent' },
    deviceGrantForMail: false,
  },
  /*
   * Microsoft identity platform (v2.0 endpoints; `common` takes work and
   * personal accounts, a tenant id or `organizations` can replace it):
   *   https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
   *   https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code
   * The SMTP scope, "Authenticate an IMAP, POP or SMTP connection using OAuth":
   *   https://learn.microsoft.com/en-us/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth
   * (`offline_access` is what returns a refresh token; the server is
   * smtp.office365.com:587 and takes XOAUTH2).
   */
  microsoft: {
    authorization: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    token: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    device: 'https://login.microsoftonline.com/common/oauth2/v2.0/devicecode',
    scope: 'https://outlook.office.com/SMTP.Send offline_access',
    authorizationParameters: {},
    deviceGrantForMail: true,
  },
};
