/**
 * The built `outbox serve` as a separate process, on loopback, port 0 (the
 * chosen port is read from the log's "listening on ADDRESS port N" line),
 * driven by outbox's own client, by nodemailer and by a raw SMTP dialogue.
 * Each server is stopped by its child handle in afterEach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { makeTestCertificates } from '../helpers/certs.js';
import { killChildren, OUTBOX, runOutbox } from '../helpers/run-cli.js';
import { rawClient, startServe, type ServeProcess } from '../helpers/serve-cli.js';

let dir: string;
const children = new Set<ChildProcess>();
let next: CaptureServer | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-serve-e2e-'));
});
afterEach(async () => {
  await killChildren(children);
  await next?.close();
  next = undefined;
  await rm(dir, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'], HOME: dir, OUTBOX_SYSTEM_CONFIG: join(dir, 'none'), OUTBOX_BACKGROUND_FLUSH: 'off' });

async function serve(...args: string[]): Promise<ServeProcess> {
  const server = await startServe(args, env(), join(dir, 'serve.log'));
  children.add(server.child);
  return server;
}

function sendWithOutbox(port: number, from: string, to: string, body = 'hello'): ReturnType<typeof runOutbox> {
  return runOutbox(['--host=127.0.0.1', `--port=${port}`, '--tls=off', '-f', from, to], { input: `From: ${from}\nSubject: via outbox\n\n${body}\n` });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A raw dialogue: each command is sent after the previous reply (the data as one block), the replies' last lines returned. */
async function dialogue(port: number, commands: readonly string[]): Promise<string[]> {
  const client = await rawClient(port);
  const replies = [client.greeting];
  for (const command of commands) replies.push(await client.say(command));
  client.end();
  return replies;
}

describe('outbox serve with STARTTLS and --auth', () => {
  it('takes a mail from outbox over STARTTLS with AUTH PLAIN, and refuses a wrong password (the client exits 77)', async () => {
    const certs = makeTestCertificates();
    try {
      const server = await serve(`--maildir=${join(dir, 'Maildir')}`, `--tls-cert-file=${certs.server.certFile}`, `--tls-key-file=${certs.server.keyFile}`, '--auth=alice,printf s3cret');
      const client = (password: string) => runOutbox([
        '--host=localhost', `--port=${server.port}`, '--tls=on', `--tls-trust-file=${certs.caFile}`,
        '--auth=plain', '--user=alice', `--passwordeval=printf ${password}`, '-f', 'a@b.test', 'c@d.test',
      ], { input: 'From: a@b.test\nSubject: over TLS\n\nhi\n', env: { HOME: dir } });
      const good = await client('s3cret');
      expect({ status: good.status, stderr: good.stderr }).toEqual({ status: 0, stderr: '' });
      const names = await readdir(join(dir, 'Maildir', 'new'));
      expect(names).toHaveLength(1);
      // RFC 3848: ESMTPSA, TLS and AUTH both used.
      expect(await readFile(join(dir, 'Maildir', 'new', names[0]!), 'utf8')).toMatch(/^Received: from [^\r\n]+\r\n\tby \S+ \(outbox\) with ESMTPSA id /);
      const bad = await client('wrong');
      expect(bad.status).toBe(77);
      expect(await readdir(join(dir, 'Maildir', 'new'))).toHaveLength(1);
      expect(await readFile(join(dir, 'serve.log'), 'utf8')).not.toMatch(/s3cret|wrong/);
    } finally {
      certs.cleanup();
    }
  });
});

