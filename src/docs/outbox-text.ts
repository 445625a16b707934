/**
 * The prose of outbox(1) that no table of the program holds: what the
 * ignored sendmail options, the exit statuses, the files and the
 * environment mean. Keyed so that tests can check each against the code
 * (every hidden option, every EX_* status, every variable src/ reads).
 */

/** sendmail's options that outbox accepts (as msmtp does), by short flag. */
export const IGNORED_OPTIONS: Readonly<Record<string, { readonly argument?: string; readonly text: string }>> = {
  '-A': { argument: 'ARG', text: 'ignored (sendmail: which configuration file to use).' },
  '-b': { argument: 'MODE', text: '-bm delivers mail (the default); -bp lists the queue, as mailq does. The other modes (-bs, -bd, -bi, -bt, -bv) are refused with exit 64.' },
  '-G': { text: 'ignored (sendmail: a relayed submission).' },
  '-h': { argument: 'HOPS', text: 'ignored (sendmail: the initial hop count).' },
  '-i': { text: 'ignored: a line with a single dot never ends the mail (as -oi).' },
  '-L': { argument: 'TAG', text: "ignored (sendmail: the syslog tag)." },
  '-m': { text: 'ignored (sendmail: send to the sender too).' },
  '-n': { text: 'ignored (sendmail: do not expand aliases).' },
  '-o': { argument: 'OPTION', text: 'ignored: -oi, -oem, -odb and the like.' },
  '-O': { argument: 'OPTION=VALUE', text: 'ignored (sendmail: a long-form option).' },
};

/** Every status outbox exits with, by number (test: each EX_* of cli/exit-status.ts is here). */
export const EXIT_STATUSES: Readonly<Record<number, string>> = {
  0: 'The mail was delivered (or queued, with queue on_failure or always); the mode succeeded.',
  64: 'EX_USAGE: a bad command line, no recipients, or a recipient that cannot be read completely.',
  65: 'EX_DATAERR: the server refused MAIL, RCPT or DATA permanently (5xx), or the mail is larger than its SIZE.',
  66: 'EX_NOINPUT: --queue-remove named a mail that is not in the queue.',
  68: "EX_NOHOST: the server's host name does not exist.",
  69: 'EX_UNAVAILABLE: the server refused the mail after its data (5xx), LMTP refused a recipient permanently, a needed capability or credential is missing, or its certificate is not trusted.',
  70: 'EX_SOFTWARE: a bug in outbox (the message includes a stack trace).',
  74: 'EX_IOERR: a file could not be read or written (a -C file, the mail, the queue).',
  75: 'EX_TEMPFAIL: anything temporary: a 4xx reply, a refused or dropped connection, a timeout, a DNS failure. Retrying later may succeed (msmtp exits 69, 74 or 76 for some of these).',
  76: 'EX_PROTOCOL: the server does not speak SMTP properly (a bad greeting, garbage, EHLO and HELO refused, a failed TLS handshake).',
  77: 'EX_NOPERM: authentication failed.',
  78: 'EX_CONFIG: configuration: a bad file (with file:line), no account, no envelope-from, LMTP without a port.',
};

export const FILES: readonly { readonly path: string; readonly text: string }[] = [
  { path: '/etc/msmtprc', text: 'the system configuration file, read first ($OUTBOX_SYSTEM_CONFIG names another).' },
  { path: '~/.msmtprc', text: 'the user configuration file (-C names another); see outboxrc(5).' },
  { path: '$XDG_CONFIG_HOME/msmtp/config', text: 'the user configuration file when ~/.msmtprc does not exist (~/.config/msmtp/config).' },
  { path: '$XDG_STATE_HOME/outbox/queue', text: 'the queue folder (~/.local/state/outbox/queue) unless queue_dir or --queue-dir names another.' },
  { path: '$XDG_CACHE_HOME/outbox/tls-sessions', text: 'TLS sessions kept for resumption across runs (~/.cache/outbox/tls-sessions).' },
  { path: '~/.netrc, /etc/netrc', text: 'passwords, when the configuration names none (as msmtp).' },
];

/** Variables outbox reads (test: every `env['…']` in src/ is here or in INTERNAL_VARIABLES). */
export const ENVIRONMENT: Readonly<Record<string, string>> = {
  HOME: 'the home directory: ~ in file names, and where the files above are.',
  XDG_CONFIG_HOME: 'where the user configuration file is looked for when ~/.msmtprc does not exist.',
  XDG_STATE_HOME: 'where the queue folder is (default ~/.local/state).',
  XDG_CACHE_HOME: 'where TLS sessions are kept (default ~/.cache).',
  SMTPSERVER: 'with no configured account to use: the server to send to (as msmtp).',
  EMAIL: 'with SMTPSERVER: the envelope-from address when -f gives none.',
  USER: 'the user name for %U (else LOGNAME, else the login name).',
  LOGNAME: 'the user name for %U when USER is not set.',
  HOSTNAME: 'the host name for %H (else the system host name).',
  'LC_ALL, LC_CTYPE, LANG': "the locale's character set, in which the command line is read.",
  PATH: 'where the commands of passwordeval, eval and the server backends are found.',
  OUTBOX_SYSTEM_CONFIG: 'the system configuration file instead of /etc/msmtprc.',
  OUTBOX_TLS_SESSION_CACHE: 'off keeps no TLS sessions.',
  OUTBOX_DNS_SERVER: 'IP[:PORT]: ask this DNS server directly instead of the system resolver.',
  OUTBOX_OAUTH2_STORE: 'file or keyring: where outbox oauth2 keeps tokens (default: the keyring when secret-tool works, else a 0600 file under $XDG_STATE_HOME/outbox/oauth2).',
  'DISPLAY, WAYLAND_DISPLAY': 'when set, outbox oauth2 login opens the authorization page in a browser (xdg-open).',
  OUTBOX_BACKGROUND_FLUSH: 'off: queue always (and outbox serve --queue) start no flush of their own; a timer sends the queue.',
};

/** Read by the code but not for users: the build's and the tests'. */
export const INTERNAL_VARIABLES: readonly string[] = ['OUTBOX_WRITE_CODE_CACHE', 'OUTBOX_CODE_CACHE_REPORT'];

export const EXAMPLES: readonly { readonly text: string; readonly lines: readonly string[] }[] = [
  {
    text: 'Send a mail through the account the envelope-from chooses:',
    lines: ["printf 'Subject: hello\\n\\nIt works.\\n' | outbox -f me@example.org you@example.net"],
  },
  {
    text: 'Without a configuration file:',
    lines: ["printf 'Subject: hi\\n\\nhi\\n' | outbox --host=smtp.example.org --port=587 --tls --auth --user=me \\", "    --passwordeval='pass show smtp' -f me@example.org -- you@example.net"],
  },
  {
    text: 'Show which file, account and settings a send would use, without sending:',
    lines: ['outbox -P -f me@example.org'],
  },
  {
    text: 'Work offline: queue every mail (queue always in ~/.msmtprc), list the queue, send it now:',
    lines: ['mailq', 'outbox -q'],
  },
  {
    text: 'Ask the server what it offers, as JSON:',
    lines: ['outbox --serverinfo --json -a work'],
  },
];
