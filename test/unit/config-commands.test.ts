import { describe, expect, it } from 'vitest';
import { COMMANDS, parseCommand } from '../../src/config/commands.js';
import { cLong } from '../../src/config/arguments.js';
import { parseConfigFile } from '../../src/config/parser.js';
import { OutboxError } from '../../src/errors.js';
import type { AccountSettings } from '../../src/config/account.js';

const HOME = '/home/u';
const parse = (command: string, argument: string) => parseCommand(command, argument, HOME);

const SHA256 = Array.from({ length: 32 }, () => 'ab').join(':');
const SHA1 = Array.from({ length: 20 }, () => 'Ab').join(':');
const MD5 = Array.from({ length: 16 }, () => '0f').join(':');

/** [command, argument, settings] — each checked against msmtp 1.8.23 where it has the command. */
const GOOD: readonly [string, string, AccountSettings][] = [
  ['host', 'smtp.example', { host: 'smtp.example' }],
  ['port', '587', { port: 587 }],
  ['port', '1', { port: 1 }],
  ['port', '65535', { port: 65535 }],
  ['port', '0x19', { port: 25 }],
  ['port', '031', { port: 25 }],
  ['port', '+25', { port: 25 }],
  ['port', ' 25', { port: 25 }],
  ['source_ip', '192.0.2.1', { source_ip: '192.0.2.1' }],
  ['source_ip', '', { source_ip: null }],
  ['proxy_host', '127.0.0.1', { proxy_host: '127.0.0.1' }],
  ['proxy_host', '', { proxy_host: null }],
  ['proxy_port', '9050', { proxy_port: 9050 }],
  ['proxy_port', '', { proxy_port: null }],
  ['socket', '/run/smtp.sock', { socket: '/run/smtp.sock' }],
  ['socket', '~/smtp.sock', { socket: '/home/u/smtp.sock' }],
  ['socket', '', { socket: null }],
  ['timeout', 'off', { timeout: 'off' }],
  ['timeout', '30', { timeout: 30 }],
  ['timeout', '2147483647', { timeout: 2147483647 }],
  ['connect_timeout', '5', { timeout: 5 }],
  ['connect_timeout', 'off', { timeout: 'off' }],
  ['protocol', 'smtp', { protocol: 'smtp' }],
  ['protocol', 'lmtp', { protocol: 'lmtp' }],
  ['domain', 'client.example', { domain: 'client.example' }],
  ['domain', '', { domain: '' }],
  ['domain', '%H', { domain: '%H' }],
  ['domain', 'clïent.example', { domain: 'clïent.example' }],
  ['domain', '[192.0.2.1]', { domain: '[192.0.2.1]' }],
  ['auth', '', { auth: 'on' }],
  ['auth', 'on', { auth: 'on' }],
  ['auth', 'off', { auth: 'off' }],
  ['auth', 'plain', { auth: 'plain' }],
  ['auth', 'scram-sha-256', { auth: 'scram-sha-256' }],
  ['auth', 'scram-sha-256-plus', { auth: 'scram-sha-256-plus' }],
  ['auth', 'xoauth2', { auth: 'xoauth2' }],
  ['auth', 'oauthbearer', { auth: 'oauthbearer' }],
  ['user', 'bob', { user: 'bob' }],
  ['user', '', { user: null }],
  ['password', 's3cret # with hash', { password: 's3cret # with hash' }],
  ['password', '', { password: null }],
  ['passwordeval', 'pass show smtp', { passwordeval: 'pass show smtp' }],
  ['passwordeval', '', { passwordeval: null }],
  ['ntlmdomain', 'D', { ntlmdomain: 'D' }],
  ['tls', '', { tls: true }],
  ['tls', 'on', { tls: true }],
  ['tls', 'off', { tls: false }],
  ['tls_starttls', 'off', { tls_starttls: false }],
  ['tls_starttls', '', { tls_starttls: true }],
  ['tls_nostarttls', '', { tls_starttls: false }],
  ['tls_trust_file', 'system', { tls_trust_file: 'system' }],
  ['tls_trust_file', '~/ca.pem', { tls_trust_file: '/home/u/ca.pem' }],
  ['tls_trust_file', '', { tls_trust_file: null }],
  ['tls_crl_file', '~/crl.pem', { tls_crl_file: '/home/u/crl.pem' }],
  ['tls_crl_file', '', { tls_crl_file: null }],
  ['tls_fingerprint', SHA256, { tls_fingerprint: SHA256.toUpperCase() }],
  ['tls_fingerprint', SHA1, { tls_fingerprint: SHA1.toUpperCase() }],
  ['tls_fingerprint', MD5, { tls_fingerprint: MD5.toUpperCase() }],
  ['tls_fingerprint', SHA1.replaceAll(':', ' '), { tls_fingerprint: SHA1.toUpperCase() }],
  ['tls_fingerprint', '', { tls_fingerprint: null }],
  ['tls_key_file', '~/k.pem', { tls_key_file: '/home/u/k.pem' }],
  ['tls_cert_file', '~/c.pem', { tls_cert_file: '/home/u/c.pem' }],
  ['tls_certcheck', 'off', { tls_certcheck: false }],
  ['tls_certcheck', '', { tls_certcheck: true }],
  ['tls_nocertcheck', '', { tls_certcheck: false }],
  ['tls_priorities', 'NORMAL:-VERS-TLS1.0', { tls_priorities: 'NORMAL:-VERS-TLS1.0' }],
  ['tls_priorities', '', { tls_priorities: null }],
  ['tls_host_override', 'mx.example', { tls_host_override: 'mx.example' }],
  ['tls_min_dh_prime_bits', '512', { tls_min_dh_prime_bits: 512 }],
  ['tls_min_dh_prime_bits', '', { tls_min_dh_prime_bits: null }],
  ['tls_force_sslv3', 'anything', {}],
  ['from', 'joe@example.com', { from: 'joe@example.com' }],
  ['from', '*@example.com', { from: '*@example.com' }],
  ['from', '', { from: '' }],
  ['from', '[a-c]*@cls.example', { from: '[a-c]*@cls.example' }],
  ['from', '%U@%H', { from: '%U@%H' }],
  ['from', '%F', { from: '%F' }],
  ['from', 'MAILER-DAEMON', { from: 'MAILER-DAEMON' }],
  ['from', '"john doe"@example.com', { from: '"john doe"@example.com' }],
  ['from', 'joe@[192.0.2.1]', { from: 'joe@[192.0.2.1]' }],
  ['from', 'jörg@bücher.example', { from: 'jörg@bücher.example' }],
  ['from_full_name', 'Joe Bloggs', { from_full_name: 'Joe Bloggs' }],
  ['from_full_name', '', { from_full_name: null }],
  ['allow_from_override', 'off', { allow_from_override: false }],
  ['allow_from_override', '', { allow_from_override: true }],
  ['dsn_notify', 'off', { dsn_notify: null }],
  ['dsn_notify', 'never', { dsn_notify: 'never' }],
  ['dsn_notify', 'failure,delay', { dsn_notify: ['failure', 'delay'] }],
  ['dsn_notify', 'success,failure,delay', { dsn_notify: ['success', 'failure', 'delay'] }],
  ['dsn_return', 'off', { dsn_return: null }],
  ['dsn_return', 'headers', { dsn_return: 'headers' }],
  ['dsn_return', 'full', { dsn_return: 'full' }],
  ['set_from_header', '', { set_from_header: 'auto' }],
  ['set_from_header', 'on', { set_from_header: 'on' }],
  ['set_from_header', 'off', { set_from_header: 'off' }],
  ['set_date_header', '', { set_date_header: 'auto' }],
  ['set_date_header', 'off', { set_date_header: 'off' }],
  ['set_msgid_header', 'auto', { set_msgid_header: 'auto' }],
  ['set_msgid_header', 'off', { set_msgid_header: 'off' }],
  ['set_to_header', 'auto', { set_to_header: 'auto' }],
  ['set_to_header', '', { set_to_header: 'on' }],
  ['undisclosed_recipients', '', { set_to_header: 'on' }],
  ['undisclosed_recipients', 'off', { set_to_header: 'off' }],
  ['remove_bcc_headers', 'off', { remove_bcc_headers: false }],
  ['remove_bcc_headers', '', { remove_bcc_headers: true }],
  ['keepbcc', '', { remove_bcc_headers: false }],
  ['keepbcc', 'off', { remove_bcc_headers: true }],
  ['add_missing_from_header', '', { set_from_header: 'auto' }],
  ['add_missing_from_header', 'off', { set_from_header: 'off' }],
  ['add_missing_date_header', 'on', { set_date_header: 'auto' }],
  ['add_missing_date_header', 'off', { set_date_header: 'off' }],
  ['logfile', '~/.msmtp.log', { logfile: '/home/u/.msmtp.log' }],
  ['logfile', '-', { logfile: '-' }],
  ['logfile', '', { logfile: null }],
  ['logfile_time_format', '%F %T', { logfile_time_format: '%F %T' }],
  ['logfile_time_format', 'none', { logfile_time_format: 'none' }],
  ['syslog', '', { syslog: 'LOG_USER' }],
  ['syslog', 'on', { syslog: 'LOG_USER' }],
  ['syslog', 'off', { syslog: null }],
  ['syslog', 'LOG_MAIL', { syslog: 'LOG_MAIL' }],
  ['syslog', 'LOG_LOCAL7', { syslog: 'LOG_LOCAL7' }],
  ['aliases', '~/.aliases', { aliases: '/home/u/.aliases' }],
  ['aliases', '~', { aliases: '/home/u' }],
  ['aliases', '~other/x', { aliases: '~other/x' }],
  ['aliases', '', { aliases: null }],
  ['auto_from', '', { auto_from: true }],
  ['auto_from', 'off', { auto_from: false }],
  ['maildomain', 'example.com', { maildomain: 'example.com' }],
  ['maildomain', '', { maildomain: '' }],
];

