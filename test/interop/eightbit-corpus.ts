/**
 * Issue 15's corpus: 8-bit mails as users' programs write them, each to be
 * converted to 7-bit for a server without 8BITMIME and read back by
 * Python's `email` package (eightbit-compare.py). Octets, not text: Latin-1
 * stays Latin-1. `{ID}` is replaced by the case's unique id.
 */

const latin1 = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
const utf8 = (text: string) => latin1(Buffer.from(text, 'utf8').toString('latin1'));

const HEAD = 'Date: Fri, 21 Nov 2025 12:00:00 +0000\nMessage-ID: <{ID}@interop.test>\nX-Interop-Id: {ID}\n';
/** A small PNG, already base64 in its part: it must come through untouched. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex').toString('base64');

export interface CorpusMail {
  readonly name: string;
  readonly mail: Buffer;
}

export const CORPUS: readonly CorpusMail[] = [
  {
    name: 'plain text in Latin-1, no MIME',
    mail: latin1(`${HEAD}From: J\xf6rg Sch\xe4fer <sender@sender.test>\nTo: eightbit@example.test\nSubject: Gr\xfc\xdfe aus K\xf6ln\n\nLiebe Gr\xfc\xdfe,\nda\xdf \xfcbliche \xc4rger \n\xe0 bient\xf4t, \xa9 2025\n`),
  },
  {
    name: 'plain text in UTF-8, no MIME',
    mail: utf8(`${HEAD}From: Zoë Ødegård <sender@sender.test>\nTo: eightbit@example.test\nSubject: Ünïcödé ☃ and 日本語 in a subject long enough to need more than one encoded word\n\nПривет, мир! ☃\nKöln — Zürich\n`),
  },
  {
    name: 'nested multipart with attachments',
    mail: utf8(
      `${HEAD}From: sender@sender.test\nTo: eightbit@example.test\nSubject: nested\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer-b"\n\n` +
        'This is a multi-part message in MIME format.\n--outer-b\nContent-Type: multipart/alternative; boundary=alt\n\n' +
        '--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße, 世界\n' +
        '--alt\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n<p>Grüße, <b>世界</b></p>\n--alt--\n' +
        '--outer-b\nContent-Type: text/plain; charset=utf-8; name="notiz-ä.txt"\nContent-Disposition: attachment; filename="notiz-ä.txt"\nContent-Transfer-Encoding: 8bit\n\nÄrger\nüber Öl\n' +
        `--outer-b\nContent-Type: image/png\nContent-Disposition: attachment; filename=dot.png\nContent-Transfer-Encoding: base64\n\n${PNG}\n` +
        '--outer-b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="data.bin"\nContent-Transfer-Encoding: 8bit\n\nraw \u00ff\u00fe bytes\n--outer-b--\n',
    ),
  },
  {
    name: 'long lines',
    mail: utf8(
      `${HEAD}From: sender@sender.test\nTo: eightbit@example.test\nSubject: long lines\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n` +
        `--b\nContent-Type: text/plain; charset=us-ascii\n\n${'0123456789'.repeat(250)}\nshort\n` +
        `--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${'é'.repeat(700)}\n--b--\n`,
    ),
  },
  {
    name: '8-bit header fields',
    mail: utf8(
      `${HEAD}From: "Müller, Hans" <sender@sender.test>\nTo: Åsa Öberg <eightbit@example.test>, "Bob" <bob@example.test>\n` +
        'Cc: Gruppe Ünterwegs: carol@example.test;\nSubject: Ça va? Très bien.\nX-Note: naïve café\n\nbody\n',
    ),
  },
  {
    name: 'a message/rfc822 part',
    mail: latin1(
      `${HEAD}From: sender@sender.test\nTo: eightbit@example.test\nSubject: forwarded\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=fw\n\n` +
        '--fw\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nSiehe unten, Gr\xfc\xdfe.\n' +
        '--fw\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n' +
        'From: Andr\xe9 <andre@example.org>\nSubject: \xc0 propos\nMIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\nD\xe9j\xe0 vu.\n' +
        '--fw--\n',
    ),
  },
];

/** A multipart/signed part with 8-bit data: outbox must refuse it (69) rather than break the signature. */
export const SIGNED = utf8(
  `${HEAD}From: sender@sender.test\nTo: eightbit@example.test\nSubject: signed\nMIME-Version: 1.0\n` +
    'Content-Type: multipart/signed; boundary=sig; micalg=pgp-sha256; protocol="application/pgp-signature"\n\n' +
    '--sig\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nSigniert: Grüße\n' +
    '--sig\nContent-Type: application/pgp-signature\n\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n--sig--\n',
);

export function withId(mail: Buffer, id: string): Buffer {
  return Buffer.from(mail.toString('latin1').replaceAll('{ID}', id), 'latin1');
}
