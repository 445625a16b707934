/**
 * `npm run demo`: the whole path on one machine. Starts the capture server on
 * loopback (port 0), sends a sample mail through the built `bin/outbox` as a
 * separate process — exactly as a MUA or cron would — and shows the dialogue,
 * the envelope the server received and where the captured message is.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCaptureServer } from '../server/listen.js';

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

async function demo(): Promise<number> {
  const folder = await mkdtemp(join(tmpdir(), 'outbox-demo-'));
  const server = await startCaptureServer({ folder, hostname: 'demo.localhost' });
  try {
    const args = ['-d', `--host=${server.host}`, `--port=${server.port}`, '-f', 'demo@outbox.example', '--', 'Alice <alice@example.net>, bob@example.net'];
    console.log(`capture server listening on ${server.host} port ${server.port}, writing to ${folder}`);
    console.log(`$ outbox ${args.map((a) => (/[\s<>,]/.test(a) ? `'${a}'` : a)).join(' ')} < sample.eml\n`);
    const result = await runOutbox(args, SAMPLE_MAIL);
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    if (result.status !== 0) {
      console.error(`\noutbox exited with status ${result.status}`);
      return 1;
    }
    const [message] = await server.waitForMessages(1, 10_000);
    if (!message) throw new Error('the capture server has no message');
    console.log('\noutbox exited with status 0 (EX_OK)');
    console.log(`envelope: MAIL FROM:<${message.mailFrom}> to ${message.recipients.map((r) => `<${r}>`).join(', ')}`);
    console.log(`captured ${message.size} octets in ${message.emlPath}`);
    return 0;
  } finally {
    await server.close();
  }
}

process.exitCode = await demo();