const BAD: readonly [string, string, string][] = [
  ['host', '', 'command host needs an argument'],
  ['port', '', 'command port needs an argument'],
  ['port', '0', 'invalid argument 0 for command port'],
  ['port', '65536', 'invalid argument 65536 for command port'],
  ['port', '-1', 'invalid argument -1 for command port'],
  ['port', '25x', 'invalid argument 25x for command port'],
  ['port', '08', 'invalid argument 08 for command port'],
  ['port', '25 ', 'invalid argument 25  for command port'],
  ['proxy_port', '0', 'invalid argument 0 for command proxy_port'],
  ['proxy_port', '70000', 'invalid argument 70000 for command proxy_port'],
  ['timeout', '', 'command timeout needs an argument'],
  ['timeout', '0', 'invalid argument 0 for command timeout'],
  ['timeout', 'abc', 'invalid argument abc for command timeout'],
  ['timeout', '99999999999', 'invalid argument 99999999999 for command timeout'],
  ['protocol', '', 'command protocol needs an argument'],
  ['protocol', 'SMTP', 'invalid argument SMTP for command protocol'],
  ['protocol', 'esmtp', 'invalid argument esmtp for command protocol'],
  ['auth', 'PLAIN', 'invalid argument PLAIN for command auth'],
  ['auth', 'foo', 'invalid argument foo for command auth'],
  ['auth', 'none', 'invalid argument none for command auth'],
  ['auth', 'choose', 'invalid argument choose for command auth'],
  ['tls', 'yes', 'invalid argument yes for command tls'],
  ['tls_certcheck', 'ON', 'invalid argument ON for command tls_certcheck'],
  ['tls_nostarttls', 'on', 'command tls_nostarttls does not take an argument'],
  ['tls_nocertcheck', 'off', 'command tls_nocertcheck does not take an argument'],
  ['tls_fingerprint', 'AB:CD', 'invalid argument AB:CD for command tls_fingerprint'],
  ['tls_fingerprint', SHA1.replaceAll(':', ''), `invalid argument ${SHA1.replaceAll(':', '')} for command tls_fingerprint`],
  ['tls_fingerprint', `${SHA1}X`, `invalid argument ${SHA1}X for command tls_fingerprint`],
  ['tls_min_dh_prime_bits', '0', 'invalid argument 0 for command tls_min_dh_prime_bits'],
  ['tls_min_dh_prime_bits', 'x', 'invalid argument x for command tls_min_dh_prime_bits'],
  ['allow_from_override', 'x', 'invalid argument x for command allow_from_override'],
  ['dsn_notify', '', 'command dsn_notify needs an argument'],
  ['dsn_notify', 'FAILURE', 'invalid argument FAILURE for command dsn_notify'],
  ['dsn_notify', 'failure, delay', 'invalid argument failure, delay for command dsn_notify'],
  ['dsn_notify', 'failure,failure', 'invalid argument failure,failure for command dsn_notify'],
  ['dsn_notify', 'never,success', 'invalid argument never,success for command dsn_notify'],
  ['dsn_return', '', 'command dsn_return needs an argument'],
  ['dsn_return', 'hdrs', 'invalid argument hdrs for command dsn_return'],
  ['dsn_return', 'FULL', 'invalid argument FULL for command dsn_return'],
  ['set_from_header', 'x', 'invalid argument x for command set_from_header'],
  ['set_date_header', 'on', 'invalid argument on for command set_date_header'],
  ['set_msgid_header', 'on', 'invalid argument on for command set_msgid_header'],
  ['set_to_header', 'yes', 'invalid argument yes for command set_to_header'],
  ['add_missing_from_header', 'auto', 'invalid argument auto for command add_missing_from_header'],
  ['undisclosed_recipients', 'x', 'invalid argument x for command undisclosed_recipients'],
  ['remove_bcc_headers', 'x', 'invalid argument x for command remove_bcc_headers'],
  ['keepbcc', 'x', 'invalid argument x for command keepbcc'],
  ['syslog', 'LOG_LOCAL8', 'invalid argument LOG_LOCAL8 for command syslog'],
  ['syslog', 'log_mail', 'invalid argument log_mail for command syslog'],
  ['auto_from', 'x', 'invalid argument x for command auto_from'],
  // msmtprc has no trailing comments: the # and the note are part of the value.
  ['from', 'a@example.com # note', 'invalid argument a@example.com # note for command from: not one mail address (a # after a value is part of it: msmtprc has no trailing comments)'],
  ['from', 'Joe <joe@example.com>', 'invalid argument Joe <joe@example.com> for command from: not one mail address'],
  ['from', 'a@b, c@d', 'invalid argument a@b, c@d for command from: not one mail address'],
  ['from', 'a@b@c', 'invalid argument a@b@c for command from: not one mail address'],
  ['from', 'a@exa mple.com', 'invalid argument a@exa mple.com for command from: not one mail address'],
  ['from', 'a@example..com', 'invalid argument a@example..com for command from: not one mail address'],
  ['domain', 'client.example # note', 'invalid argument client.example # note for command domain: not a domain name (a # after a value is part of it: msmtprc has no trailing comments)'],
  ['domain', 'my host', 'invalid argument my host for command domain: not a domain name'],
  ['domain', 'a..b', 'invalid argument a..b for command domain: not a domain name'],
  ['foo', 'bar', 'unknown command foo'],
  ['Host', 'h', 'unknown command Host'],
  ['toString', '', 'unknown command toString'],
  ['__proto__', '', 'unknown command __proto__'],
];

