/**
 * outbox(1): the sendmail interface. Options come from the program
 * --help prints (cli/options.ts), grouped as --help groups them; the rest
 * is outbox-text.ts's prose.
 */
import { buildProgram } from '../cli/options.js';
import { VERSION } from '../cli/version.js';
import { ENVIRONMENT, EXAMPLES, EXIT_STATUSES, FILES, IGNORED_OPTIONS } from './outbox-text.js';
import { groupedOptionBlocks } from './options-section.js';
import type { Block, Page } from './roff.js';

const para = (text: string): Block => ({ kind: 'para', text });
const item = (bold: string, text: string, italic?: string): Block => ({ kind: 'item', term: italic === undefined ? { bold } : { bold, italic }, text });

export function outboxPage(): Page {
  const program = buildProgram();
  const hidden = program.options.filter((option) => option.hidden);
  hidden.sort((a, b) => (a.short ?? a.flags).localeCompare(b.short ?? b.flags, 'en'));
  const ignored = hidden.map((option) => {
    const doc = IGNORED_OPTIONS[option.short ?? option.flags];
    // A hidden option without prose would be undocumented: test/unit/docs-pages.test.ts names it.
    return item(option.short ?? option.flags, doc?.text ?? '', doc?.argument);
  });
  return {
    name: 'outbox',
    section: 1,
    version: VERSION,
    summary: 'send mail over SMTP or LMTP through a sendmail interface, msmtp compatible, with a durable queue',
    sections: [
      {
        title: 'Synopsis',
        blocks: [{
          kind: 'literal',
          lines: [
            'outbox [option...] [--] recipient...',
            'outbox [option...] -t [--] [recipient...]',
            'outbox [option...] --serverinfo | --rmqs=host|@domain|#queue | --configure=address',
            'outbox [option...] -q | --queue-run | --queue-list | --queue-remove id...',
            'mailq [option...]',
            'outbox serve [option...]   (or outboxd [option...])',
            'outbox oauth2 login [-C file] [--device] [account]',
            'outbox oauth2 status [-C file] [--json]',
            'outbox oauth2 logout [-C file] [account]',
          ],
        }],
      },
      {
        title: 'Description',
        blocks: [
          para('outbox reads a mail on standard input and hands it to a mail server over SMTP or LMTP, with pipelining, TLS that never falls back to plain text, and exit statuses a caller can act on. It takes msmtp\'s command line and reads msmtp\'s configuration files unchanged (outboxrc(5)), so it can stand in for msmtp, or for sendmail(8) as /usr/sbin/sendmail.'),
          para('Recipients are the arguments after the options; each may be an address list, as in a header. With -t the To, Cc and Bcc of the mail are recipients too. The account is chosen as msmtp chooses it: -a, else the first account whose from matches the envelope-from (-f), else the account named default, else SMTPSERVER and EMAIL from the environment; --host reads no file at all.'),
          para('With queue always or queue on_failure in the configuration, mails are kept in a durable queue and sent when the server can be reached, several over one connection; what cannot be delivered comes back to its sender as a delivery report. outbox serve is a small SMTP server that relays, queues, pipes or stores what it is sent (outbox-serve(1)).'),
          para('outbox oauth2 login gets an OAuth2 token for an account whose oauth2_provider is set (outboxrc(5)): the authorization code flow with PKCE and a one-shot listener on 127.0.0.1, or with --device the device authorization grant; the token is kept in the Secret Service keyring or a 0600 file and refreshed when it nears its expiry. outbox oauth2 status shows each such account\'s token state, never the token; outbox oauth2 logout forgets it.'),
        ],
      },
      {
        title: 'Options',
        blocks: [
          para('An option\'s argument follows as --name=value or --name value; an optional argument (in brackets) only as --name=value. The configuration options set the configuration command of the same name (- for _) on top of the chosen account.'),
          ...groupedOptionBlocks(program),
        ],
      },
      { title: 'Sendmail options accepted and ignored', blocks: [para('As msmtp, outbox accepts these options of sendmail(8), so that programs which pass them keep working.'), ...ignored] },
      {
        title: 'Names',
        blocks: [
          para('outbox looks at the name it is called by (a symbolic link to it):'),
          item('sendmail', 'the sendmail interface, as outbox itself; see the installation documentation for making outbox the system\'s /usr/sbin/sendmail.'),
          item('mailq', 'lists the queue, as outbox -bp.'),
          item('outboxd', 'is outbox serve, as msmtpd beside msmtp.'),
        ],
      },
      { title: 'Exit status', blocks: Object.entries(EXIT_STATUSES).map(([status, text]) => item(status, text)) },
      { title: 'Files', blocks: FILES.map(({ path, text }) => item(path, text)) },
      { title: 'Environment', blocks: Object.entries(ENVIRONMENT).map(([name, text]) => item(name, text)) },
      { title: 'Examples', blocks: EXAMPLES.flatMap(({ text, lines }): Block[] => [para(text), { kind: 'literal', lines }]) },
      { title: 'See also', blocks: [para('outbox-serve(1), outboxrc(5), msmtp(1), sendmail(8).')] },
    ],
  };
}
