/**
 * The log line beside msmtp's: the same mails through the same Postfix with
 * `--logfile`, compared field by field; only the queue ID in the server's
 * reply differs by nature (and the byte count Postfix adds after BDAT).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup, runMsmtp, runOutbox, SENDER, serverOptions, testMail, uniqueId } from './helpers.js';

const setup = interopSetup();
const { alice } = setup.users;

async function logLines(recipients: string[], id: string): Promise<{ outbox: string; msmtp: string }> {
  const dir = mkdtempSync(join(setup.scratch, 'log-'));
  const args = (log: string) => [...serverOptions('postfix'), `--logfile=${join(dir, log)}`, '--logfile-time-format=T', '-f', SENDER, ...recipients];
  await runOutbox(args('outbox'), testMail(id));
  await runMsmtp(args('msmtp'), testMail(id));
  // The queue ID differs by nature; and after BDAT (outbox uses CHUNKING) Postfix's reply also counts the bytes.
  const read = (log: string) => readFileSync(join(dir, log), 'utf8').replace(/queued as [0-9A-Z]+/g, 'queued as ID').replace(/Ok: \d+ bytes queued/g, 'Ok: queued');
  return { outbox: read('outbox'), msmtp: read('msmtp') };
}

describe('the log line beside msmtp', () => {
  it('a delivered mail: the same line', async () => {
    const { outbox, msmtp } = await logLines([alice], uniqueId('log-ok'));
    expect(outbox).toBe(msmtp);
    expect(outbox).toMatch(/^T host=\S+ tls=off auth=off from=\S+ recipients=\S+ mailsize=\d+ smtpstatus=250 smtpmsg='250 2\.0\.0 Ok: queued as ID' exitcode=EX_OK\n$/);
  });

  it('a refused recipient: the same line', async () => {
    const { outbox, msmtp } = await logLines([alice, `nobody@${setup.domain}`], uniqueId('log-refused'));
    expect(outbox).toContain('exitcode=EX_DATAERR');
    expect(outbox).toBe(msmtp);
  });
});
