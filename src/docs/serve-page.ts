/**
 * outbox-serve(1): the server mode. Options come from the program
 * `outbox serve --help` prints (cli/serve-options.ts).
 */
import { buildServeProgram } from '../cli/serve-options.js';
import { VERSION } from '../cli/version.js';
import { optionItem, visibleOptions } from './options-section.js';
import type { Block, Page } from './roff.js';

const para = (text: string): Block => ({ kind: 'para', text });
const item = (bold: string, text: string): Block => ({ kind: 'item', term: { bold }, text });

export function servePage(): Page {
  return {
    name: 'outbox-serve',
    section: 1,
    version: VERSION,
    summary: 'a small SMTP or LMTP server that relays, queues, pipes or stores mail (msmtpd compatible)',
    sections: [
      { title: 'Synopsis', blocks: [{ kind: 'literal', lines: ['outbox serve [option...]', 'outboxd [option...]'] }] },
      {
        title: 'Description',
        blocks: [
          para('outbox serve accepts mail over SMTP (or LMTP with --lmtp) and hands each message to one backend. It takes msmtpd\'s options unchanged, so an msmtpd command line keeps working; a link to outbox named outboxd is outbox serve.'),
          para('Backends: by default each mail is relayed through the account outbox -f SENDER would choose, with that account\'s queue setting. --queue puts it into outbox\'s durable queue (250 once it is on disk), --command pipes it to a program as msmtpd does, --maildir stores it in a Maildir, --account relays through one account whatever the sender. --filter runs a program on each stored mail first: exit 0 accepts, 75 refuses temporarily (451), anything else permanently (550 with its first output line).'),
          para('A non-loopback --interface without --auth is refused. SIGTERM or SIGINT stops listening, lets the sessions finish for at most 10 seconds, and exits 0. With --inetd one session runs on standard input and output, for inetd or a systemd socket with Accept=yes (the units shipped in contrib/systemd of the package).'),
        ],
      },
      { title: 'Options', blocks: visibleOptions(buildServeProgram()).map(optionItem) },
      {
        title: 'Exit status',
        blocks: [
          item('0', 'stopped by SIGTERM or SIGINT, or the --inetd session ended.'),
          item('64', 'a bad command line, or a non-loopback --interface without --auth.'),
          item('78', 'a TLS certificate or key file that cannot be read.'),
        ],
      },
      {
        title: 'Examples',
        blocks: [
          para('A local MTA for daemons: mail to 127.0.0.1:25 goes out through the account chosen by sender:'),
          { kind: 'literal', lines: ['outbox serve --port=25 --log=syslog'] },
          para('A capture sink for development; nothing leaves the machine:'),
          { kind: 'literal', lines: ['outbox serve --port=2525 --maildir="$HOME/Maildir-captured"'] },
          para('An endpoint for mail clients elsewhere, with STARTTLS and authentication:'),
          { kind: 'literal', lines: ['outbox serve --interface=0.0.0.0 --port=587 --tls-cert-file=cert.pem \\', "    --tls-key-file=key.pem --auth=me,'secret-tool lookup host outbox'"] },
        ],
      },
      { title: 'See also', blocks: [para('outbox(1), outboxrc(5), msmtpd(1).')] },
    ],
  };
}
