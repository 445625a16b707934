/**
 * The command-line options that set an account's settings: each one is a
 * configuration command under another name (`--tls-trust-file=F` is
 * `tls_trust_file F`), so its value is parsed and checked by the same code as
 * the configuration file (see account-choice.ts). The table is the one place
 * that pairs them; it imports nothing, so parsing the command line stays cheap.
 */

export interface AccountOption {
  /** commander flags; `[value]` marks msmtp's optional arguments (`--tls` alone means `--tls=on`). */
  readonly flags: string;
  /** The configuration command it stands for. */
  readonly command: string;
  readonly description: string;
}

export const ACCOUNT_OPTIONS: readonly AccountOption[] = [
  { flags: '--port <number>', command: 'port', description: 'set the port number (default 25; 465 for TLS without STARTTLS; LMTP needs one)' },
  { flags: '--source-ip [IP]', command: 'source_ip', description: 'set/unset the source address to bind to' },
  { flags: '--proxy-host [host]', command: 'proxy_host', description: 'set/unset a SOCKS proxy' },
  { flags: '--proxy-port [number]', command: 'proxy_port', description: 'set/unset the proxy port' },
  { flags: '--socket [path]', command: 'socket', description: 'set/unset a local socket to connect to' },
  { flags: '--timeout <off|seconds>', command: 'timeout', description: 'network timeout; off means RFC 5321 defaults' },
  { flags: '--protocol <smtp|lmtp>', command: 'protocol', description: 'the protocol to speak' },
  { flags: '--domain <name>', command: 'domain', description: 'the argument of EHLO or LHLO (default localhost)' },
  { flags: '--auth [on|off|method]', command: 'auth', description: 'enable/disable authentication, or choose the method' },
  { flags: '--user [name]', command: 'user', description: 'set/unset the user name for authentication' },
  { flags: '--passwordeval [command]', command: 'passwordeval', description: 'a command that prints the password' },
  { flags: '--tls [on|off]', command: 'tls', description: 'enable/disable TLS' },
  { flags: '--tls-starttls [on|off]', command: 'tls_starttls', description: 'STARTTLS (on) or TLS from the start (off)' },
  { flags: '--tls-trust-file [file]', command: 'tls_trust_file', description: 'set/unset the CA file (system: the system store)' },
  { flags: '--tls-crl-file [file]', command: 'tls_crl_file', description: 'set/unset the revocation file' },
  { flags: '--tls-fingerprint [fingerprint]', command: 'tls_fingerprint', description: "set/unset the server certificate's fingerprint" },
  { flags: '--tls-certcheck [on|off]', command: 'tls_certcheck', description: 'enable/disable server certificate checks' },
  { flags: '--tls-key-file [file]', command: 'tls_key_file', description: 'set/unset the client key file' },
  { flags: '--tls-cert-file [file]', command: 'tls_cert_file', description: 'set/unset the client certificate file' },
  { flags: '--tls-priorities [priorities]', command: 'tls_priorities', description: 'set/unset TLS priorities' },
  { flags: '--tls-host-override [host]', command: 'tls_host_override', description: 'set/unset the name to verify the certificate against' },
  { flags: '--tls-min-dh-prime-bits [bits]', command: 'tls_min_dh_prime_bits', description: 'set/unset the minimum DH prime size' },
  { flags: '--auto-from [on|off]', command: 'auto_from', description: 'obsolete: envelope-from user@maildomain' },
  { flags: '--maildomain [domain]', command: 'maildomain', description: 'obsolete: the domain for --auto-from' },
  { flags: '-N, --dsn-notify <off|conditions>', command: 'dsn_notify', description: 'set/unset DSN conditions' },
  { flags: '-R, --dsn-return <off|headers|full>', command: 'dsn_return', description: 'set/unset how much of the mail DSNs return' },
  { flags: '-X, --logfile [file]', command: 'logfile', description: 'set/unset the log file' },
  { flags: '--logfile-time-format [format]', command: 'logfile_time_format', description: 'set/unset the log time format (strftime)' },
  { flags: '--queue <off|on_failure|always>', command: 'queue', description: 'use the outbox queue: never (default), for mails that fail temporarily, or for every mail' },
  { flags: '--queue-dir <path>', command: 'queue_dir', description: 'the queue folder (default $XDG_STATE_HOME/outbox/queue)' },
  { flags: '--logfile-format <msmtp|json>', command: 'logfile_format', description: "the log file's format: msmtp's line (default) or one JSON object per mail" },
  { flags: '--syslog [on|off|facility]', command: 'syslog', description: 'enable/disable/configure syslog logging' },
  { flags: '--aliases [file]', command: 'aliases', description: 'set/unset the aliases file' },
  { flags: '--set-from-header [auto|on|off]', command: 'set_from_header', description: 'From header handling' },
  { flags: '--set-date-header [auto|off]', command: 'set_date_header', description: 'Date header handling' },
  { flags: '--set-msgid-header [auto|off]', command: 'set_msgid_header', description: 'Message-ID header handling' },
  { flags: '--set-to-header [auto|on|off]', command: 'set_to_header', description: 'replace To/Cc/Bcc with To: undisclosed-recipients:;' },
  { flags: '--remove-bcc-headers [on|off]', command: 'remove_bcc_headers', description: 'enable/disable removing Bcc headers' },
  { flags: '--undisclosed-recipients [on|off]', command: 'undisclosed_recipients', description: 'older spelling of --set-to-header=on|off' },
  { flags: '-F, --from-full-name <name>', command: 'from_full_name', description: "the sender's full name, for a From header outbox writes" },
  // eightbit (issue 15)
  { flags: '--eightbit <convert|send|refuse>', command: 'eightbit', description: '8-bit mail for a server without 8BITMIME: make it 7-bit (default), send it as it is, or refuse it' },
];

/** An option as given: the configuration command, and its argument (`''` when given without one). */
export interface GivenSetting {
  readonly command: string;
  readonly argument: string;
  readonly option: string;
}
