/**
 * Issue 15's proof: 8-bit mail to a Postfix that does not offer 8BITMIME
 * (`smtpd_discard_ehlo_keywords = 8bitmime`, its own listener), which hands
 * it to Dovecot over LMTP. For each mail of the corpus, what Dovecot stores
 * is 7-bit, its lines within RFC 5322's 998 octets, and Python's `email`
 * package reads it back to the same header text, parts, file names and
 * decoded octets as the original (eightbit-compare.py). A signed part with
 * 8-bit data is refused with exit 69 and nothing arrives.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CORPUS, SIGNED, withId } from './eightbit-corpus.js';
import { asStored, findMail, interopSetup, REPO, run, runOutbox, SENDER, SmtpProbe, uniqueId, waitForMail, withoutServerHeaders } from './helpers.js';

const setup = interopSetup();
const { port, recipient } = setup.sevenbit;
const COMPARE = join(REPO, 'test', 'interop', 'eightbit-compare.py');

function sendTo7bit(mail: Buffer, extra: readonly string[] = []) {
  return runOutbox([`--host=${setup.host}`, `--port=${port}`, '-f', SENDER, ...extra, '--', recipient], mail);
}

/** Python's verdict on an original (as sent) and a stored mail. */
async function compare(original: Buffer, stored: Buffer): Promise<{ same: boolean; original: unknown; stored: unknown }> {
  const id = uniqueId('compare');
  const before = join(setup.scratch, `${id}.original.eml`);
  const after = join(setup.scratch, `${id}.stored.eml`);
  writeFileSync(before, asStored(original));
  writeFileSync(after, stored);
  const result = await run('python3', [COMPARE, before, after]);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as { same: boolean; original: unknown; stored: unknown };
}

let probe: SmtpProbe | undefined;
afterEach(() => {
  probe?.close();
  probe = undefined;
});

describe('8-bit mail → Postfix without 8BITMIME → Dovecot (issue 15)', () => {
  it('the listener does not offer 8BITMIME (the plain one does)', async () => {
    probe = await SmtpProbe.connect(port);
    await probe.reply();
    const ehlo = await probe.command('EHLO probe.test');
    expect(ehlo.lines.map((l) => l.toUpperCase())).not.toContain('8BITMIME');
    expect(ehlo.lines.map((l) => l.toUpperCase())).toContain(`SIZE ${setup.postfix.sizeLimit}`);
  });

  it('the comparison can fail: a mail with its 8th bits stripped, as a 7-bit relay might, is not the same', async () => {
    const mail = withId(CORPUS[0]!.mail, 'control');
    const stripped = Buffer.from(asStored(mail).map((b) => b & 0x7f));
    expect((await compare(mail, stripped)).same).toBe(false);
  });

  for (const { name, mail: template } of CORPUS) {
    it(`${name}: stored 7-bit, and read back to the same text and attachments`, async () => {
      const id = uniqueId('eightbit');
      const mail = withId(template, id);
      const sent = await sendTo7bit(mail, ['-d']);
      expect(sent.stderr).toBe('');
      expect(sent.status).toBe(0);
      // Undeclared: no BODY=8BITMIME to a server that did not offer it; SIZE is the converted size.
      expect(sent.stdout).toMatch(/^--> MAIL FROM:<[^>]*> SIZE=\d+$/m);
      const [stored] = await waitForMail('lmtp', recipient, id);
      const body = withoutServerHeaders(stored!.raw);
      expect(body.some((b) => b >= 0x80)).toBe(false);
      expect(Math.max(...body.toString('latin1').split('\n').map((l) => l.length))).toBeLessThanOrEqual(998);
      const verdict = await compare(mail, stored!.raw);
      expect(verdict.stored).toEqual(verdict.original);
      expect(verdict.same).toBe(true);
    });
  }

  it('a signed part with 8-bit data is refused with exit 69, before MAIL; nothing arrives', async () => {
    const id = uniqueId('eightbit-signed');
    const sent = await sendTo7bit(withId(SIGNED, id), ['-d']);
    expect(sent.status).toBe(69);
    expect(sent.stderr).toMatch(/multipart\/signed/);
    expect(sent.stdout).not.toMatch(/^--> MAIL FROM/m);
    expect(findMail('lmtp', recipient, id)).toHaveLength(0);
  });

  it('eightbit send (msmtp) passes the 8-bit octets undeclared; eightbit refuse exits 69', async () => {
    const id = uniqueId('eightbit-send');
    const mail = withId(CORPUS[0]!.mail, id);
    const sent = await sendTo7bit(mail, ['--eightbit=send']);
    expect(sent.status).toBe(0);
    const [stored] = await waitForMail('lmtp', recipient, id);
    expect(withoutServerHeaders(stored!.raw).equals(asStored(mail))).toBe(true);
    const refused = await sendTo7bit(withId(CORPUS[0]!.mail, uniqueId('eightbit-refuse')), ['--eightbit=refuse']);
    expect(refused.status).toBe(69);
    expect(refused.stderr).toContain('eightbit refuse');
  });
});
