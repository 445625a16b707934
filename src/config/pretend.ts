/**
 * `--pretend` (`-P`): what msmtp prints about the files it read, how it chose
 * the account and every setting of that account (msmtp's `msmtp_print_conf()`),
 * collected as data first and rendered second, so `--json` falls out.
 *
 * Unlike msmtp it runs nothing, and shows no secret: the password is `*` when
 * the configuration holds one, and a `passwordeval` command (which may hold a
 * secret: `echo pw`, `curl -u user:pass …`) is `<redacted>`, as set, not as
 * written. msmtp prints the command. `--debug` prints these same lines.
 */
import { dsnNotifyParameter, dsnReturnParameter, type Account, type AuthSetting } from './account.js';
import { describeChain } from './fallback.js';
import type { ConfigFileReport } from './files.js';
import type { Route } from './routes.js';
import type { ChosenAccount } from './select.js';

export type PretendLine =
  | { readonly kind: 'note'; readonly text: string }
  | { readonly kind: 'setting'; readonly key: string; readonly value: string };

export type Mode = 'sendmail' | 'serverinfo' | 'rmqs';

export interface PretendInput {
  /** The files loading looked at; none with `--host`. */
  readonly files?: readonly ConfigFileReport[] | undefined;
  /** The address read from the mail for `--read-envelope-from`. */
  readonly extractedEnvelopeFrom?: string | undefined;
  /** The chosen account, after `expandAccount` for sendmail mode. */
  readonly chosen: ChosenAccount;
  /** Default `sendmail`. */
  readonly mode?: Mode | undefined;
  /** `-t`: recipients are read from the mail too. */
  readonly readRecipientsFromMail?: boolean | undefined;
  /** `--rmqs=ARG`. */
  readonly rmqsArgument?: string | undefined;
  /** outbox's own (issue 16): the names of the fail-over chain after the chosen account, in order. */
  readonly fallbacks?: readonly string[] | undefined;
  /** Issue 16: the `route` lines that apply (none with `-a` or `--host`). */
  readonly routes?: readonly Route[] | undefined;
  /** Issues 15, 16: where each command-line recipient would go, when routes or an MDA make it a question. */
  readonly plan?: readonly PlannedRecipient[] | undefined;
}

export interface PlannedRecipient {
  readonly recipient: string;
  readonly account: string;
  /** `SMTP`, or `mda KIND-OR-PROGRAM`. */
  readonly via: string;
}

const NOT_SET = '(not set)';
/** What a set passwordeval shows: this output gets pasted into bug reports. */
export const REDACTED = '<redacted>';

export function pretendLines(input: PretendInput): PretendLine[] {
  const mode = input.mode ?? 'sendmail';
  const notes: string[] = [];
  if (input.extractedEnvelopeFrom !== undefined) {
    notes.push(`envelope from address extracted from mail: ${input.extractedEnvelopeFrom}`);
  }
  for (const file of input.files ?? []) notes.push(fileNote(file));
  notes.push(...choiceNotes(input.chosen));
  const lines: PretendLine[] = notes.map((text) => ({ kind: 'note', text }));
  const { account } = input.chosen;
  const settings = [...connectionSettings(account), ...oauth2Settings(account), ...(mode === 'sendmail' ? [...mailSettings(account), ...fallbackSettings(input)] : [])];
  lines.push(...settings.map(([key, value]) => ({ kind: 'setting', key, value }) as const));
  if (mode === 'sendmail') {
    // outbox's own settings, shown only when set: msmtp's output stays as it was for msmtp's files.
    if (account.mda !== null) lines.push(...localSettings(account).map(([key, value]) => ({ kind: 'setting', key, value }) as const));
    const text = `reading recipients from the command line${input.readRecipientsFromMail ? ' and the mail' : ''}`;
    lines.push({ kind: 'note', text });
    lines.push(...routeNotes(input).map((text) => ({ kind: 'note', text }) as const));
  } else if (mode === 'rmqs') {
    lines.push({ kind: 'setting', key: 'RMQS argument', value: input.rmqsArgument ?? '' });
  }
  return lines;
}

/** One line per entry: notes as they are, settings as `key = value`. */
export function renderPretend(lines: readonly PretendLine[]): string {
  return lines.map((line) => (line.kind === 'note' ? line.text : `${line.key} = ${line.value}`)).join('\n') + '\n';
}

function fileNote(file: ConfigFileReport): string {
  return file.loaded
    ? `loaded ${file.role} configuration file ${file.path}`
    : `ignoring ${file.role} configuration file ${file.path}: ${file.reason ?? 'cannot be read'}`;
}

function choiceNotes({ account, how }: ChosenAccount): string[] {
  const using = account.file === null ? [] : [`using account ${account.name} from ${account.file}`];
  switch (how.kind) {
    case 'named':
      return using;
    case 'envelope-from':
      return [`account chosen by envelope from address ${how.address}: ${account.name}`, ...using];
    case 'default':
      return ['falling back to default account', ...using];
    case 'environment':
      return ['falling back to default account', 'using environment variables EMAIL and SMTPSERVER'];
    case 'command-line':
      return ['using account specified on command line'];
  }
}

type Pair = readonly [string, string];