describe('outbox serve --maildir', () => {
  it('keeps a mail sent by outbox itself in new/', async () => {
    const server = await serve(`--maildir=${join(dir, 'Maildir')}`);
    const sent = await sendWithOutbox(server.port, 'a@b.test', 'c@d.test');
    expect(sent.stderr).toBe('');
    expect(sent.status).toBe(0);
    const names = await readdir(join(dir, 'Maildir', 'new'));
    expect(names).toHaveLength(1);
    expect(await readFile(join(dir, 'Maildir', 'new', names[0]!), 'utf8')).toContain('Subject: via outbox\r\n');
    const log = await readFile(join(dir, 'serve.log'), 'utf8');
    expect(log).toContain(`message from=127.0.0.1 mailfrom=<a@b.test> recipients=c@d.test`);
    expect(log).toContain(`reply="250 2.0.0 Ok: queued as ${names[0]}"`);
  });

  it('takes mail from nodemailer', async () => {
    const server = await serve(`--maildir=${join(dir, 'Maildir')}`);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ from: 'a@b.test', to: 'c@d.test, e@f.test', subject: 'via nodemailer', text: 'hi' });
    transport.close();
    expect(info.accepted).toEqual(['c@d.test', 'e@f.test']);
    const names = await readdir(join(dir, 'Maildir', 'new'));
    expect(await readFile(join(dir, 'Maildir', 'new', names[0]!), 'utf8')).toContain('Subject: via nodemailer');
  });

  it('on SIGTERM lets a session in the middle of a mail finish it', async () => {
    const server = await serve(`--maildir=${join(dir, 'Maildir')}`);
    const client = await rawClient(server.port);
    expect(await client.say('EHLO client.test')).toMatch(/^250 /);
    expect(await client.say('MAIL FROM:<a@b.test>')).toMatch(/^250 /);
    expect(await client.say('RCPT TO:<c@d.test>')).toMatch(/^250 /);
    expect(await client.say('DATA')).toMatch(/^354 /);
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    // The server stops listening (a new connection is refused); this session goes on.
    while (await canConnect(server.port)) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await client.say('Subject: late\r\n\r\nstill here\r\n.')).toMatch(/^250 /);
    expect(await client.say('QUIT')).toMatch(/^221 /);
    client.end();
    expect(await exited).toBe(0);
    expect(await readdir(join(dir, 'Maildir', 'new'))).toHaveLength(1);
  });

  it('speaks LMTP with --lmtp (nodemailer as the LMTP client)', async () => {
    const server = await serve('--lmtp', `--maildir=${join(dir, 'Maildir')}`);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, lmtp: true, secure: false, ignoreTLS: true } as Parameters<typeof nodemailer.createTransport>[0]);
    const info = await transport.sendMail({ from: 'a@b.test', to: 'c@d.test, e@f.test', subject: 'via lmtp', text: 'hi' });
    transport.close();
    expect(info.accepted).toEqual(['c@d.test', 'e@f.test']);
    expect(await readdir(join(dir, 'Maildir', 'new'))).toHaveLength(1);
  });

  it('stops on SIGTERM with exit status 0', async () => {
    const server = await serve(`--maildir=${join(dir, 'Maildir')}`);
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('outbox serve --command', () => {
  it("pipes the mail to the command with msmtpd's %F rule", async () => {
    const script = join(dir, 'show');
    await writeFile(script, `printf '%s\\n' "$@" > ${join(dir, 'args')}; cat > ${join(dir, 'mail')}\n`);
    const server = await serve(`--command=sh ${script} -f %F --`);
    const sent = await sendWithOutbox(server.port, 'a@b.test', 'c@d.test');
    expect(sent.status).toBe(0);
    expect(await readFile(join(dir, 'args'), 'utf8')).toBe('-f\na@b.test\n--\nc@d.test\n');
    expect(await readFile(join(dir, 'mail'), 'utf8')).toContain('\nhello\n'); // LF line ends on the pipe, as msmtpd
  });

  it('never lets an address become an option or shell syntax', async () => {
    const marker = join(dir, 'pwned');
    const script = join(dir, 'show');
    await writeFile(script, `printf '%s\\n' "$@" >> ${join(dir, 'args')}; cat > /dev/null\n`);
    const server = await serve(`--command=sh ${script} -f %F --`);
    const replies = await dialogue(server.port, [
      'EHLO client.test',
      'MAIL FROM:<-oQ/tmp@x.test>',
      `RCPT TO:<"$(touch ${marker})"@x.test>`,
      'RCPT TO:<-oQ/tmp@x.test>',
      'DATA',
      'Subject: x\r\n\r\nbody\r\n.',
      'QUIT',
    ]);
    // Whichever step refuses it (MAIL, RCPT or the end of the data), the command never runs with these words.
    expect(replies.some((line) => /^5\d\d /.test(line))).toBe(true);
    expect(replies.at(-2)).not.toMatch(/^250 /);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(dir, 'args'))).toBe(false);
  });

  it('answers 451 for exit 75, and the client exits 75', async () => {
    const server = await serve('--command=cat > /dev/null; echo "queue full" >&2; exit 75; :');
    const sent = await sendWithOutbox(server.port, 'a@b.test', 'c@d.test');
    expect(sent.status).toBe(75);
    expect(sent.stderr).toContain('queue full');
  });
});

describe('outbox serve --filter', () => {
  it("refuses with 550 and the filter's first line", async () => {
    const server = await serve(`--maildir=${join(dir, 'Maildir')}`, '--filter=echo "no spam here"; exit 1; :');
    const sent = await sendWithOutbox(server.port, 'a@b.test', 'c@d.test');
    expect(sent.stderr).toContain('no spam here');
    expect(sent.status).not.toBe(0);
    expect(await readdir(join(dir, 'Maildir', 'new'))).toEqual([]);
  });
});

