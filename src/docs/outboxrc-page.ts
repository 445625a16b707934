/**
 * outboxrc(5): the configuration language, msmtp's plus outbox's own
 * commands. The commands listed are those of config/commands.ts's COMMANDS
 * table; what each means is config/command-docs.ts's. A command with no
 * entry there is shown with an empty description, which
 * test/unit/docs-pages.test.ts refuses.
 */
import { COMMANDS } from '../config/commands.js';
import { COMMAND_DOCS, type CommandDoc } from '../config/command-docs.js';
import { VERSION } from '../cli/version.js';
import type { Block, Page } from './roff.js';

const para = (text: string): Block => ({ kind: 'para', text });

function commandItem(command: string, doc: CommandDoc | undefined): Block {
  const argument = doc?.argument ?? '';
  return { kind: 'item', term: argument === '' ? { bold: command } : { bold: command, italic: argument }, text: doc?.text ?? '' };
}

/** The commands of COMMANDS in one of the page's three lists, in the table's order. */
function commandsWhere(keep: (doc: CommandDoc | undefined) => boolean): Block[] {
  return Object.keys(COMMANDS).filter((command) => keep(COMMAND_DOCS[command])).map((command) => commandItem(command, COMMAND_DOCS[command]));
}

export function outboxrcPage(): Page {
  return {
    name: 'outboxrc',
    section: 5,
    version: VERSION,
    summary: "outbox's configuration file: msmtp's msmtprc language and the commands outbox adds",
    sections: [
      {
        title: 'Description',
        blocks: [
          para('outbox reads msmtp\'s configuration files and gives them the meaning msmtp gives them: first the system file /etc/msmtprc, then the user file, ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config, or the file -C names. A user file that holds a password must be readable by its owner only.'),
          para('One command per line, followed by its argument (the rest of the line; surrounding double quotes are removed). Lines starting with # are comments. defaults starts settings that the accounts after it in the same file inherit; account NAME starts an account, account NAME : OTHER... one that starts from other accounts\' settings; eval COMMAND reads the lines a command prints. A command that takes on|off reads an empty argument as on.'),
          para('Each command below is also a command-line option of outbox(1) where it has one: --tls-trust-file=FILE is tls_trust_file FILE.'),
        ],
      },
      { title: "Commands outbox adds", blocks: [para('msmtp does not know these; a file that uses them is an outbox file.'), ...commandsWhere((doc) => doc?.origin === 'outbox')] },
      {
        title: "msmtp's commands",
        blocks: [para('Their meaning is msmtp\'s; msmtp(1) documents each in full.'), ...commandsWhere((doc) => doc === undefined || (doc.origin === undefined && doc.spelling === undefined))],
      },
      { title: 'Older spellings', blocks: commandsWhere((doc) => doc?.spelling !== undefined) },
      {
        title: 'Example',
        blocks: [{
          kind: 'literal',
          lines: [
            'defaults',
            'tls on',
            'logfile ~/.local/state/outbox/log',
            'queue on_failure',
            '',
            'account work',
            'host smtp.work.example',
            'port 587',
            'from bob@work.example',
            'auth on',
            'user bob',
            'passwordeval pass show smtp/work',
            '',
            'account default : work',
          ],
        }],
      },
      { title: 'See also', blocks: [para('outbox(1), outbox-serve(1), msmtp(1).')] },
    ],
  };
}
