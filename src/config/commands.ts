/**
 * The table of configuration commands: one small parser per keyword, turning
 * its argument into settings. Values and messages follow msmtp (checked
 * against msmtp 1.8.23, plus the commands 1.8.33 added: `from_full_name`,
 * `set_to_header`, the SCRAM-…-PLUS methods, `logfile_time_format none`).
 *
 * `defaults`, `account` and `eval` shape the file rather than an account;
 * `parser.ts` handles them.
 */
import { AUTH_METHODS, OAUTH2_PROVIDERS, type AccountSettings, type AuthSetting, type SyslogFacility } from './account.js';
import {
  ArgumentError,
  dsnNotify,
  duration,
  fileName,
  fingerprint,
  invalid,
  mailAddress,
  mailDomain,
  none,
  oneOf,
  onOff,
  optional,
  portNumber,
  positiveInteger,
  required,
  type CommandContext,
} from './arguments.js';
import { localDomains, mdaSetting } from './mda.js';

export type CommandParser = (argument: string, context: CommandContext) => AccountSettings;

const fromHeader = oneOf(['auto', 'on', 'off'] as const, 'auto');
const addHeader = oneOf(['auto', 'off'] as const, 'auto');
const toHeader = oneOf(['auto', 'on', 'off'] as const, 'on');

function timeout(argument: string, context: CommandContext): AccountSettings {
  required(argument, context);
  return { timeout: argument === 'off' ? 'off' : positiveInteger(argument, context) };
}

function auth(argument: string, context: CommandContext): AccountSettings {
  if (argument === '' || argument === 'on') return { auth: 'on' };
  if (argument === 'off') return { auth: 'off' };
  if ((AUTH_METHODS as readonly string[]).includes(argument)) return { auth: argument as AuthSetting };
  throw invalid(argument, context);
}

function trustFile(argument: string, context: CommandContext): AccountSettings {
  return { tls_trust_file: argument === 'system' ? 'system' : fileName(argument, context) };
}

function dsnReturn(argument: string, context: CommandContext): AccountSettings {
  required(argument, context);
  if (argument === 'off') return { dsn_return: null };
  if (argument === 'headers' || argument === 'full') return { dsn_return: argument };
  throw invalid(argument, context);
}

function logfile(argument: string, context: CommandContext): AccountSettings {
  return { logfile: argument === '-' ? '-' : fileName(argument, context) };
}

const SYSLOG_FACILITIES = /^LOG_(USER|MAIL|LOCAL[0-7])$/;

function syslog(argument: string, context: CommandContext): AccountSettings {
  if (argument === '' || argument === 'on') return { syslog: 'LOG_USER' };
  if (argument === 'off') return { syslog: null };
  if (SYSLOG_FACILITIES.test(argument)) return { syslog: argument as SyslogFacility };
  throw invalid(argument, context);
}

