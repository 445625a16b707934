// Writes dist/bundle/outbox.cache: bin/outbox is run once, with
// OUTBOX_WRITE_CODE_CACHE=1, sending one small mail to a throwaway SMTP sink
// on 127.0.0.1 (port 0), so the functions a send runs are compiled and go
// into the cache. Without a cache (this fails, or another Node rejects it)
// outbox compiles the bundle at each start: slower, never wrong.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerSmtp } from './smtp-sink.mjs';

const CACHE = 'dist/bundle/outbox.cache';
const LIMIT_MS = 20_000;

function run(args, input) {
  const home = mkdtempSync(join(tmpdir(), 'outbox-cache-'));
  const env = { PATH: process.env.PATH, HOME: home, OUTBOX_SYSTEM_CONFIG: join(home, 'none'), OUTBOX_WRITE_CODE_CACHE: '1' };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/outbox', ...args], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (status) => {
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      resolve({ status, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export async function writeCodeCache() {
  const server = createServer(answerSmtp);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const mail = 'From: a@example.com\nTo: b@example.net\nSubject: code cache\n\nwarming up\n';
  const sent = await run(['--host=127.0.0.1', `--port=${server.address().port}`, '-f', 'a@example.com', 'b@example.net'], mail);
  server.close();
  if (sent.status === 0 && existsSync(CACHE)) return;
  console.warn(`bundle: no code cache from a send (exit ${sent.status}: ${sent.stderr.trim()}); trying --version`);
  const version = await run(['--version'], '');
  if (version.status !== 0 || !existsSync(CACHE)) console.warn('bundle: no code cache; outbox will compile at each start');
}