function connectionSettings(a: Account): Pair[] {
  return [
    ['host', text(a.host)],
    ['port', String(a.port ?? 0)],
    ['source ip', text(a.source_ip)],
    ['proxy host', text(a.proxy_host)],
    ['proxy port', String(a.proxy_port ?? 0)],
    ['socket', text(a.socket)],
    ['timeout', a.timeout === 'off' ? 'off' : `${a.timeout} seconds`],
    ['protocol', a.protocol],
    ['domain', a.domain],
    ['auth', authText(a.auth)],
    ['user', text(a.user)],
    ['password', a.password === null ? NOT_SET : '*'],
    ['passwordeval', a.passwordeval === null ? NOT_SET : REDACTED],
    ['ntlmdomain', text(a.ntlmdomain)],
    ['tls', onOff(a.tls)],
    ['tls_starttls', onOff(a.tls_starttls)],
    ['tls_trust_file', text(a.tls_trust_file)],
    ['tls_crl_file', text(a.tls_crl_file)],
    ['tls_fingerprint', text(a.tls_fingerprint)],
    ['tls_key_file', text(a.tls_key_file)],
    ['tls_cert_file', text(a.tls_cert_file)],
    ['tls_certcheck', onOff(a.tls_certcheck)],
    ['tls_min_dh_prime_bits', a.tls_min_dh_prime_bits === null ? NOT_SET : String(a.tls_min_dh_prime_bits)],
    ['tls_priorities', text(a.tls_priorities)],
    ['tls_host_override', text(a.tls_host_override)],
  ];
}

function mailSettings(a: Account): Pair[] {
  return [
    ['auto_from', onOff(a.auto_from)],
    ['maildomain', text(a.maildomain)],
    ['from', a.from !== null && a.from.includes('%F') ? '(read from mail)' : text(a.from)],
    ['from_full_name', text(a.from_full_name)],
    ['allow_from_override', onOff(a.allow_from_override)],
    ['set_from_header', a.set_from_header],
    ['set_date_header', a.set_date_header],
    ['set_msgid_header', a.set_msgid_header],
    ['set_to_header', a.set_to_header],
    ['remove_bcc_headers', onOff(a.remove_bcc_headers)],
    ['dsn_notify', dsnNotifyParameter(a.dsn_notify) ?? NOT_SET],
    ['dsn_return', dsnReturnParameter(a.dsn_return) ?? NOT_SET],
    ['logfile', text(a.logfile)],
    ['logfile_time_format', text(a.logfile_time_format)],
    ['syslog', text(a.syslog)],
    ['aliases', text(a.aliases)],
    ...eightbitSettings(a),
  ];
}

/**
 * outbox's own (issue 16): `fallback_account = b (→ c)`, only when there is a
 * chain, so that the lines msmtp also prints stay exactly msmtp's.
 */
function fallbackSettings(input: PretendInput): Pair[] {
  const names = input.fallbacks ?? [];
  return names.length === 0 ? [] : [['fallback_account', describeChain(names)]];
}

function localSettings(a: Account): Pair[] {
  return [
    ['mda', text(a.mda)],
    ['local_domains', a.local_domains.length === 0 ? NOT_SET : a.local_domains.join(', ')],
    ['force_mda', onOff(a.force_mda)],
  ];
}

function routeNotes(input: PretendInput): string[] {
  const routes = (input.routes ?? []).map((r) => `route ${r.pattern} -> account ${r.account} (${r.file}:${r.line})`);
  const plan = (input.plan ?? []).map((p) => `recipient ${p.recipient} -> account ${p.account}, ${p.via}`);
  return [...routes, ...plan];
}

function text(value: string | null): string {
  return value ?? NOT_SET;
}

function onOff(value: boolean): string {
  return value ? 'on' : 'off';
}

function authText(auth: AuthSetting): string {
  if (auth === 'off') return 'none';
  if (auth === 'on') return 'choose';
  return auth.toUpperCase();
}

// outbox's own OAuth2 settings (issue 16). Shown only when a provider is set,
// so an msmtp account prints exactly what msmtp prints. The client secret is
// `*` and its command `<redacted>`, as password and passwordeval; the token
// store is never read here.
function oauth2Settings(a: Account): Pair[] {
  if (a.oauth2_provider === null) return [];
  return [
    ['oauth2_provider', a.oauth2_provider],
    ['oauth2_client_id', text(a.oauth2_client_id)],
    ['oauth2_client_secret', a.oauth2_client_secret === null ? NOT_SET : '*'],
    ['oauth2_client_secret_eval', a.oauth2_client_secret_eval === null ? NOT_SET : REDACTED],
    ['oauth2_auth_endpoint', text(a.oauth2_auth_endpoint)],
    ['oauth2_token_endpoint', text(a.oauth2_token_endpoint)],
    ['oauth2_device_endpoint', text(a.oauth2_device_endpoint)],
    ['oauth2_scope', text(a.oauth2_scope)],
  ];
}

// --- eightbit (issue 15): shown only when not the default, so --pretend stays msmtp's for an msmtp configuration.
function eightbitSettings(a: Account): Pair[] {
  return a.eightbit === 'convert' ? [] : [['eightbit', a.eightbit]];
}
