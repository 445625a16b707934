/**
 * Which failures fall over to the next account of a `fallback_account`
 * chain (issue 16): a table over the failure kinds, then real dialogues
 * played to deliver() by a scripted server, each failure judged with the
 * envelope watch the CLI uses.
 */
import { describe, expect, it } from 'vitest';
import { deliver } from '../../src/delivery/deliver.js';
import { envelopeWatch, fallsOver } from '../../src/delivery/fallover.js';
import type { TlsSetup } from '../../src/delivery/starttls.js';
import { OutboxError, type ErrorCode } from '../../src/errors.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import { parseScript, ScriptedTransport } from '../helpers/scripted-transport.js';

const before = { envelopeStarted: false };
const after = { envelopeStarted: true };

describe('the failure kinds', () => {
  const error = (code: ErrorCode, transient: boolean) => new OutboxError(code, 'x', { transient });
  const table: Array<[string, ErrorCode, boolean, boolean, boolean]> = [
    // what, code, transient, falls over before MAIL, falls over after MAIL
    ['no such host (DNS)', 'E_HOST_NOT_FOUND', false, true, false],
    ['DNS cannot answer now', 'E_DNS_TEMPORARY', true, true, false],
    ['connection refused, reset or closed (also during the TLS handshake)', 'E_CONNECTION', true, true, false],
    ['connect or reply timeout', 'E_TIMEOUT', true, true, false],
    ['421 greeting', 'E_GREETING', true, true, false],
    ['554 greeting', 'E_GREETING', false, false, false],
    ['4xx to EHLO', 'E_HELLO_REJECTED', true, true, false],
    ['5xx to EHLO and HELO', 'E_HELLO_REJECTED', false, false, false],
    ['454 to STARTTLS', 'E_STARTTLS_REFUSED', true, true, false],
    ['5xx to STARTTLS', 'E_STARTTLS_REFUSED', false, false, false],
    ['454 to AUTH (also a pipelined AUTH that led MAIL)', 'E_AUTH_FAILED', true, true, true],
    ['535 to AUTH', 'E_AUTH_FAILED', false, false, false],
    ['a refused certificate', 'E_TLS_CERTIFICATE', false, false, false],
    ['a failed TLS negotiation (no common version, an alert)', 'E_TLS_HANDSHAKE', false, false, false],
    ['STARTTLS or AUTH not offered', 'E_CAPABILITY', false, false, false],
    ['a server that does not speak SMTP', 'E_PROTOCOL', false, false, false],
    ['a SOCKS proxy that refuses for good', 'E_PROXY_FAILED', false, false, false],
    ['no password found', 'E_NO_CREDENTIALS', false, false, false],
    ['4xx to MAIL, RCPT or DATA', 'E_ENVELOPE_REJECTED', true, false, false],
    ['5xx to RCPT', 'E_ENVELOPE_REJECTED', false, false, false],
    ['4xx after the final dot', 'E_MESSAGE_REJECTED', true, false, false],
    ['over the SIZE limit', 'E_SIZE_EXCEEDED', false, false, false],
    ['LMTP: some recipients refused for now', 'E_PARTIAL_DELIVERY', true, false, false],
    ['a configuration error', 'E_CONFIG', false, false, false],
  ];
  it.each(table)('%s', (_, code, transient, beforeMail, afterMail) => {
    expect(fallsOver(error(code, transient), before)).toBe(beforeMail);
    expect(fallsOver(error(code, transient), after)).toBe(afterMail);
  });

  it('never for what is not an OutboxError (a bug)', () => {
    expect(fallsOver(new Error('bug'), before)).toBe(false);
    expect(fallsOver(undefined, before)).toBe(false);
  });
});

const GREETED = 'S: 220 mx.example ESMTP\nC: EHLO localhost\n';
const ENVELOPE = 'C: MAIL FROM:<a@example.com>\nC: RCPT TO:<b@example.net>\nC: DATA\n';
const AUTH_PLAIN = 'C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUuY29tAHNlY3JldA==\n';

/** A TLS layer that is never reached: STARTTLS is refused before any handshake. */
const UNREACHED_TLS: TlsSetup = {
  policy: { mode: 'starttls', trustFile: null, crlFile: null, fingerprint: null, certcheck: false, hostOverride: null, certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: null },
  startTls: () => Promise.reject(new Error('no handshake expected')),
};

/** Plays `script` to deliver() and judges its failure as the chain does. */
async function judge(script: string, options: { auth?: boolean; tls?: boolean } = {}): Promise<{ code: string; fallsOver: boolean }> {
  const transport = new ScriptedTransport(parseScript(script));
  const watch = envelopeWatch();
  try {
    await deliver({
      session: {
        host: 'mx.example', port: 25, protocol: 'smtp', domain: 'localhost', timeouts: timeoutsFor(5), connector: async () => transport, trace: watch.trace,
        ...(options.tls ? { tls: UNREACHED_TLS } : {}),
      },
      ...(options.auth ? { auth: { requested: 'plain', user: 'alice@example.com', secret: 'secret', hasClientCertificate: false, host: 'mx.example', port: 25 } } : {}),
      envelope: { reversePath: 'a@example.com', recipients: ['b@example.net'] },
      message: [Buffer.from('Subject: t\r\n\r\nHello.\r\n')],
    });
  } catch (error) {
    if (!(error instanceof OutboxError)) throw error;
    return { code: error.code, fallsOver: fallsOver(error, watch) };
  }
  throw new Error('the delivery succeeded');
}

