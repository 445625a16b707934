/** `--rmqs` (ETRN, RFC 1985): the reply table and the missing capability. */
import { afterEach, describe, expect, it } from 'vitest';
import { normalReply, startFakeServer, type FakeServer } from '../helpers/fake-server.js';
import { runOutbox } from '../helpers/run-cli.js';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function rmqs(etrnReply: string | undefined, node = '@example.org', extensions = ['PIPELINING', 'ETRN']) {
  server = await startFakeServer({
    reply: (line) => (line.startsWith('ETRN') && etrnReply ? etrnReply : normalReply(line, extensions)),
  });
  return runOutbox(['--host=127.0.0.1', `--port=${server.port}`, `--rmqs=${node}`]);
}

describe('--rmqs', () => {
  const table: Array<[string, number]> = [
    ['250 OK, queuing for node example.org started', 0],
    ['251 OK, no messages waiting for node example.org', 0],
    ['252 OK, pending messages for node example.org started', 0],
    ['253 OK, 14 pending messages for node example.org started', 0],
    ['458 Unable to queue messages for node example.org', 75],
    ['459 Node example.org not allowed: not in the list', 75],
    ['500 Syntax Error', 65],
    ['501 Syntax Error in Parameters', 65],
    ['502 something odd', 76],
  ];
  for (const [reply, status] of table) {
    it(`${reply.slice(0, 3)} exits ${status}`, async () => {
      const result = await rmqs(reply);
      expect(result.status, result.stderr).toBe(status);
      expect(server!.commands).toContain('ETRN @example.org');
      // Every refusal is a well-formed reply: the session ends with QUIT.
      expect(server!.commands.at(-1)).toBe('QUIT');
    });
  }

  it('the server does not offer ETRN: 69, and no ETRN is sent', async () => {
    const result = await rmqs('250 ok', '@example.org', ['PIPELINING']);
    expect(result.status).toBe(69);
    expect(server!.commands.some((c) => c.startsWith('ETRN'))).toBe(false);
  });

  it('#queue and host forms are sent as given; recipients with --rmqs are a usage error', async () => {
    expect((await rmqs('250 ok', '#outbound')).status).toBe(0);
    expect(server!.commands).toContain('ETRN #outbound');
    await server!.close();
    expect((await runOutbox(['--host=127.0.0.1', '--rmqs=@x', 'r@example.net'])).status).toBe(64);
  });
});
