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