describe('real dialogues', () => {
  const cases: Array<[string, string, { auth?: boolean; tls?: boolean }, string, boolean]> = [
    ['421 greeting', 'S: 421 4.3.2 try later\n', {}, 'E_GREETING', true],
    ['554 greeting', 'S: 554 5.3.2 go away\nC: QUIT\n', {}, 'E_GREETING', false],
    ['451 to EHLO', `${GREETED}S: 451 4.3.0 busy\nC: QUIT\n`, {}, 'E_HELLO_REJECTED', true],
    ['the connection closed after EHLO', `${GREETED}S: <close>\n`, {}, 'E_CONNECTION', true],
    ['454 to STARTTLS', `${GREETED}S: 250-mx.example\nS: 250 STARTTLS\nC: STARTTLS\nS: 454 4.7.0 TLS not available\nC: QUIT\n`, { tls: true }, 'E_STARTTLS_REFUSED', true],
    ['STARTTLS not offered', `${GREETED}S: 250 mx.example\nC: QUIT\n`, { tls: true }, 'E_CAPABILITY', false],
    ['454 to AUTH', `${GREETED}S: 250-mx.example\nS: 250 AUTH PLAIN\n${AUTH_PLAIN}S: 454 4.7.0 try later\nC: QUIT\n`, { auth: true }, 'E_AUTH_FAILED', true],
    ['535 to AUTH', `${GREETED}S: 250-mx.example\nS: 250 AUTH PLAIN\n${AUTH_PLAIN}S: 535 5.7.8 no\nC: QUIT\n`, { auth: true }, 'E_AUTH_FAILED', false],
    [
      '454 to an AUTH that led the pipelined envelope, the server then saying 354 (the data is never sent)',
      `${GREETED}S: 250-mx.example\nS: 250-PIPELINING\nS: 250 AUTH PLAIN\n${AUTH_PLAIN}${ENVELOPE}S: 454 4.7.0 try later\nS: 250 ok\nS: 250 ok\nS: 354 go ahead\n`,
      { auth: true },
      'E_AUTH_FAILED',
      true,
    ],
    ['421 to MAIL', `${GREETED}S: 250 mx.example\nC: MAIL FROM:<a@example.com>\nS: 421 4.3.2 closing\nC: QUIT\n`, {}, 'E_ENVELOPE_REJECTED', false],
    ['451 to RCPT', `${GREETED}S: 250 mx.example\nC: MAIL FROM:<a@example.com>\nS: 250 ok\nC: RCPT TO:<b@example.net>\nS: 451 4.3.0 later\nC: QUIT\n`, {}, 'E_ENVELOPE_REJECTED', false],
    ['451 to DATA (pipelined)', `${GREETED}S: 250-mx.example\nS: 250 PIPELINING\n${ENVELOPE}S: 250 ok\nS: 250 ok\nS: 451 4.3.0 later\nC: QUIT\n`, {}, 'E_ENVELOPE_REJECTED', false],
    [
      'the connection closed after RCPT was accepted',
      `${GREETED}S: 250 mx.example\nC: MAIL FROM:<a@example.com>\nS: 250 ok\nC: RCPT TO:<b@example.net>\nS: 250 ok\nC: DATA\nS: <close>\n`,
      {},
      'E_CONNECTION',
      false,
    ],
    [
      '451 after the final dot',
      `${GREETED}S: 250 mx.example\nC: MAIL FROM:<a@example.com>\nS: 250 ok\nC: RCPT TO:<b@example.net>\nS: 250 ok\nC: DATA\nS: 354 go\nC: Subject: t\nC:\nC: Hello.\nC: .\nS: 451 4.3.0 later\nC: QUIT\n`,
      {},
      'E_MESSAGE_REJECTED',
      false,
    ],
  ];
  it.each(cases)('%s', async (_, script, options, code, expected) => {
    expect(await judge(script, options)).toEqual({ code, fallsOver: expected });
  });
});

describe('the envelope watch', () => {
  it('passes every event on to the transcript and notes MAIL', () => {
    const seen: string[] = [];
    const watch = envelopeWatch((event) => seen.push(event.kind));
    watch.trace({ kind: 'command', command: { verb: 'EHLO', domain: 'x' }, line: 'EHLO x' });
    expect(watch.envelopeStarted).toBe(false);
    watch.trace({ kind: 'command', command: { verb: 'MAIL', reversePath: 'a@b' }, line: 'MAIL FROM:<a@b>' });
    expect(watch.envelopeStarted).toBe(true);
    expect(seen).toEqual(['command', 'command']);
  });
});
