/**
 * outbox speaking LMTP to a real Dovecot. Dovecot refuses an unknown user at
 * RCPT (550 5.1.1), before any data; a per-recipient refusal after the data
 * comes from a user over quota (552 5.2.2). msmtp is the reference for the
 * exit status.
 */
import { describe, expect, it } from 'vitest';
import {
  asStored,
  findMail,
  interopSetup,
  SENDER,
  sendWithMsmtp,
  sendWithOutbox,
  takeLeadingHeaders,
  testMail,
  uniqueId,
  waitForMail,
} from './helpers.js';

const setup = interopSetup();
const { alice, bob } = setup.users;
const NOBODY = `no-such-user@${setup.domain}`;
const FULL = setup.dovecot.quotaUser;

describe('outbox → Dovecot LMTP', () => {
  it('delivers a mail whose bytes arrive as sent, apart from the headers Dovecot puts on top', async () => {
    const id = uniqueId('lmtp-exact');
    const mail = testMail(id, { body: 'line one\r\n.dotted\r\n..\r\nlast\r\n' });
    const result = await sendWithOutbox([bob], mail, { target: 'lmtp' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const [stored] = await waitForMail('lmtp', bob, id);
    const { removed, rest } = takeLeadingHeaders(stored!.raw);
    expect(rest.toString('latin1')).toBe(asStored(mail).toString('latin1'));
    expect(removed[0]).toBe(`Return-Path: <${SENDER}>`);
    expect(removed.map((h) => h.slice(0, h.indexOf(':')))).toEqual(['Return-Path', 'Delivered-To', 'Received']);
  });

  it('one good and one unknown recipient: Dovecot refuses the unknown one at RCPT, outbox exits 65 like msmtp, nobody gets it', async () => {
    const id = uniqueId('lmtp-unknown');
    const mail = testMail(id, { to: `${alice}, ${NOBODY}` });
    const outbox = await sendWithOutbox([alice, NOBODY], mail, { target: 'lmtp', extra: ['-d'] });
    expect(outbox.stdout).toMatch(new RegExp(`^<-- 550 5\\.1\\.1 <${NOBODY}> User doesn't exist`, 'm'));
    expect(outbox.stderr).toContain(`recipient address ${NOBODY} not accepted by the server`);
    expect(outbox.status).toBe(65);
    // The envelope failed: no message data went out, so even the good recipient has nothing.
    expect(outbox.stdout).not.toMatch(/^--> \[message data/m);

    const msmtp = await sendWithMsmtp([alice, NOBODY], mail, { target: 'lmtp' });
    expect(msmtp.status).toBe(65);
    expect(findMail('lmtp', alice, id)).toHaveLength(0);
  });

  it('one good recipient and one over quota: refused after the data; the good one has the mail, exit 69 like msmtp', async () => {
    const id = uniqueId('lmtp-quota');
    const mail = testMail(id, { to: `${alice}, ${FULL}` });
    const outbox = await sendWithOutbox([alice, FULL], mail, { target: 'lmtp' });
    expect(outbox.status).toBe(69);
    // Each recipient's fate, with Dovecot's own reply.
    expect(outbox.stderr).toMatch(new RegExp(`delivered to ${alice}: 250 2\\.0\\.0 <${alice}> \\S+ Saved`));
    expect(outbox.stderr).toContain(`refused for ${FULL}: 552 5.2.2 <${FULL}> Quota exceeded (mailbox for user is full)`);
    const [stored] = await waitForMail('lmtp', alice, id);
    expect(takeLeadingHeaders(stored!.raw).rest.equals(asStored(mail))).toBe(true);
    expect(findMail('lmtp', FULL, id)).toHaveLength(0);

    const msmtp = await sendWithMsmtp([alice, FULL], mail, { target: 'lmtp' });
    expect(msmtp.status).toBe(69);
    expect(msmtp.stderr).toContain('Quota exceeded');
    await waitForMail('lmtp', alice, id, { count: 2 });
  });
});
