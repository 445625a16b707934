/**
 * `--configure ADDRESS`: a ready-to-use account for the address, from the
 * SRV records of its domain (RFC 6186/8314), in msmtp's format.
 */
import { OutboxError } from '../errors.js';
import { findSubmissionServer, srvResolver, type SubmissionServer } from '../net/srv.js';
import { parseRecipientArgument } from '../message/address-list.js';
import { EX_OK } from './exit-status.js';
import type { CliOptions } from './options.js';
import type { Stdio } from './stdio.js';

export async function runConfigure(options: CliOptions, io: Stdio): Promise<number> {
  const address = oneAddress(options.configure!);
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const server = await findSubmissionServer(domain, srvResolver(io.env['OUTBOX_DNS_SERVER']));
  io.writeOut(accountText(address, server));
  return EX_OK;
}

function oneAddress(text: string): string {
  const addresses = parseRecipientArgument(text);
  const address = addresses[0];
  if (addresses.length !== 1 || !address || !address.includes('@')) {
    throw new OutboxError('E_USAGE', `--configure needs one mail address, not ${JSON.stringify(text)}`);
  }
  return address;
}

function accountText(address: string, server: SubmissionServer): string {
  return [
    `# An account for ${address}, from the DNS record ${server.record}.`,
    '# Copy it to ~/.msmtprc (or $XDG_CONFIG_HOME/msmtp/config) and check the values.',
    '# Give the password with a command that prints it, for example:',
    '#   passwordeval "secret-tool lookup host ' + server.host + ' service smtp user ' + address + '"',
    `account ${address}`,
    `host ${server.host}`,
    `port ${server.port}`,
    'tls on',
    `tls_starttls ${server.implicitTls ? 'off' : 'on'}`,
    'auth on',
    `user ${address}`,
    `from ${address}`,
    '',
  ].join('\n');
}
