import { describe, expect, it } from 'vitest';
import { collectServerInfo } from '../../src/delivery/serverinfo.js';
import type { Resolve } from '../../src/net/connector.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';
import { parseScript, ScriptedTransport } from '../helpers/scripted-transport.js';

const SCRIPT = ['S: 220 mx.test ESMTP', 'C: EHLO client.test', 'S: 250-mx.test', 'S: 250 PIPELINING', 'C: QUIT'].join('\n');

/** --serverinfo on a scripted server at 192.0.2.25, with the resolver given. */
function serverInfo(resolve: Resolve) {
  const transport = Object.assign(new ScriptedTransport(parseScript(SCRIPT)), { remoteAddress: '192.0.2.25' });
  return collectServerInfo({
    host: 'mx.test', port: 25, protocol: 'smtp', domain: 'client.test', timeouts: timeoutsFor(5),
    connector: async () => transport, resolve,
  });
}

describe('collectServerInfo', () => {
  it('names the address with the session\'s resolver, not the system\'s', async () => {
    const asked: string[] = [];
    const resolve: Resolve = Object.assign(async () => [], {
      reverse: async (address: string) => {
        asked.push(address);
        return 'mx.named.test';
      },
    });
    const info = await serverInfo(resolve);
    expect(asked).toEqual(['192.0.2.25']);
    expect(info).toMatchObject({ address: '192.0.2.25', reverseName: 'mx.named.test', greeting: ['mx.test ESMTP'] });
  });

  it('gives no name when the resolver has no way back, or answers with the address itself', async () => {
    expect((await serverInfo(async () => [])).reverseName).toBeUndefined();
    expect((await serverInfo(Object.assign(async () => [], { reverse: async (address: string) => address }))).reverseName).toBeUndefined();
  });
});