describe('outbox serve, relay and queue', () => {
  async function config(extra = ''): Promise<string> {
    next = await startCaptureServer({ folder: join(dir, 'captured') });
    const file = join(dir, 'msmtprc');
    await writeFile(file, `account default\nhost 127.0.0.1\nport ${next.port}\ntls off\nqueue_dir ${join(dir, 'queue')}\n${extra}`, { mode: 0o600 });
    return file;
  }

  it('relays through the account (the default backend), driven by nodemailer', async () => {
    const server = await serve('-C', await config());
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'a@b.test', to: 'c@d.test', subject: 'relayed', text: 'hi' });
    transport.close();
    const [message] = await next!.waitForMessages(1);
    expect(message!.mailFrom).toBe('a@b.test');
    expect(message!.raw.toString()).toContain('Subject: relayed');
  });

  it('--queue stores the mail in the queue and sends nothing now', async () => {
    const server = await serve('--queue', '-C', await config());
    const sent = await sendWithOutbox(server.port, 'a@b.test', 'c@d.test');
    expect(sent.status).toBe(0);
    const listed = await runOutbox(['--queue-list', `--queue-dir=${join(dir, 'queue')}`], { env: env() });
    expect(listed.stdout).toContain('c@d.test');
    expect(await next!.messages()).toEqual([]);
  });

  it('--queue: many mails on one store, and a queue folder removed by hand is made again', async () => {
    const server = await serve('--queue', '-C', await config());
    expect((await sendWithOutbox(server.port, 'a@b.test', 'first@d.test')).status).toBe(0);
    await rm(join(dir, 'queue'), { recursive: true, force: true });
    const second = await sendWithOutbox(server.port, 'a@b.test', 'second@d.test');
    expect({ status: second.status, stderr: second.stderr }).toEqual({ status: 0, stderr: '' });
    expect((await sendWithOutbox(server.port, 'a@b.test', 'third@d.test')).status).toBe(0);
    const listed = await runOutbox(['--queue-list', '--json', `--queue-dir=${join(dir, 'queue')}`], { env: env() });
    const recipients = (JSON.parse(listed.stdout) as Array<{ recipients: Array<{ address: string }> }>).flatMap((mail) => mail.recipients.map((r) => r.address));
    expect(recipients.sort()).toEqual(['second@d.test', 'third@d.test']);
  });
});

describe('outbox serve --inetd', () => {
  it('holds one session on standard input and output', async () => {
    const child = spawn(process.execPath, [OUTBOX, 'serve', '--inetd', `--maildir=${join(dir, 'Maildir')}`], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    let wake: (() => void) | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      wake?.();
    });
    const replies = async (count: number): Promise<void> => {
      while ((out.match(/^\d{3} /gm) ?? []).length < count) await new Promise<void>((resolve) => (wake = resolve));
    };
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const steps = ['EHLO client.test', 'MAIL FROM:<a@b.test>', 'RCPT TO:<c@d.test>', 'DATA', 'Subject: inetd\r\n\r\nhi\r\n.', 'QUIT'];
    await replies(1);
    for (const [i, step] of steps.entries()) {
      child.stdin!.write(`${step}\r\n`);
      await replies(i + 2);
    }
    child.stdin!.end();
    expect(await exited).toBe(0);
    expect(out).toMatch(/^221 /m);
    const names = await readdir(join(dir, 'Maildir', 'new'));
    // The server adds its Received field (RFC 5321 §4.4) before the mail as the client sent it.
    expect(await readFile(join(dir, 'Maildir', 'new', names[0]!), 'utf8')).toMatch(/^Received: from client\.test\r\n\tby \S+ \(outbox\) with ESMTP id [0-9A-Z]+\r\n\tfor <c@d\.test>; [^\r\n]+\r\nSubject: inetd\r\n\r\nhi\r\n$/);
  });
});

describe('outboxd', () => {
  it('a link named outboxd is outbox serve', async () => {
    const link = join(dir, 'outboxd');
    await symlink(OUTBOX, link);
    const result = await runOutbox(['--version'], { env: env(), bin: link });
    expect(result.stdout).toMatch(/^outbox serve version /);
    expect(result.status).toBe(0);
  });
});

describe('outbox serve refuses to start unsafely', () => {
  it('on a non-loopback interface without --auth: 64', async () => {
    const result = await runOutbox(['serve', '--interface=0.0.0.0', '--maildir=' + join(dir, 'm')], { env: env() });
    expect(result.status).toBe(64);
    expect(result.stderr).toContain('without --auth');
  });

  it('with a TLS file it cannot read: 78 naming the file', async () => {
    const result = await runOutbox(['serve', `--tls-cert-file=${join(dir, 'cert.pem')}`, `--tls-key-file=${join(dir, 'key.pem')}`], { env: env() });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain(`cannot read the TLS certificate file ${join(dir, 'cert.pem')}: No such file or directory`);
  });
});
