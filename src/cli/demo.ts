/**
 * `npm run demo`: the whole path on one machine, both ends outbox. Starts
 * `outbox serve --maildir` on loopback (port 0, the chosen port read from its
 * log), sends a sample mail through the built `bin/outbox` as a separate
 * process — exactly as a MUA or cron would — shows the dialogue and the
 * message as it landed in the Maildir, then stops the server with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUTBOX = fileURLToPath(new URL('../../bin/outbox', import.meta.url));

const SAMPLE_MAIL = [
  'From: Demo Sender <demo@outbox.example>',
  'To: Alice <alice@example.net>, bob@example.net',
  'Subject: Hello from outbox',
  'Date: Sat, 21 Nov 2026 12:00:00 +0000',
  'Message-ID: <demo.1@outbox.example>',
  '',
  'This mail went through the hand-written SMTP client in bin/outbox.',
  '.A line starting with a dot is dot-stuffed on the wire and restored here.',
  'Unix line endings were turned into CRLF on the way.',
  '',
].join('\n');

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runOutbox(args: readonly string[], input: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OUTBOX, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** `outbox serve --maildir=DIR` on 127.0.0.1, port 0; resolves with the port once its log says it listens. */
async function startServe(folder: string): Promise<{ child: ChildProcess; port: number }> {
  const log = join(folder, 'serve.log');
  const child = spawn(process.execPath, [OUTBOX, 'serve', '--port=0', `--maildir=${join(folder, 'Maildir')}`, `--log=${log}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 200 && child.exitCode === null; i++) {
    const match = existsSync(log) ? /listening on \S+ port (\d+)/.exec(await readFile(log, 'utf8')) : null;
    if (match) return { child, port: Number(match[1]) };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('outbox serve did not start');
}

async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function demo(): Promise<number> {
  const folder = await mkdtemp(join(tmpdir(), 'outbox-demo-'));
  const server = await startServe(folder);
  try {
    const args = ['-d', '--host=127.0.0.1', `--port=${server.port}`, '--tls=off', '-f', 'demo@outbox.example', '--', 'Alice <alice@example.net>, bob@example.net'];
    console.log(`$ outbox serve --port=0 --maildir=${join(folder, 'Maildir')}   # listening on 127.0.0.1 port ${server.port}`);
    console.log(`$ outbox ${args.map((a) => (/[\s<>,]/.test(a) ? `'${a}'` : a)).join(' ')} < sample.eml\n`);
    const result = await runOutbox(args, SAMPLE_MAIL);
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    if (result.status !== 0) {
      console.error(`\noutbox exited with status ${result.status}`);
      return 1;
    }
    const newDir = join(folder, 'Maildir', 'new');
    const [name] = await readdir(newDir);
    if (!name) throw new Error('the Maildir has no message');
    const message = await readFile(join(newDir, name));
    console.log('\noutbox exited with status 0 (EX_OK)');
    console.log(`delivered ${message.length} octets to ${join(newDir, name)}`);
    return 0;
  } finally {
    await stopServe(server.child);
  }
}

process.exitCode = await demo();
