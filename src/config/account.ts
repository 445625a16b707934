/**
 * An account: every setting of msmtp 1.8.33, typed, under the name of the
 * configuration command that sets it (`tls_trust_file`, not `tlsTrustFile`),
 * so the configuration file, `--pretend` and the code say the same thing.
 *
 * `null` means "not set" (what `--pretend` prints as "(not set)"); an empty
 * argument unsets most string settings. `AccountSettings` is one layer: a key
 * that is absent says nothing, a key that is present (even `null`) overrides
 * the layers below it (see `layer.ts`).
 */

/** The `auth` methods outbox accepts, in msmtp's (lower-case) spelling. */
export const AUTH_METHODS = [
  'plain',
  'scram-sha-1',
  'scram-sha-1-plus',
  'scram-sha-256',
  'scram-sha-256-plus',
  'external',
  'gssapi',
  'cram-md5',
  'digest-md5',
  'login',
  'ntlm',
  'oauthbearer',
  'xoauth2',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** `auth off`, `auth on` (choose a method automatically) or one method. */
export type AuthSetting = 'off' | 'on' | AuthMethod;
export type Protocol = 'smtp' | 'lmtp';
/** `set_from_header`: add when missing, always replace, never. */
export type FromHeaderPolicy = 'auto' | 'on' | 'off';
/** `set_date_header`, `set_msgid_header`: add when missing, or never. */
export type AddHeaderPolicy = 'auto' | 'off';
/**
 * `set_to_header` (msmtp 1.8.33; `undisclosed_recipients on|off` is the older
 * spelling of `on|off`): `on` replaces To, Cc and Bcc with a single
 * `To: undisclosed-recipients:;`, `auto` adds that header only when the mail
 * has no To, `off` leaves the headers alone.
 */
export type ToHeaderPolicy = 'auto' | 'on' | 'off';
/** outbox's own `queue`: send only (`off`), queue what fails temporarily, or queue every mail and flush in the background. */
export type QueueMode = 'off' | 'on_failure' | 'always';
export type DsnCondition = 'failure' | 'delay' | 'success';
/** `dsn_notify`: `never`, or a list of conditions; `null` (`off`) requests nothing. */
export type DsnNotify = 'never' | readonly DsnCondition[];
/** `dsn_return`: RET=HDRS or RET=FULL; `null` (`off`) requests nothing. */
export type DsnReturn = 'headers' | 'full';
/**
 * The `syslog` facilities msmtprc accepts. The log sink (log/syslog.ts) takes
 * this type from here: config imports nothing but errors, and the sink is the
 * layer above that needs the names.
 */
export type SyslogFacility =
  | 'LOG_USER'
  | 'LOG_MAIL'
  | 'LOG_LOCAL0'
  | 'LOG_LOCAL1'
  | 'LOG_LOCAL2'
  | 'LOG_LOCAL3'
  | 'LOG_LOCAL4'
  | 'LOG_LOCAL5'
  | 'LOG_LOCAL6'
  | 'LOG_LOCAL7';

/** Every setting of an account. */
export interface Settings {
  readonly host: string | null;
  /** `null`: the default for the protocol and TLS mode (see `defaultPort`). */
  readonly port: number | null;
  readonly source_ip: string | null;
  readonly proxy_host: string | null;
  /** `null`: 1080 when `proxy_host` is set. */
  readonly proxy_port: number | null;
  readonly socket: string | null;
  /** Seconds, or `off` for the operating system's and RFC 5321's defaults. */
  readonly timeout: number | 'off';
  readonly protocol: Protocol;
  /** The EHLO/LHLO argument; `%H %C %M` are substituted (see `expand.ts`). */
  readonly domain: string;
  readonly auth: AuthSetting;
  readonly user: string | null;
  readonly password: string | null;
  readonly passwordeval: string | null;
  readonly ntlmdomain: string | null;
  readonly tls: boolean;
  /** `true`: STARTTLS; `false`: TLS from the first byte (port 465). */
  readonly tls_starttls: boolean;
  /** A PEM file, `system` (the default), or `null` (trust no CA). */
  readonly tls_trust_file: string | null;
  readonly tls_crl_file: string | null;
  /** SHA-256 (or SHA-1, MD5) as upper-case hex pairs joined by `:`. */
  readonly tls_fingerprint: string | null;
  readonly tls_key_file: string | null;
  readonly tls_cert_file: string | null;
  readonly tls_certcheck: boolean;
  readonly tls_priorities: string | null;
  readonly tls_host_override: string | null;
  readonly tls_min_dh_prime_bits: number | null;
  /** The envelope-from address or a glob pattern; `%U %H %C %M %F` are substituted. */
  readonly from: string | null;
  readonly from_full_name: string | null;
  readonly allow_from_override: boolean;
  readonly dsn_notify: DsnNotify | null;
  readonly dsn_return: DsnReturn | null;
  readonly set_from_header: FromHeaderPolicy;
  readonly set_date_header: AddHeaderPolicy;
  readonly set_msgid_header: AddHeaderPolicy;
  readonly set_to_header: ToHeaderPolicy;
  readonly remove_bcc_headers: boolean;
  /** A file name, `-` for standard output, or `null` (no log). */
  readonly logfile: string | null;
  /** strftime format; `none` drops the time stamp; `null` is "%b %d %H:%M:%S". */
  readonly logfile_time_format: string | null;
  /** outbox's own: `msmtp` (msmtp's line, the default) or `json` (one object per mail). */
  readonly logfile_format: 'msmtp' | 'json';
  readonly syslog: SyslogFacility | null;
  readonly aliases: string | null;
  /** Obsolete: the envelope-from is `user@maildomain`. */
  readonly auto_from: boolean;
  readonly maildomain: string | null;
  /** outbox's own: when the outbox queue is used (see docs/queue.md). */
  readonly queue: QueueMode;
  /** outbox's own: the queue folder; `null` is `$XDG_STATE_HOME/outbox/queue`. */
  readonly queue_dir: string | null;
  /** outbox's own: seconds a queued mail is retried before it fails. */
  readonly queue_lifetime: number;
  /** outbox's own: whether a mail the queue gives up on is returned to its sender. */
  readonly queue_bounce: boolean;

  // --- eightbit (issue 15): 8-bit mail for a server without 8BITMIME; see docs/eightbit.md.
  /** outbox's own: convert it to 7-bit (default), send it as it is (msmtp), or refuse it (exit 69). */
  readonly eightbit: EightBitSetting;
  // outbox's own OAuth2 settings (issue 16; see docs/auth.md). With a
  // provider set, the bearer token comes from outbox's token store, not
  // from password/passwordeval.
  /** `google`, `microsoft` or `custom` (endpoints and scope given below); `null`: no built-in OAuth2. */
  readonly oauth2_provider: OAuth2Provider | null;
  readonly oauth2_client_id: string | null;
  /** A secret like a password: `*` in --pretend, never in a message. */
  readonly oauth2_client_secret: string | null;
  /** A shell command printing the client secret (as passwordeval); `<redacted>` in --pretend. */
  readonly oauth2_client_secret_eval: string | null;
  /** Endpoints (RFC 6749 §3, RFC 8628 §3.1): https, or http on 127.0.0.1 / [::1] only. `null`: the provider's. */
  readonly oauth2_auth_endpoint: string | null;
  readonly oauth2_token_endpoint: string | null;
  readonly oauth2_device_endpoint: string | null;
  /** Space-separated scopes (RFC 6749 §3.3); `null`: the provider's. */
  readonly oauth2_scope: string | null;
  // --- outbox's own: fail-over (issue 16); kept together at the end for easy merges. ---
  /**
   * The account to send through when this one cannot be reached or fails
   * temporarily before the mail is accepted (see config/fallback.ts); `null`: none.
   */
  readonly fallback_account: string | null;
  // --- Local delivery (issue 15, esmtp's `mda`): outbox's own; see docs/local-delivery.md ---
  /** `mda`: `maildir:PATH`, `mbox:PATH` or a command (split into words, run without a shell), as written; see mda.ts. */
  readonly mda: string | null;
  /** `local_domains`: recipients at these domains (lower case) are local too. */
  readonly local_domains: readonly string[];
  /** `force_mda`: every recipient is delivered by the MDA. */
  readonly force_mda: boolean;
}

/** `eightbit`: what to do with 8-bit data for a server without 8BITMIME. */
export type EightBitSetting = 'convert' | 'send' | 'refuse';

/** outbox's own `oauth2_provider`: the providers whose endpoints are built in, or `custom`. */
export const OAUTH2_PROVIDERS = ['google', 'microsoft', 'custom'] as const;
export type OAuth2Provider = (typeof OAUTH2_PROVIDERS)[number];

/** One layer of settings: defaults, an account's own, inherited, or the command line. */
export type AccountSettings = Partial<Settings>;

/** Where one setting was given: the line of a configuration file (an `eval` line for what it printed), or the command line. */
export type SettingSource = { readonly file: string; readonly line: number } | 'command line';

/** Where each setting that is not a built-in default was given; a later layer's setting replaces the earlier source. */
export type SettingSources = Partial<Record<keyof Settings, SettingSource>>;

/** Where an account was defined: a file and the line of its `account` command. */
export interface AccountOrigin {
  readonly name: string;
  /** The configuration file, or `null` for the command line and the environment. */
  readonly file: string | null;
  /** The line of the `account` command; `null` when `file` is `null`. */
  readonly line: number | null;
  /**
   * Where its settings were given, so an error about one setting (a failing
   * `passwordeval`) points at that setting's line rather than at the account's.
   */
  readonly sources?: SettingSources | undefined;
}

/** An account with every setting resolved. */
export interface Account extends Settings, AccountOrigin {}

/** msmtp's built-in values, below every layer. */
export const DEFAULT_SETTINGS: Settings = {
  host: null,
  port: null,
  source_ip: null,
  proxy_host: null,
  proxy_port: null,
  socket: null,
  timeout: 'off',
  protocol: 'smtp',
  domain: 'localhost',
  auth: 'off',
  user: null,
  password: null,
  passwordeval: null,
  ntlmdomain: null,
  tls: false,
  tls_starttls: true,
  tls_trust_file: 'system',
  tls_crl_file: null,
  tls_fingerprint: null,
  tls_key_file: null,
  tls_cert_file: null,
  tls_certcheck: true,
  tls_priorities: null,
  tls_host_override: null,
  tls_min_dh_prime_bits: null,
  from: null,
  from_full_name: null,
  allow_from_override: true,
  dsn_notify: null,
  dsn_return: null,
  set_from_header: 'auto',
  set_date_header: 'auto',
  set_msgid_header: 'auto',
  set_to_header: 'off',
  remove_bcc_headers: true,
  logfile: null,
  logfile_time_format: null,
  logfile_format: 'msmtp',
  syslog: null,
  aliases: null,
  auto_from: false,
  maildomain: null,
  queue: 'off',
  queue_dir: null,
  queue_lifetime: 5 * 24 * 3600,
  queue_bounce: true,
  // --- eightbit (issue 15)
  eightbit: 'convert',
  oauth2_provider: null,
  oauth2_client_id: null,
  oauth2_client_secret: null,
  oauth2_client_secret_eval: null,
  oauth2_auth_endpoint: null,
  oauth2_token_endpoint: null,
  oauth2_device_endpoint: null,
  oauth2_scope: null,
  // outbox's own: fail-over (issue 16).
  fallback_account: null,
  // Local delivery (issue 15).
  mda: null,
  local_domains: [],
  force_mda: false,
};

export const SETTING_NAMES = Object.keys(DEFAULT_SETTINGS) as readonly (keyof Settings)[];

/** The port msmtp uses when none is set: 465 for TLS without STARTTLS, else 25; LMTP has none. */
export function defaultPort(settings: Pick<Settings, 'protocol' | 'tls' | 'tls_starttls'>): number | null {
  if (settings.protocol === 'lmtp') return null;
  return settings.tls && !settings.tls_starttls ? 465 : 25;
}

/** The SOCKS port when `proxy_port` is not set. */
export const DEFAULT_PROXY_PORT = 1080;

/** The NOTIFY= parameter value for `dsn_notify`, e.g. "FAILURE,DELAY", or undefined. */
export function dsnNotifyParameter(notify: DsnNotify | null): string | undefined {
  if (notify === null) return undefined;
  return notify === 'never' ? 'NEVER' : notify.map((c) => c.toUpperCase()).join(',');
}

/** The RET= parameter value for `dsn_return`: "HDRS" or "FULL", or undefined. */
export function dsnReturnParameter(ret: DsnReturn | null): string | undefined {
  if (ret === null) return undefined;
  return ret === 'headers' ? 'HDRS' : 'FULL';
}
