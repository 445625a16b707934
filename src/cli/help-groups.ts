/**
 * --help in msmtp's groups (general, configuration, sendmail, …) rather than
 * one long list. Each option is placed by name here, apart from its
 * definition, so the tables in options.ts and account-options.ts stay as
 * they are; the man page and the completions read the same groups from the
 * program. An option missing here shows under commander's "Options:", and
 * test/unit/help-groups.test.ts fails naming it.
 */
import { Option, type Command } from 'commander';

export const HELP_GROUPS = {
  general: 'General options:',
  server: 'Server information modes:',
  configuration: 'Configuration options:',
  sendmail: 'Options specific to sendmail mode:',
  queue: 'Queue options:',
} as const;

export type HelpGroup = keyof typeof HELP_GROUPS;

/** By the option's name: its long flag, or its short one when it has none. */
const GROUP_OF: Readonly<Record<string, HelpGroup>> = {
  '--version': 'general',
  '--help': 'general',
  '--pretend': 'general',
  '--debug': 'general',
  '-v': 'general',

  '--serverinfo': 'server',
  '--json': 'server',
  '--rmqs': 'server',
  '--configure': 'server',

  '--file': 'configuration',
  '--account': 'configuration',
  '--host': 'configuration',
  '--port': 'configuration',
  '--source-ip': 'configuration',
  '--proxy-host': 'configuration',
  '--proxy-port': 'configuration',
  '--socket': 'configuration',
  '--timeout': 'configuration',
  '--protocol': 'configuration',
  '--domain': 'configuration',
  '--auth': 'configuration',
  '--user': 'configuration',
  '--passwordeval': 'configuration',
  '--tls': 'configuration',
  '--tls-starttls': 'configuration',
  '--tls-trust-file': 'configuration',
  '--tls-crl-file': 'configuration',
  '--tls-fingerprint': 'configuration',
  '--tls-certcheck': 'configuration',
  '--tls-key-file': 'configuration',
  '--tls-cert-file': 'configuration',
  '--tls-priorities': 'configuration',
  '--tls-host-override': 'configuration',
  '--tls-min-dh-prime-bits': 'configuration',
  '--chunking': 'configuration',

  '--auto-from': 'sendmail',
  '--from': 'sendmail',
  '--maildomain': 'sendmail',
  '--dsn-notify': 'sendmail',
  '--dsn-return': 'sendmail',
  '-V': 'sendmail',
  '--logfile': 'sendmail',
  '--logfile-time-format': 'sendmail',
  '--logfile-format': 'sendmail',
  '--syslog': 'sendmail',
  '--read-recipients': 'sendmail',
  '--read-envelope-from': 'sendmail',
  '-B': 'sendmail',
  '--eightbit': 'configuration',
  '--aliases': 'sendmail',
  '--set-from-header': 'sendmail',
  '--set-date-header': 'sendmail',
  '--set-msgid-header': 'sendmail',
  '--set-to-header': 'sendmail',
  '--remove-bcc-headers': 'sendmail',
  '--undisclosed-recipients': 'sendmail',
  '--from-full-name': 'sendmail',

  '--queue': 'queue',
  '--queue-dir': 'queue',
  '--queue-flush': 'queue',
  '--queue-run': 'queue',
  '--queue-list': 'queue',
  '--queue-remove': 'queue',
};

/** The name GROUP_OF knows an option by. */
export function optionName(option: Option): string {
  return option.long ?? option.short ?? option.flags;
}

/** The option's group, or undefined when GROUP_OF does not place it (a test fails then). */
export function helpGroupOf(option: Option): HelpGroup | undefined {
  return Object.hasOwn(GROUP_OF, optionName(option)) ? GROUP_OF[optionName(option)] : undefined;
}

/**
 * Sets each visible option's heading. commander prints the groups in the
 * order of their first option and keeps the definition order inside each;
 * a test holds that the order is HELP_GROUPS's.
 */
export function groupForHelp(program: Command): void {
  for (const option of program.options) {
    const group = helpGroupOf(option);
    if (!option.hidden && group !== undefined) option.helpGroup(HELP_GROUPS[group]);
  }
}

/** --help, in the group given (commander lists it last there), or in commander's "Options:". */
export function helpOption(heading?: string): Option {
  const option = new Option('--help', 'print this help and exit');
  return heading === undefined ? option : option.helpGroup(heading);
}
