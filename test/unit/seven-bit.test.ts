import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyse, convertChunks, convertedSize } from '../../src/message/seven-bit.js';

const crlf = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');

async function* chunksOf(parts: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield part;
}

async function convert(mail: Buffer, cuts: readonly number[] = []): Promise<Buffer> {
  const plan = await analyse(chunksOf([mail]));
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    pieces.push(mail.subarray(start, cut));
    start = cut;
  }
  pieces.push(mail.subarray(start));
  const out: Buffer[] = [];
  for await (const chunk of convertChunks(chunksOf(pieces), plan)) out.push(chunk);
  const result = Buffer.concat(out);
  expect(await convertedSize(chunksOf([mail]), plan)).toBe(result.length);
  return result;
}

function decodeQp(text: string): Buffer {
  const bytes: number[] = [];
  const soft = text.replace(/=\r\n/g, '');
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=') {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(soft.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/** Splits a converted multipart with boundary "b" into its parts' headers and decoded bodies. */
function partsOf(mail: Buffer): { header: string; body: Buffer }[] {
  const text = mail.toString('latin1');
  const pieces = text.split(/\r\n--b(?:--)?\r\n/).slice(1, -1);
  return pieces.map((piece) => {
    const at = piece.indexOf('\r\n\r\n');
    const header = piece.slice(0, at + 2);
    const raw = piece.slice(at + 4);
    const cte = /content-transfer-encoding: (\S+)/i.exec(header)?.[1]?.toLowerCase();
    const body = cte === 'quoted-printable' ? decodeQp(raw) : cte === 'base64' ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'latin1');
    return { header, body };
  });
}

