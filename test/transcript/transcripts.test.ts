/**
 * Transcript tests: each file in cases/ is a dialogue with exact bytes. The
 * client must send exactly the C: lines, in the flights (writes) the file
 * shows, end the session as `@close` says, and fail or succeed as `@expect` says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { deliver } from '../../src/delivery/deliver.js';
import { OutboxError } from '../../src/errors.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import type { TlsPolicy } from '../../src/net/tls-policy.js';
import type { Transport } from '../../src/transport.js';
import { parseScript, ScriptedTransport } from '../helpers/scripted-transport.js';

const TEST_POLICY: TlsPolicy = {
  mode: 'off', trustFile: 'system', crlFile: null, fingerprint: null, certcheck: true, hostOverride: null,
  certFile: null, keyFile: null, minDhPrimeBits: null, priorities: null, sessionCacheDir: null,
};

const casesDir = join(import.meta.dirname, 'cases');

interface Header {
  protocol: 'smtp' | 'lmtp';
  from: string;
  to: string[];
  message: string;
  expect: string;
  close: 'quit' | 'destroy';
  timeout: number;
  facts?: { octets: number; has8bit: boolean; body?: '7BIT' | '8BITMIME' };
  /** `@eightbit convert|send|refuse` (issue 15): the policy for a server without 8BITMIME. */
  eightbit?: 'convert' | 'send' | 'refuse';
  tls: 'off' | 'starttls' | 'tls';
  auth?: string;
  /** An OAuth2 account's token (bearer), refreshable once to this one. */
  refresh?: string;
  dsn?: { notify?: string; ret?: 'HDRS' | 'FULL' };
}

function readHeader(text: string): Header {
  const header: Header = { protocol: 'smtp', from: 'a@example.com', to: ['b@example.net'], message: 'Subject: test\n\nHello.\n', expect: 'ok', close: 'quit', timeout: 5, tls: 'off' };
  for (const line of text.split('\n')) {
    const m = /^@(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value = ''] = m;
    if (key === 'to') header.to = value.split(/\s+/).filter(Boolean);
    else if (key === 'message') header.message = JSON.parse(value) as string;
    else if (key === 'from') header.from = value === '<>' ? '' : value;
    else if (key === 'timeout') header.timeout = Number(value);
    else if (key === 'dsn') header.dsn = Object.fromEntries(value.split(/\s+/).map((kv) => kv.split('='))) as Header['dsn'];
    else if (key === 'facts') header.facts = { octets: Number(/octets=(\d+)/.exec(value)?.[1]), has8bit: /\b8bit\b/.test(value), ...bodyOf(value) };
    else (header as unknown as Record<string, string>)[key!] = value.trim();
  }
  return header;
}

/** `body=7BIT` or `body=8BITMIME` in @facts: sendmail's -B. */
function bodyOf(value: string): { body?: '7BIT' | '8BITMIME' } {
  const body = /body=(7BIT|8BITMIME)/.exec(value)?.[1] as '7BIT' | '8BITMIME' | undefined;
  return body ? { body } : {};
}

/** The message as the spool would give it again: CRLF throughout. */
async function* reread(message: string): AsyncGenerator<Buffer> {
  yield Buffer.from(message.replace(/\r?\n/g, '\r\n'), 'utf8');
}

describe('transcripts', () => {
  for (const file of readdirSync(casesDir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file.replace(/\.txt$/, ''), async () => {
      const text = readFileSync(join(casesDir, file), 'utf8');
      const header = readHeader(text);
      const script = parseScript(text);
      const transport = new ScriptedTransport(script);
      // TLS itself is tested in test/unit/tls-*; here the upgrade only marks where it happens.
      const upgradedAfterWrites: number[] = [];
      const tls = {
        policy: { ...TEST_POLICY, mode: header.tls },
        startTls: async (t: Transport) => {
          upgradedAfterWrites.push(transport.writes.length);
          return { transport: t, info: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', resumed: false, certificate: undefined } };
        },
      };
      const outcome = await deliver({
        session: {
          host: 'mx.example', port: 25, protocol: header.protocol, domain: 'localhost',
          timeouts: { ...timeoutsFor(header.timeout) },
          connector: async () => transport,
          ...(header.tls !== 'off' ? { tls } : {}),
        },
        ...(header.auth ? { auth: {
          requested: header.auth, user: 'alice@example.com', secret: 'secret', hasClientCertificate: false, host: 'mx.example', port: 25,
          ...(header.refresh !== undefined ? { bearer: true, refreshSecret: async () => header.refresh! } : {}),
        } } : {}),
        envelope: { reversePath: header.from, recipients: header.to, ...(header.dsn ? { dsn: header.dsn } : {}) },
        message: [Buffer.from(header.message, 'utf8')],
        ...(header.facts ? { facts: header.facts } : {}),
        ...(header.eightbit ? { eightbit: { policy: header.eightbit, reread: () => reread(header.message) } } : {}),
      }).then(() => 'ok', (error: unknown) => {
        if (!(error instanceof OutboxError)) throw error;
        return `${error.code} exit=${exitStatusFor(error)}`;
      });
      expect(outcome).toBe(header.expect);
      expect(transport.writes).toEqual(script.flights);
      expect(transport.finished, `unplayed script: ${transport.remaining}`).toBe(true);
      expect(header.close === 'destroy' ? transport.destroyed : transport.ended && !transport.destroyed).toBe(true);
      // Implicit TLS before the first byte; STARTTLS right after the client's STARTTLS flight.
      const starttlsFlight = script.flights.indexOf('STARTTLS\r\n');
      const expectedUpgrades = header.tls === 'tls' ? [0] : header.tls === 'starttls' && outcome === 'ok' ? [starttlsFlight + 1] : undefined;
      if (expectedUpgrades) expect(upgradedAfterWrites).toEqual(expectedUpgrades);
    });
  }
});