export const COMMANDS: Readonly<Record<string, CommandParser>> = {
  host: (a, c) => ({ host: required(a, c) }),
  port: (a, c) => ({ port: portNumber(required(a, c), c) }),
  source_ip: (a) => ({ source_ip: optional(a) }),
  proxy_host: (a) => ({ proxy_host: optional(a) }),
  proxy_port: (a, c) => ({ proxy_port: a === '' ? null : portNumber(a, c) }),
  socket: (a, c) => ({ socket: fileName(a, c) }),
  timeout,
  protocol: (a, c) => ({ protocol: oneOf(['smtp', 'lmtp'] as const, 'smtp')(required(a, c), c) }),
  domain: (a, c) => ({ domain: mailDomain(a, c) }),
  auth,
  user: (a) => ({ user: optional(a) }),
  password: (a) => ({ password: optional(a) }),
  passwordeval: (a) => ({ passwordeval: optional(a) }),
  ntlmdomain: (a) => ({ ntlmdomain: optional(a) }),
  tls: (a, c) => ({ tls: onOff(a, c) }),
  tls_starttls: (a, c) => ({ tls_starttls: onOff(a, c) }),
  tls_trust_file: trustFile,
  tls_crl_file: (a, c) => ({ tls_crl_file: fileName(a, c) }),
  tls_fingerprint: (a, c) => ({ tls_fingerprint: a === '' ? null : fingerprint(a, c) }),
  tls_key_file: (a, c) => ({ tls_key_file: fileName(a, c) }),
  tls_cert_file: (a, c) => ({ tls_cert_file: fileName(a, c) }),
  tls_certcheck: (a, c) => ({ tls_certcheck: onOff(a, c) }),
  tls_priorities: (a) => ({ tls_priorities: optional(a) }),
  tls_host_override: (a) => ({ tls_host_override: optional(a) }),
  tls_min_dh_prime_bits: (a, c) => ({ tls_min_dh_prime_bits: a === '' ? null : positiveInteger(a, c) }),
  from: (a, c) => ({ from: mailAddress(a, c) }),
  from_full_name: (a) => ({ from_full_name: optional(a) }),
  allow_from_override: (a, c) => ({ allow_from_override: onOff(a, c) }),
  dsn_notify: (a, c) => ({ dsn_notify: required(a, c) === 'off' ? null : dsnNotify(a, c) }),
  dsn_return: dsnReturn,
  set_from_header: (a, c) => ({ set_from_header: fromHeader(a, c) }),
  set_date_header: (a, c) => ({ set_date_header: addHeader(a, c) }),
  set_msgid_header: (a, c) => ({ set_msgid_header: addHeader(a, c) }),
  set_to_header: (a, c) => ({ set_to_header: toHeader(a, c) }),
  undisclosed_recipients: (a, c) => ({ set_to_header: onOff(a, c) ? 'on' : 'off' }),
  remove_bcc_headers: (a, c) => ({ remove_bcc_headers: onOff(a, c) }),
  logfile,
  logfile_time_format: (a) => ({ logfile_time_format: optional(a) }),
  /** outbox's own command (msmtp does not know it): the log file's format. */
  logfile_format: (a, c) => ({ logfile_format: oneOf(['msmtp', 'json'] as const, 'msmtp')(required(a, c), c) }),
  syslog,
  aliases: (a, c) => ({ aliases: fileName(a, c) }),
  auto_from: (a, c) => ({ auto_from: onOff(a, c) }),
  maildomain: (a) => ({ maildomain: a }),
  /** outbox's own commands (msmtp does not know them): the outbox queue. */
  queue: (a, c) => ({ queue: oneOf(['off', 'on_failure', 'always'] as const, 'off')(required(a, c), c) }),
  queue_dir: (a, c) => ({ queue_dir: fileName(a, c) }),
  queue_lifetime: (a, c) => ({ queue_lifetime: duration(required(a, c), c) }),
  queue_bounce: (a, c) => ({ queue_bounce: onOff(a, c) }),

  // Old spellings msmtp still accepts.
  connect_timeout: timeout,
  keepbcc: (a, c) => ({ remove_bcc_headers: !onOff(a, c) }),
  tls_nocertcheck: (a, c) => (none(a, c), { tls_certcheck: false }),
  tls_nostarttls: (a, c) => (none(a, c), { tls_starttls: false }),
  add_missing_from_header: (a, c) => ({ set_from_header: onOff(a, c) ? 'auto' : 'off' }),
  add_missing_date_header: (a, c) => ({ set_date_header: onOff(a, c) ? 'auto' : 'off' }),
  /** Obsolete since msmtp 1.6.0; any argument is accepted and ignored. */
  tls_force_sslv3: () => ({}),

  // --- eightbit (issue 15), outbox's own: 8-bit mail for a server without 8BITMIME (docs/eightbit.md).
  eightbit: (a, c) => ({ eightbit: oneOf(['convert', 'send', 'refuse'] as const, 'convert')(required(a, c), c) }),
  // outbox's own commands (msmtp does not know them): OAuth2 built in (issue 16, docs/auth.md).
  oauth2_provider: (a, c) => ({ oauth2_provider: a === '' ? null : oneOf(OAUTH2_PROVIDERS, 'custom')(a, c) }),
  oauth2_client_id: (a) => ({ oauth2_client_id: optional(a) }),
  oauth2_client_secret: (a) => ({ oauth2_client_secret: optional(a) }),
  oauth2_client_secret_eval: (a) => ({ oauth2_client_secret_eval: optional(a) }),
  oauth2_auth_endpoint: (a, c) => ({ oauth2_auth_endpoint: endpoint(a, c) }),
  oauth2_token_endpoint: (a, c) => ({ oauth2_token_endpoint: endpoint(a, c) }),
  oauth2_device_endpoint: (a, c) => ({ oauth2_device_endpoint: endpoint(a, c) }),
  oauth2_scope: (a) => ({ oauth2_scope: optional(a) }),
  // --- outbox's own: fail-over (issue 16); kept together here for easy merges. ---
  /** The next account of the chain; an empty argument unsets it (an account that must not inherit one from `defaults`). */
  fallback_account: (a) => ({ fallback_account: optional(a) }),
  // --- Local delivery (issue 15, esmtp's `mda`): outbox's own; see docs/local-delivery.md. ---
  // (`route`, issue 16, is a file's line rather than an account's setting: parser.ts reads it.)
  mda: (a, c) => ({ mda: mdaSetting(a, c) }),
  local_domains: (a) => ({ local_domains: localDomains(a) }),
  force_mda: (a, c) => ({ force_mda: onOff(a, c) }),
};

/**
 * An OAuth2 endpoint: https, because codes, tokens and the client secret
 * travel there (RFC 6749 §3.1, §3.2). Plain http only to the loopback
 * addresses written as literals (RFC 8252 §8.3 prefers literals to
 * `localhost`, which a resolver could send elsewhere); tests use those.
 */
function endpoint(argument: string, context: CommandContext): string | null {
  if (argument === '') return null;
  let url: URL;
  try {
    url = new URL(argument);
  } catch {
    throw new ArgumentError(`${invalid(argument, context).message}: not a URL`);
  }
  const loopback = url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === '[::1]');
  if (url.protocol !== 'https:' && !loopback) {
    throw new ArgumentError(`${invalid(argument, context).message}: an OAuth2 endpoint must be https (http only on 127.0.0.1 or [::1])`);
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw new ArgumentError(`invalid argument for command ${context.command}: an OAuth2 endpoint has no user, password or fragment`);
  }
  return url.href;
}

/** The commands that structure a file; `parser.ts` handles them. */
export const STRUCTURE_COMMANDS = ['defaults', 'account', 'eval', 'route'] as const;

/**
 * The settings one command sets, for configuration lines and for command-line
 * options that take the same values (`--tls-trust-file=…` is `tls_trust_file …`).
 * Throws `ArgumentError` (message without location) for an unknown command or a bad value.
 */
export function parseCommand(command: string, argument: string, home: string): AccountSettings {
  const parse = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!parse) throw new ArgumentError(`unknown command ${command}`);
  return parse(argument, { command, home });
}