function expect7bitLines(mail: Buffer): void {
  expect(mail.some((b) => b >= 0x80)).toBe(false);
  for (const line of mail.toString('latin1').split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
}

describe('7-bit conversion (issue 15)', () => {
  it('gives a plain Latin-1 mail MIME fields and a quoted-printable body', async () => {
    const out = await convert(crlf('Subject: Caf\xe9\nFrom: J\xf6rg <j@example.org>\n\nCaf\xe9 cr\xe8me \n'));
    expect(out.toString('latin1')).toBe(
      crlf(
        'Subject: =?iso-8859-1?B?Q2Fm6Q==?=\nFrom: =?iso-8859-1?B?SvZyZw==?= <j@example.org>\nMIME-Version: 1.0\n' +
          'Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 cr=E8me=20\n',
      ).toString('latin1'),
    );
  });

  it('declares UTF-8 for a plain mail whose body is valid UTF-8', async () => {
    const out = (await convert(crlf('Subject: x\n\nGr\xc3\xbc\xc3\x9fe\n'))).toString('latin1');
    expect(out).toContain('Content-Type: text/plain; charset=utf-8\r\n');
    expect(out).toContain('\r\n\r\nGr=C3=BC=C3=9Fe\r\n');
  });

  it('converts nested multiparts and a message/rfc822 inside, never encoding the message itself', async () => {
    const mail = crlf(
      'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: multipart/alternative; boundary=i\n\n' +
        '--i\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n\xc3\xa9t\xc3\xa9\n--i--\n' +
        '--o\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\nSubject: \xc3\xa9\n\ninner \xc3\xa9\n' +
        '--o\nContent-Type: image/png\nContent-Transfer-Encoding: binary\n\n\x89PNG\xff\n--o--\n',
    );
    const out = (await convert(mail)).toString('latin1');
    expect(out).toContain('--i\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C3=A9t=C3=A9\r\n--i--');
    expect(out).toContain('Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject: =?utf-8?B?w6k=?=\r\nMIME-Version: 1.0\r\n');
    expect(out).toContain('Content-Transfer-Encoding: quoted-printable\r\n\r\ninner =C3=A9\r\n--o');
    expect(out).toContain(`Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from('\x89PNG\xff', 'latin1').toString('base64')}\r\n--o--`);
    expect7bitLines(Buffer.from(out, 'latin1'));
  });

  it('leaves a 7-bit signed part byte for byte and converts the rest', async () => {
    const signed = 'Content-Type: multipart/signed; boundary=s; protocol="application/pgp-signature"\n\n--s\nContent-Type: text/plain\n\nsigned text\n--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n';
    const mail = crlf(`MIME-Version: 1.0\nSubject: \xe9\nContent-Type: multipart/mixed; boundary=b\n\n--b\n${signed}--b\nContent-Type: text/plain; charset=iso-8859-1\n\n\xe9\n--b--\n`);
    const out = (await convert(mail)).toString('latin1');
    expect(out).toContain(crlf(signed).toString('latin1'));
    expect(out).toContain('=E9\r\n--b--');
  });

  it('refuses a signed part with 8-bit data, in its body or its header', async () => {
    for (const inner of ['Content-Type: text/plain\n\nsign\xe9d\n', 'Content-Type: text/plain\nSubject: \xe9\n\nsigned\n']) {
      const mail = crlf(`MIME-Version: 1.0\nContent-Type: multipart/signed; boundary=s\n\n--s\n${inner}--s\nContent-Type: application/pgp-signature\n\nSIG\n--s--\n`);
      await expect(analyse(chunksOf([mail]))).rejects.toMatchObject({ code: 'E_CONVERSION', message: expect.stringContaining('multipart/signed') });
    }
  });

  it('refuses an address with 8-bit octets but encodes display names, quoted ones too, and comments', async () => {
    await expect(analyse(chunksOf([crlf('To: j\xf6rg@example.org\n\nx\xe9\n')]))).rejects.toMatchObject({ code: 'E_CONVERSION' });
    await expect(analyse(chunksOf([crlf('To: Name <j\xf6rg@example.org>\n\nx\n')]))).rejects.toMatchObject({ code: 'E_CONVERSION' });
    const converted = await convert(crlf('To: "M\xfcller, Hans" <h@example.de>, a@example.org (K\xe4se), Gr\xfcppe: b@example.org;\n\nx\n'));
    const out = converted.toString('latin1').replace(/\r\n(?=[ \t])/g, '');
    expect(out).toContain('To: =?iso-8859-1?B?TfxsbGVyLCBIYW5z?= <h@example.de>, a@example.org (=?iso-8859-1?B?S+RzZQ==?=),');
    expect(out).toContain(' =?iso-8859-1?B?R3L8cHBl?=: b@example.org;');
    const idn = (await convert(crlf('From: bob@b\xc3\xbccher.test\nTo: Ann <ann@b\xc3\xbccher.test>\n\nx\xe9\n'))).toString('latin1');
    expect(idn).toContain('From: bob@xn--bcher-kva.test\r\nTo: Ann <ann@xn--bcher-kva.test>\r\n');
    await expect(analyse(chunksOf([crlf('To: ann@b\xfccher.test\n\nx\n')]))).rejects.toMatchObject({ code: 'E_CONVERSION' }); // not UTF-8
    const dotted = (await convert(crlf('From: J\xf6rg M. Sch\xe4fer <j@example.org>\n\nx\n'))).toString('latin1');
    expect(dotted).toContain(`From: =?iso-8859-1?B?${Buffer.from('J\xf6rg M. Sch\xe4fer', 'latin1').toString('base64')}?= <j@example.org>`);
  });

  it('writes an 8-bit parameter as RFC 2231 and lines over 998 octets of a 7-bit part as quoted-printable', async () => {
    const long = 'a'.repeat(1200);
    const mail = crlf(`MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n${long}\n--b\nContent-Type: application/octet-stream; name="\xc3\xa9.txt"\n\n\xe9\n--b--\n`);
    const out = await convert(mail);
    const [text, file] = partsOf(out);
    expect(text!.header).toContain('Content-Transfer-Encoding: quoted-printable');
    expect(text!.body.toString('latin1')).toBe(long);
    expect(file!.header).toContain("Content-Type: application/octet-stream; name*=utf-8''%C3%A9.txt");
    expect(file!.body).toEqual(Buffer.from([0xe9]));
    expect7bitLines(out);
  });

  it('relabels a part marked 8bit that holds only 7-bit data, outside a signed part', async () => {
    const mail = crlf('MIME-Version: 1.0\nSubject: \xe9\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: 8bit\n\nascii\n--b--\n');
    expect((await convert(mail)).toString('latin1')).toContain('--b\r\nContent-Transfer-Encoding: 7bit\r\n\r\nascii\r\n--b--');
  });

  it('escapes stray 8-bit octets of a quoted-printable part and drops those of a base64 part', async () => {
    const mail = crlf('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: quoted-printable\n\na\xe9=3D\n--b\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lG\xff\n--b--\n');
    const out = (await convert(mail)).toString('latin1');
    expect(out).toContain('\r\n\r\na=E9=3D\r\n--b');
    expect(out).toContain('\r\n\r\nR0lG\r\n--b--');
  });

  const line = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== 0x0a && b !== 0x0d && b !== 0)));
  const body = fc.array(line, { minLength: 1, maxLength: 12 }).map((lines) => Buffer.concat(lines.flatMap((l, i) => (i === 0 ? [l] : [Buffer.from('\r\n'), l]))));

  it('gives back the original octets when each converted part is decoded (property)', async () => {
    await fc.assert(
      fc.asyncProperty(body, body, async (text, binary) => {
        const mail = Buffer.concat([
          crlf('MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; charset=x-unknown\nContent-Transfer-Encoding: 8bit\n\n'),
          text,
          crlf('\n--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: 8bit\n\n'),
          binary,
          crlf('\n--b--\n'),
        ]);
        // A line that happens to start like the boundary would end the part in the original too.
        fc.pre(![text, binary].some((b) => b.toString('latin1').split('\r\n').some((l) => l.startsWith('--b'))));
        const out = await convert(mail);
        const parts = partsOf(out);
        expect(parts.map((p) => p.body)).toEqual([text, binary]);
        expect7bitLines(out);
        for (const encoded of out.toString('latin1').split('\r\n--b')[1]!.split('\r\n\r\n')[1]!.split('\r\n')) {
          expect(encoded.length).toBeLessThanOrEqual(76);
          expect(encoded).not.toMatch(/[ \t]$/);
        }
      }),
    );
  });

  it('writes the same bytes however the input is cut into chunks (property)', async () => {
    // Lines and a header longer than the walker's 4 KiB look-ahead, and a digest's default message/rfc822 too.
    const mail = crlf(
      `Subject: \xe9t\xe9 ${'w\xe9 '.repeat(2000)}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\npre\n--b\nContent-Type: text/plain\n\n` +
        `l\xe9gume ${'x'.repeat(100)} \n${'y\xe9'.repeat(3000)}\n\n--b\nContent-Type: message/rfc822\n\nSubject: \xe9\n\n\xe9\n--b\nContent-Type: application/x\n\n\xff\xfe\n` +
        '--b\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in a digest \xe9\n\nx\xe9\n--d--\n--b--\nepi\xe9\n',
    );
    const whole = await convert(mail);
    expect(whole.toString('latin1')).toContain('--d\r\n\r\nSubject: in a digest =?iso-8859-1?B?6Q==?=\r\nMIME-Version: 1.0\r\n');
    expect(whole.toString('latin1')).toMatch(/^Subject: =\?iso-8859-1\?B\?/);
    expect7bitLines(whole);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: mail.length }), { maxLength: 12 }), async (cuts) => {
        // Buffer.equals: a deep comparison of 50 KB a hundred times is the test's slowest part otherwise.
        expect((await convert(mail, cuts)).equals(whole)).toBe(true);
      }),
    );
  });
});
