/**
 * Transcripts of the queue's sessions: several mails over one MailSession,
 * each delivered per recipient. The files in queue-cases/ are S:/C: dialogues
 * (as in cases/, consecutive C: lines are one write), with
 *   @mail FROM -> TO… | "message"   one line per mail, sent in order
 *   @result N ADDRESS=CODE…         the reply that decided each recipient of mail N
 *   @result N error=CODE            mail N ended the session (a thrown failure)
 *   @close quit|destroy             how the session ended
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MailSession } from '../../src/delivery/mail-session.js';
import { OutboxError } from '../../src/errors.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import { parseScript, ScriptedTransport } from '../helpers/scripted-transport.js';

const casesDir = join(import.meta.dirname, 'queue-cases');

interface Mail {
  readonly from: string;
  readonly to: string[];
  readonly message: string;
}

function readCase(text: string): { mails: Mail[]; results: string[]; close: string; protocol: 'smtp' | 'lmtp' } {
  const mails: Mail[] = [];
  const results: string[] = [];
  let close = 'quit';
  let protocol: 'smtp' | 'lmtp' = 'smtp';
  for (const line of text.split('\n')) {
    let m = /^@mail (\S*) -> (.*?) \| (.*)$/.exec(line);
    if (m) mails.push({ from: m[1] === '<>' ? '' : m[1]!, to: m[2]!.split(/\s+/), message: JSON.parse(m[3]!) as string });
    m = /^@result (\d+) (.*)$/.exec(line);
    if (m) results[Number(m[1]) - 1] = m[2]!.trim();
    m = /^@close (\w+)/.exec(line);
    if (m) close = m[1]!;
    if (/^@protocol lmtp/.test(line)) protocol = 'lmtp';
  }
  return { mails, results, close, protocol };
}

describe('queue transcripts', () => {
  for (const file of readdirSync(casesDir).filter((f) => f.endsWith('.txt')).sort()) {
    it(file.replace(/\.txt$/, ''), async () => {
      const text = readFileSync(join(casesDir, file), 'utf8');
      const { mails, results, close, protocol } = readCase(text);
      const script = parseScript(text);
      const transport = new ScriptedTransport(script);
      const session = await MailSession.open({
        host: 'mx.example', port: 25, protocol, domain: 'localhost', timeouts: timeoutsFor(5), connector: async () => transport,
      });
      const seen: string[] = [];
      const bytesOf = (mail: Mail) => Buffer.from(mail.message.replace(/\r?\n/g, '\r\n'));
      for (const [i, mail] of mails.entries()) {
        const bytes = bytesOf(mail);
        // As the flush does: the next mail is named, so its envelope may follow this one's final dot.
        const next = mails[i + 1];
        const upcoming = next && { key: String(i + 1), envelope: { reversePath: next.from, recipients: next.to }, facts: { octets: bytesOf(next).length, has8bit: false } };
        try {
          const outcome = await session.send({ key: String(i), envelope: { reversePath: mail.from, recipients: mail.to }, message: [bytes], facts: { octets: bytes.length, has8bit: false } }, upcoming);
          seen.push(outcome.map((r) => `${r.recipient}=${r.reply.code}`).join(' '));
        } catch (error) {
          if (!(error instanceof OutboxError)) throw error;
          seen.push(`error=${error.code}`);
          break;
        }
      }
      await session.close();
      expect(seen).toEqual(results);
      expect(transport.writes).toEqual(script.flights);
      expect(transport.finished, `unplayed script: ${transport.remaining}`).toBe(true);
      expect(close === 'destroy' ? transport.destroyed : transport.ended && !transport.destroyed).toBe(true);
    });
  }
});
