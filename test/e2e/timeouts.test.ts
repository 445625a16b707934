/**
 * Every network wait has a timeout, and a timeout exits 75 naming the phase:
 * a server that goes silent at each phase in turn, with --timeout=1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeReply, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function hangAt(reply: (line: string) => FakeReply | undefined, greeting?: FakeReply, input: string | Iterable<Buffer> = 'Subject: t\n\nx\n') {
  server = await startFakeServer({ ...(greeting ? { greeting } : {}), reply: (line) => reply(line) ?? normalReply(line, []) });
  return runOutbox(['--host=127.0.0.1', `--port=${server.port}`, '--timeout=1', '-f', 'a@example.com', 'b@example.net'], { input, timeoutMs: 30_000 });
}

describe('a timeout in each phase exits 75 and names it', () => {
  const phases: Array<[string, (line: string) => FakeReply | undefined, FakeReply | undefined, RegExp]> = [
    ['the greeting', () => undefined, { hang: true }, /waiting for the reply to the greeting/],
    ['EHLO', (l) => (l.startsWith('EHLO') ? { hang: true } : undefined), undefined, /reply to EHLO/],
    ['MAIL', (l) => (l.startsWith('MAIL') ? { hang: true } : undefined), undefined, /reply to MAIL FROM:<a@example.com>/],
    ['RCPT', (l) => (l.startsWith('RCPT') ? { hang: true } : undefined), undefined, /reply to RCPT TO:<b@example.net>/],
    ['DATA', (l) => (l === 'DATA' ? { hang: true } : undefined), undefined, /reply to DATA/],
    ['the final dot', (l) => (l === '.' ? { hang: true } : undefined), undefined, /end of the message data/],
  ];
  for (const [phase, reply, greeting, message] of phases) {
    // Not hanging is the vitest test timeout's job: no wall-time bound here.
    it(phase, async () => {
      const result = await hangAt(reply, greeting);
      expect(result.status).toBe(75);
      expect(result.stderr).toMatch(/timed out after 1 s/);
      expect(result.stderr).toMatch(message);
    });
  }

  it('a data block the server stops reading', async () => {
    const block = Buffer.alloc(1024 * 1024, 'x'.repeat(75) + '\n');
    const input = (function* () {
      yield Buffer.from('Subject: big\n\n');
      for (let i = 0; i < 64; i++) yield block;
    })();
    const result = await hangAt((l) => (l === 'DATA' ? { stopReading: '354 go ahead' } : undefined), undefined, input);
    expect(result.status).toBe(75);
    expect(result.stderr).toMatch(/timed out after 1 s sending the message data/);
  }, 60_000);
});
