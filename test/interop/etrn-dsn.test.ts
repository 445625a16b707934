/** ETRN (--rmqs) and DSN parameters against the real Postfix. */
import { describe, expect, it } from 'vitest';
import { interopSetup, runOutbox, SENDER, serverOptions, testMail, uniqueId, waitForMail } from './helpers.js';

const setup = interopSetup();
const { alice } = setup.users;

describe('ETRN and DSN with Postfix', () => {
  it('--rmqs for the flush domain is accepted (0); for another domain Postfix says 459 (75)', async () => {
    const accepted = await runOutbox([...serverOptions('postfix'), `--rmqs=@${setup.postfix.flushDomain}`], undefined);
    expect(accepted.status, accepted.stderr).toBe(0);
    const refused = await runOutbox(['-d', ...serverOptions('postfix'), '--rmqs=@not-flushed.example'], undefined);
    expect(refused.status).toBe(75);
    expect(refused.stdout).toMatch(/^<-- 459 /m);
  });

  it('-N and -R reach Postfix as NOTIFY, ORCPT and RET, and the mail is delivered', async () => {
    const id = uniqueId('dsn');
    const result = await runOutbox(['-d', ...serverOptions('postfix'), '-f', SENDER, '-N', 'failure,delay', '-R', 'hdrs', '-V', `env-${id}`, alice], testMail(id));
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^--> RCPT TO:<${alice}> NOTIFY=FAILURE,DELAY ORCPT=rfc822;${alice}$`, 'm'));
    expect(result.stdout).toMatch(/^--> MAIL FROM:<[^>]+> .*RET=HDRS ENVID=env-dsn-/m);
    await waitForMail('postfix', alice, id);
  });
});

describe('CHUNKING with Postfix', () => {
  it('a small mail goes as BDAT LAST with the envelope; a large one in several chunks; --chunking=off uses DATA; all arrive intact', async () => {
    const small = uniqueId('bdat-small');
    const viaBdat = await runOutbox(['-d', ...serverOptions('postfix'), '-f', SENDER, alice], testMail(small));
    expect(viaBdat.status, viaBdat.stderr).toBe(0);
    expect(viaBdat.stdout).toMatch(/^--> BDAT \d+ LAST$/m);
    expect(viaBdat.stdout).not.toMatch(/^--> DATA$/m);
    const large = uniqueId('bdat-large');
    const line = `${'z'.repeat(70)}\r\n.${'w'.repeat(20)}\r\n`;
    const body = line.repeat(Math.ceil(600_000 / line.length));
    const chunked = await runOutbox(['-d', ...serverOptions('postfix'), '-f', SENDER, alice], testMail(large, { body }));
    expect(chunked.status, chunked.stderr).toBe(0);
    expect(chunked.stdout.match(/^--> BDAT \d+$/gm)?.length ?? 0).toBeGreaterThan(1);
    const [stored] = await waitForMail('postfix', alice, large);
    expect(stored!.raw.toString()).toContain(body.replace(/\r\n/g, '\n'));
    const plain = uniqueId('bdat-off');
    const viaData = await runOutbox(['-d', ...serverOptions('postfix'), '--chunking=off', '-f', SENDER, alice], testMail(plain));
    expect(viaData.status, viaData.stderr).toBe(0);
    expect(viaData.stdout).toMatch(/^--> DATA$/m);
    await waitForMail('postfix', alice, small);
    await waitForMail('postfix', alice, plain);
  });
});