describe('the command table', () => {
  it.each(GOOD)('%s %j', (command, argument, settings) => {
    expect(parse(command, argument)).toEqual(settings);
  });

  it.each(BAD)('%s %j → %s', (command, argument, message) => {
    expect(() => parse(command, argument)).toThrow(message);
  });

  it.each(BAD)('in a file, %s %j fails at its line', (command, argument, message) => {
    const text = `# work\naccount work\n${command} "${argument}"\n`;
    const run = () => parseConfigFile(text, '/home/u/.msmtprc', { home: HOME, runCommand: () => ({ stdout: '', status: 1 }) });
    expect(run).toThrow(new OutboxError('E_CONFIG', `/home/u/.msmtprc:3: ${message}`));
  });

  it('has an entry for every msmtp 1.8.33 command and old spelling, and outbox\'s own', () => {
    const commands = `host port source_ip proxy_host proxy_port socket timeout protocol domain auth user password
      passwordeval ntlmdomain tls tls_starttls tls_trust_file tls_crl_file tls_fingerprint tls_key_file tls_cert_file
      tls_certcheck tls_priorities tls_host_override tls_min_dh_prime_bits from from_full_name allow_from_override
      dsn_notify dsn_return set_from_header set_date_header set_msgid_header set_to_header undisclosed_recipients
      remove_bcc_headers logfile logfile_time_format syslog aliases auto_from maildomain keepbcc tls_nocertcheck
      tls_nostarttls add_missing_from_header add_missing_date_header connect_timeout tls_force_sslv3
      logfile_format queue queue_dir queue_lifetime queue_bounce
      oauth2_provider oauth2_client_id oauth2_client_secret oauth2_client_secret_eval oauth2_auth_endpoint
      oauth2_token_endpoint oauth2_device_endpoint oauth2_scope fallback_account
      mda local_domains force_mda
      eightbit`.split(/\s+/);
    expect(Object.keys(COMMANDS).sort()).toEqual([...commands].sort());
  });
});

