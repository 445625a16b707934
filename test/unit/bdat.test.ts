import { describe, expect, it } from 'vitest';
import { sendChunks } from '../../src/delivery/bdat.js';
import { OutboxError } from '../../src/errors.js';
import { SmtpConnection } from '../../src/smtp/connection.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import { parseScript, ScriptedTransport } from '../helpers/scripted-transport.js';

function connection(script: string) {
  const transport = new ScriptedTransport(parseScript(script));
  return { transport, connection: new SmtpConnection(transport, { timeouts: timeoutsFor(5) }) };
}

const source = [Buffer.from('Subject: x\n\nline one\n'), Buffer.from('.line two\n'), Buffer.from('last')];

describe('sendChunks (BDAT)', () => {
  it('one write per chunk, normalised, not dot-stuffed; the last chunk carries LAST; replies read after the window', async () => {
    const { transport, connection: c } = connection([
      'C: BDAT 24', 'C: Subject: x', 'C:', 'C: line one',
      'C: BDAT 11', 'C: .line two',
      'C: BDAT 6 LAST', 'C: last',
      'S: 250 2.0.0 chunk 1', 'S: 250 2.0.0 chunk 2', 'S: 250 2.0.0 queued',
    ].join('\n'));
    const { octets, lastReply } = await sendChunks(c, source, true);
    expect(octets).toBe(41);
    expect(lastReply.lines).toEqual(['2.0.0 queued']);
    expect(transport.writes).toEqual(['BDAT 24\r\nSubject: x\r\n\r\nline one\r\n', 'BDAT 11\r\n.line two\r\n', 'BDAT 6 LAST\r\nlast\r\n']);
    expect(transport.finished).toBe(true);
  });

  it('without PIPELINING each chunk waits for its reply, and a refused chunk stops the stream', async () => {
    const { transport, connection: c } = connection([
      'C: BDAT 24', 'C: Subject: x', 'C:', 'C: line one',
      'S: 552 5.3.4 message too big',
    ].join('\n'));
    const error = await sendChunks(c, source, false).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboxError);
    expect(error).toMatchObject({ code: 'E_MESSAGE_REJECTED', transient: false });
    expect(transport.writes).toHaveLength(1);
  });

  it('an empty message is "BDAT 0 LAST"', async () => {
    const { transport, connection: c } = connection(['C: BDAT 0 LAST', 'S: 250 ok'].join('\n'));
    expect((await sendChunks(c, [], true)).octets).toBe(0);
    expect(transport.writes).toEqual(['BDAT 0 LAST\r\n']);
  });
});
