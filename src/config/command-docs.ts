/**
 * What each configuration command means, for outboxrc(5) (src/docs/): kept
 * apart from commands.ts's parsers so that adding a command and describing
 * it are two lines in two files, and test/unit/docs-pages.test.ts fails
 * naming any command of the COMMANDS table that has no entry here. The page
 * shows only the commands COMMANDS has, so an entry written before its
 * command's code (issues 15 and 16) waits here until that code lands.
 *
 * `origin: 'outbox'` marks the commands msmtp does not know; msmtp's own
 * get one line each (msmtp(1) is their full documentation), outbox's the
 * whole story. `spelling` marks an older name msmtp still accepts.
 */

export interface CommandDoc {
  /** The argument as the page shows it: `on|off`, `FILE`, `[NAME]`. */
  readonly argument: string;
  readonly text: string;
  readonly origin?: 'outbox';
  /** An older spelling: the command it stands for. */
  readonly spelling?: string;
}

const msmtp = (argument: string, text: string): CommandDoc => ({ argument, text });
const outbox = (argument: string, text: string): CommandDoc => ({ argument, text, origin: 'outbox' });
const older = (argument: string, spelling: string): CommandDoc => ({ argument, spelling, text: `older spelling of ${spelling}` });

export const COMMAND_DOCS: Readonly<Record<string, CommandDoc>> = {
  host: msmtp('NAME', 'the SMTP or LMTP server to send mail to'),
  port: msmtp('NUMBER', 'its port (default 25, or 465 for TLS without STARTTLS; LMTP needs one)'),
  source_ip: msmtp('[IP]', 'the local address to connect from'),
  proxy_host: msmtp('[NAME]', 'a SOCKS5 proxy; names are resolved by the proxy'),
  proxy_port: msmtp('[NUMBER]', "the proxy's port (default 1080)"),
  socket: msmtp('FILE', 'a local (unix) socket to connect to instead of host and port'),
  timeout: msmtp('off|SECONDS', "the network timeout; off uses RFC 5321's per-command timeouts"),
  protocol: msmtp('smtp|lmtp', 'the protocol to speak'),
  domain: msmtp('NAME', 'the argument of EHLO or LHLO (default localhost)'),
  auth: msmtp('[on|off|METHOD]', 'authentication: on chooses the best method the server offers, or name one (plain, scram-sha-256, xoauth2, …)'),
  user: msmtp('[NAME]', 'the user name for authentication'),
  password: msmtp('[SECRET]', 'the password (the file must then be private); better passwordeval or the keyring'),
  passwordeval: msmtp('[COMMAND]', "a shell command whose first output line is the password (or OAuth2 token)"),
  ntlmdomain: msmtp('[DOMAIN]', 'accepted for msmtp files; NTLM is not supported'),
  tls: msmtp('[on|off]', 'TLS, never falling back to plain text'),
  tls_starttls: msmtp('[on|off]', 'on: STARTTLS after the greeting; off: TLS from the first byte (port 465)'),
  tls_trust_file: msmtp('FILE|system', 'the certificate authorities to trust (default system)'),
  tls_crl_file: msmtp('[FILE]', 'certificate revocation lists'),
  tls_fingerprint: msmtp('[FINGERPRINT]', "trust exactly the server certificate with this SHA-256 (or SHA-1, MD5) fingerprint"),
  tls_key_file: msmtp('[FILE]', 'the private key of a client certificate'),
  tls_cert_file: msmtp('[FILE]', 'a client certificate'),
  tls_certcheck: msmtp('[on|off]', "checking the server's certificate (off is unsafe)"),
  tls_priorities: msmtp('[PRIORITIES]', 'GnuTLS-style priorities, mapped to OpenSSL settings'),
  tls_host_override: msmtp('[NAME]', 'the name to verify the certificate against, instead of host'),
  tls_min_dh_prime_bits: msmtp('[BITS]', 'the smallest Diffie-Hellman prime accepted'),
  from: msmtp('ADDRESS', 'the envelope-from address; also a pattern that chooses this account for -f (user@*.example, subaddresses)'),
  from_full_name: msmtp('[NAME]', 'the display name of a From header outbox writes'),
  allow_from_override: msmtp('[on|off]', 'whether -f may change the envelope-from (default on)'),
  dsn_notify: msmtp('off|CONDITIONS', 'ask for delivery status notifications: never, or success,failure,delay'),
  dsn_return: msmtp('off|headers|full', 'how much of the mail a notification returns'),
  set_from_header: msmtp('[auto|on|off]', 'write a From header: when missing (auto), always, or never'),
  set_date_header: msmtp('[auto|off]', 'write a Date header when missing'),
  set_msgid_header: msmtp('[auto|off]', 'write a Message-ID header when missing'),
  set_to_header: msmtp('[auto|on|off]', 'replace To, Cc and Bcc with To: undisclosed-recipients:;'),
  undisclosed_recipients: older('[on|off]', 'set_to_header on|off'),
  remove_bcc_headers: msmtp('[on|off]', 'remove Bcc headers before sending (default on)'),
  logfile: msmtp('[FILE|-]', 'append one line per mail to FILE (- is standard output)'),
  logfile_time_format: msmtp('[FORMAT]', "the log line's time, as strftime(3) writes it"),
  logfile_format: outbox('msmtp|json',
    "The log file's format: msmtp's line, byte for byte as msmtp writes it (the default), or one JSON object per mail with the same facts (time, host, account, addresses, size, the server's reply, the exit status)."),
  syslog: msmtp('[on|off|FACILITY]', 'log to syslog (LOG_USER, LOG_MAIL, LOG_LOCAL0 … LOG_LOCAL7)'),
  aliases: msmtp('[FILE]', 'an aliases(5)-style file to expand recipients with (local names, no @)'),
  auto_from: msmtp('[on|off]', 'obsolete: envelope-from user@maildomain'),
  maildomain: msmtp('[DOMAIN]', 'obsolete: the domain for auto_from'),
  queue: outbox('off|on_failure|always',
    "The outbox queue. off (the default): every mail is sent at once and a failure is the exit status. on_failure: sent at once, and a mail that fails temporarily (exit 75: a server that is down, a 4xx reply, a timeout) is queued and outbox exits 0. always: every mail is stored durably, outbox exits 0 at once and a detached outbox --queue-run sends it. Queued mails are retried with a growing back-off until queue_lifetime; outbox -q sends them now, mailq lists them."),
  queue_dir: outbox('PATH',
    'The queue folder (made 0700 when missing). Default $XDG_STATE_HOME/outbox/queue, that is ~/.local/state/outbox/queue. Accounts that share a folder share a queue; outbox --version names the default in use.'),
  queue_lifetime: outbox('DURATION',
    'How long a queued mail is retried before it fails: a number of seconds, or with an s, m, h or d suffix (default 5d). Recipients still pending then fail with the last reply the server gave.'),
  queue_bounce: outbox('[on|off]',
    "Whether a mail the queue gives up on comes back to its sender as an RFC 3464 delivery report (on, the default; sent with the null sender, never bounced again). off keeps it in the queue's failed/ folder."),

  // Issue 15: local delivery and 8-bit mail. Shown once COMMANDS has them.
  mda: outbox('COMMAND|maildir:PATH|mbox:PATH',
    'Deliver mail for local recipients (without @, or at a local_domains domain) here instead of over SMTP. COMMAND is run without a shell, %T replaced by the local recipients (each its own argument) and %F by the envelope sender; its exit 75 (or another temporary sysexits status) is a temporary failure, any other non-zero exit a permanent one. maildir:PATH and mbox:PATH deliver without a program (mbox with a lock and >From escaping). aliases apply first.'),
  local_domains: outbox('DOMAIN...',
    'Domains whose recipients are local: delivered through mda, not over SMTP.'),
  force_mda: outbox('[on|off]', 'Deliver every recipient through mda, none over SMTP.'),
  eightbit: outbox('convert|send|refuse',
    "What to do with an 8-bit mail when the server does not offer 8BITMIME: convert each 8-bit MIME part to quoted-printable or base64 and 8-bit header fields to RFC 2047 encoded words (the default), send it undeclared as msmtp does, or refuse it. A signed part is never changed: such a mail is refused (exit 69) unless the part is 7-bit already. sendmail's -B 7BIT|8BITMIME declares the body."),

  // Issue 16: built-in OAuth2, fail-over and routing. Shown once COMMANDS has them.
  oauth2_provider: outbox('google|microsoft|custom',
    'Get and refresh OAuth2 tokens for this account without a helper script (outbox oauth2 login ACCOUNT); auth on then chooses OAUTHBEARER or XOAUTH2 as the server offers them.'),
  oauth2_client_id: outbox('ID', 'The OAuth2 client id registered with the provider.'),
  oauth2_client_secret: outbox('[SECRET]', 'The OAuth2 client secret, where the provider requires one.'),
  oauth2_client_secret_eval: outbox('[COMMAND]', 'A shell command that prints the OAuth2 client secret.'),
  oauth2_auth_endpoint: outbox('URL', 'custom providers: the authorisation endpoint (https, or http://127.0.0.1 and http://[::1] for tests).'),
  oauth2_token_endpoint: outbox('URL', 'custom providers: the token endpoint.'),
  oauth2_device_endpoint: outbox('URL', 'custom providers: the device authorisation endpoint (RFC 8628).'),
  oauth2_scope: outbox('SCOPE', 'custom providers: the scope to ask for.'),
  fallback_account: outbox('NAME',
    'When this account cannot be reached, or answers with a temporary failure before the mail is accepted (connection, DNS, a TLS handshake refused for a network reason, 421, a 4xx reply to EHLO or AUTH), send through account NAME instead, and so on down its chain (loops are refused when the file is read). Never after a permanent refusal, nor once a recipient or the data was accepted. The log names the account that delivered.'),
  route: outbox('PATTERN ACCOUNT',
    "In defaults: recipients matching PATTERN (fnmatch, as from's patterns; the first matching line wins) go through ACCOUNT when -a does not choose one. A mail whose recipients route to several accounts is sent once through each, each part reported (and, with the queue, retried) on its own."),

  // Older spellings msmtp still accepts.
  connect_timeout: older('SECONDS', 'timeout'),
  keepbcc: older('[on|off]', 'remove_bcc_headers off|on'),
  tls_nocertcheck: older('', 'tls_certcheck off'),
  tls_nostarttls: older('', 'tls_starttls off'),
  add_missing_from_header: older('[on|off]', 'set_from_header auto|off'),
  add_missing_date_header: older('[on|off]', 'set_date_header auto|off'),
  tls_force_sslv3: msmtp('[ANY]', 'obsolete since msmtp 1.6.0: accepted and ignored'),
};