describe("the queue's commands", () => {
  const parse = (command: string, argument: string) => parseCommand(command, argument, HOME);
  it.each([
    ['queue', 'always', { queue: 'always' }],
    ['queue', 'on_failure', { queue: 'on_failure' }],
    ['queue', 'off', { queue: 'off' }],
    ['queue_dir', '~/q', { queue_dir: `${HOME}/q` }],
    ['queue_dir', '', { queue_dir: null }],
    ['queue_lifetime', '5d', { queue_lifetime: 432000 }],
    ['queue_lifetime', '90m', { queue_lifetime: 5400 }],
    ['queue_lifetime', '3h', { queue_lifetime: 10800 }],
    ['queue_lifetime', '3600', { queue_lifetime: 3600 }],
    ['queue_lifetime', '30s', { queue_lifetime: 30 }],
    ['queue_bounce', 'off', { queue_bounce: false }],
    ['queue_bounce', '', { queue_bounce: true }],
  ])('%s %j', (command, argument, settings) => expect(parse(command, argument)).toEqual(settings));

  it.each([
    ['queue', 'sometimes'],
    ['queue', ''],
    ['queue_lifetime', '5w'],
    ['queue_lifetime', '0'],
    ['queue_lifetime', '-1d'],
    ['queue_lifetime', '1.5d'],
    ['queue_lifetime', ''],
    ['queue_bounce', 'maybe'],
  ])('%s %j is refused', (command, argument) => expect(() => parse(command, argument)).toThrow(/command queue/));
});

describe('cLong (strtol with base 0)', () => {
  it.each([
    ['25', 25],
    ['0x1F', 31],
    ['0X1f', 31],
    ['017', 15],
    ['0', 0],
    ['-3', -3],
    ['\t 7', 7],
  ])('%j → %d', (text, value) => expect(cLong(text)).toBe(value));

  it.each(['', ' ', '0x', '08', '1e3', '25 ', '1.5', '++1', 'abc'])('%j is not a number', (text) => {
    expect(cLong(text)).toBeNaN();
  });
});

// eightbit (issue 15)
describe('eightbit', () => {
  it.each(['convert', 'send', 'refuse'])('eightbit %s', (value) => expect(parseCommand('eightbit', value, HOME)).toEqual({ eightbit: value }));
  it.each(['', 'on', 'Convert'])('eightbit %j is refused', (value) => expect(() => parseCommand('eightbit', value, HOME)).toThrow(/command eightbit/));
});
