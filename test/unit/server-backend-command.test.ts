import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Delivery, Envelope } from '../../src/server/backend.js';
import { CommandBackend, commandLineFor, CrlfToLf, isSafeCommandAddress, shellQuote } from '../../src/server/backends/command.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-command-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const connection = { protocol: 'smtp' as const, remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 25 };
function envelope(mailFrom: string, recipients: string[]): Envelope {
  return { protocol: 'smtp', helo: 'c.test', mailFrom, mailParams: {}, recipients, rcptParams: recipients.map(() => ({})) };
}

async function deliver(backend: Backend, env: Envelope, message: string): Promise<Delivery> {
  const sink = await backend.newSession(connection).open();
  await sink.write(Buffer.from(message));
  return sink.commit(env);
}

describe('command line (msmtpd rules)', () => {
  it('replaces only the first %F with the sender and appends each recipient, quoted', () => {
    expect(commandLineFor('msmtp -f %F -- %F', 'a@b.test', ['c@d.test', 'e+x@f.test'])).toBe("msmtp -f 'a@b.test' -- %F 'c@d.test' 'e+x@f.test'");
  });
  it('passes the null sender as MAILER-DAEMON', () => {
    expect(commandLineFor('x %F', '', ['c@d.test'])).toBe("x 'MAILER-DAEMON' 'c@d.test'");
  });
  it.each(['-oQ/tmp', '$(touch x)', '`id`@x', 'a;b@c', "a'b@c", 'a b@c', 'a\nb@c', 'ü@x.test'])('refuses %j', (address) => {
    expect(isSafeCommandAddress(address)).toBe(false);
    expect(() => commandLineFor('x', 'a@b.test', [address])).toThrow(RangeError);
  });
  it('allows msmtpd\'s set, a hyphen only after the first character', () => {
    expect(isSafeCommandAddress('a-b.c_d+e/f=g@h-i.test')).toBe(true);
  });
  it('single-quotes for a POSIX shell', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('line ends on the pipe (msmtpd: CRLF becomes LF)', () => {
  const convert = (chunks: string[]): string => {
    const lineEnds = new CrlfToLf();
    return Buffer.concat([...chunks.map((c) => lineEnds.push(Buffer.from(c, 'latin1'))), lineEnds.end()]).toString('latin1');
  };
  it('turns each CRLF into LF, also when a chunk ends between CR and LF', () => {
    expect(convert(['a\r\nb\r', '\nc\r\n'])).toBe('a\nb\nc\n');
    expect(convert(['a\r', '', '\n'])).toBe('a\n');
  });
  it('keeps a lone CR (a BDAT chunk may carry one), also at the very end', () => {
    expect(convert(['a\rb\r', 'c\r'])).toBe('a\rb\rc\r');
    expect(convert(['\r\r\n'])).toBe('\r\n');
  });
});

describe('command backend', () => {
  it('streams the message to the command and answers delivered on exit 0', async () => {
    const out = join(dir, 'out');
    const backend = new CommandBackend({ command: `cat > ${out}; :`, tmpDir: dir });
    const delivery = await deliver(backend, envelope('a@b.test', ['c@d.test']), 'Subject: x\r\n\r\nhello\r\n');
    expect(delivery.kind).toBe('delivered');
    // CRLF becomes LF, as msmtpd pipes it.
    expect(await readFile(out, 'utf8')).toBe('Subject: x\n\nhello\n');
    expect(await readdir(dir)).toEqual(['out']); // the spool is gone
  });

  it('gives the command the sender for %F and the recipients as words', async () => {
    const args = join(dir, 'args');
    await writeFile(join(dir, 'show'), `printf '%s\\n' "$@" > ${args}; cat > /dev/null\n`);
    const backend = new CommandBackend({ command: `sh ${join(dir, 'show')} -f %F --`, tmpDir: dir });
    await deliver(backend, envelope('a@b.test', ['c@d.test', 'e@f.test']), 'x\r\n');
    expect(await readFile(args, 'utf8')).toBe('-f\na@b.test\n--\nc@d.test\ne@f.test\n');
  });

  it.each([68, 69, 71, 75])('exit %i is temporary: 451 with the first stderr line', async (status) => {
    const backend = new CommandBackend({ command: `cat > /dev/null; echo 'no route' >&2; echo second >&2; exit ${status}`, tmpDir: dir });
    const delivery = await deliver(backend, envelope('a@b.test', ['c@d.test']), 'x\r\n');
    expect(delivery).toEqual({ kind: 'refused', reply: { code: 451, text: `4.3.0 Pipe command reported error ${status}: no route` } });
  });

  it.each([1, 64, 65, 78])('exit %i is permanent: 554 naming the status', async (status) => {
    const backend = new CommandBackend({ command: `cat > /dev/null; exit ${status}`, tmpDir: dir });
    const delivery = await deliver(backend, envelope('a@b.test', ['c@d.test']), 'x\r\n');
    expect(delivery).toEqual({ kind: 'refused', reply: { code: 554, text: `5.3.0 Pipe command reported error ${status}` } });
  });

  it('kills a command that outlives its time limit and answers 451', async () => {
    const backend = new CommandBackend({ command: 'sleep 30; :', timeoutMs: 50, tmpDir: dir });
    const delivery = await deliver(backend, envelope('a@b.test', ['c@d.test']), 'x\r\n');
    expect(delivery).toEqual({ kind: 'refused', reply: { code: 451, text: '4.3.0 Pipe command timed out' } });
  });

  it('refuses unsafe addresses at MAIL and RCPT, and never runs a command for them', async () => {
    const marker = join(dir, 'ran');
    const backend = new CommandBackend({ command: `touch ${marker}`, tmpDir: dir });
    const session = backend.newSession(connection);
    expect(await session.mail?.('-oQ/tmp', {})).toMatchObject({ code: 553 });
    expect(await session.rcpt?.('$(touch x)', {})).toMatchObject({ code: 553 });
    expect(await session.rcpt?.('c@d.test', {})).toBeUndefined();
    const sink = await session.open();
    await sink.write(Buffer.from('x\r\n'));
    expect(await sink.commit(envelope('a@b.test', ['-oQ/tmp']))).toMatchObject({ kind: 'refused', reply: { code: 553 } });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a command that does not read its input is judged by its exit status', async () => {
    const backend = new CommandBackend({ command: 'exit 0', tmpDir: dir });
    const big = 'x'.repeat(1000) + '\r\n';
    const sink = await backend.newSession(connection).open();
    for (let i = 0; i < 2000; i++) await sink.write(Buffer.from(big));
    expect((await sink.commit(envelope('a@b.test', ['c@d.test']))).kind).toBe('delivered');
  });

  describe('when MAIL and RCPT are reported (msmtpd order: the command starts at DATA)', () => {
    async function session(command: string) {
      const backend = new CommandBackend({ command, tmpDir: dir });
      const s = backend.newSession(connection);
      expect(await s.mail?.('a@b.test', {})).toBeUndefined();
      expect(await s.rcpt?.('c@d.test', {})).toBeUndefined();
      return s;
    }

    it('streams the message straight into the command, nothing spooled', async () => {
      const out = join(dir, 'out');
      const s = await session(`cat > ${out}; :`);
      const sink = await s.open();
      const line = Buffer.from(`${'z'.repeat(998)}\r\n`);
      for (let i = 0; i < 3000; i++) await sink.write(line);
      expect(await readdir(dir)).toEqual(['out']); // no spool folder beside it
      expect((await sink.commit(envelope('a@b.test', ['c@d.test']))).kind).toBe('delivered');
      expect((await readFile(out)).length).toBe(3000 * 999); // each CRLF as LF
    });

    it('an envelope at commit other than the one the command got is 451, and the command is stopped', async () => {
      const out = join(dir, 'out');
      const s = await session(`cat > /dev/null; touch ${out}; :`);
      const sink = await s.open();
      await sink.write(Buffer.from('x\r\n'));
      expect(await sink.commit(envelope('a@b.test', ['c@d.test', 'e@f.test']))).toMatchObject({ kind: 'refused', reply: { code: 451 } });
      expect(existsSync(out)).toBe(false);
    });

    it('abort stops the command before it sees the end of the message', async () => {
      const out = join(dir, 'out');
      const s = await session(`cat > /dev/null; touch ${out}; :`);
      const sink = await s.open();
      await sink.write(Buffer.from('x\r\n'));
      await sink.abort();
      expect(existsSync(out)).toBe(false);
    });

    it('RSET forgets the envelope: the next message is spooled and judged by its own envelope', async () => {
      const s = await session('cat > /dev/null; :');
      await s.reset?.();
      const sink = await s.open();
      await sink.write(Buffer.from('x\r\n'));
      expect(await readdir(dir)).toHaveLength(1); // the spool folder
      expect((await sink.commit(envelope('a@b.test', ['c@d.test']))).kind).toBe('delivered');
      expect(await readdir(dir)).toEqual([]);
    });
  });
});
