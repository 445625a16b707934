/**
 * Start-up (issue 17): bin/outbox runs the one-file bundle with the V8 code
 * cache the build wrote, and defers the Node built-ins a plain send never
 * needs. These tests hold what the speed rests on (the cache is accepted, a
 * plain send loads no TLS, crypto, child process or syslog code) and that
 * a missing or foreign cache changes nothing but speed.
 */
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { runOutbox } from '../helpers/run-cli.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const MODULE_LIST = join(REPO, 'test/fixtures/module-list.cjs');
const MAIL = 'From: a@example.com\nTo: b@example.net\nSubject: start-up\n\nbody\n';

let server: CaptureServer;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'outbox-startup-'));
  server = await startCaptureServer({ folder: join(work, 'captured') });
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const send = ['-f', 'a@example.com', 'b@example.net'];
const target = () => [`--host=127.0.0.1`, `--port=${server.port}`];

async function builtInsOf(args: readonly string[], name: string): Promise<{ status: number | null; stderr: string; modules: string[] }> {
  const list = join(work, `${name}.modules`);
  const result = await runOutbox(args, { input: MAIL, env: { NODE_OPTIONS: `--require ${MODULE_LIST}`, OUTBOX_TEST_MODULE_LIST: list } });
  return { ...result, modules: (await readFile(list, 'utf8')).split('\n') };
}

describe('what a plain send loads', () => {
  it('no TLS, crypto, child process, syslog, readline or perf_hooks module, and no ES module loader', async () => {
    const { status, stderr, modules } = await builtInsOf([...target(), ...send], 'plain');
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    expect(modules).toContain('net');
    for (const deferred of ['tls', 'crypto', 'child_process', 'dgram', 'readline', 'perf_hooks', 'internal/modules/esm/loader']) {
      expect(modules, deferred).not.toContain(deferred);
    }
    expect((await server.messages()).at(-1)!.raw.toString()).toMatch(/^Message-ID: <[0-9a-z]+\.[0-9a-f]{24}@example\.com>\r$/m);
  });

  it('a deferred module is loaded when it is used: TLS through node:tls', async () => {
    // Implicit TLS to a server that speaks plain SMTP: the handshake fails, and it was tried.
    const { status, stderr, modules } = await builtInsOf([...target(), '--tls=on', '--tls-starttls=off', '--timeout=5', ...send], 'tls');
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/TLS/);
    expect(modules).toContain('tls');
  });

  it('--version loads none of the deferred modules', async () => {
    const { status, modules } = await builtInsOf(['--version'], 'version');
    expect(status).toBe(0);
    for (const deferred of ['tls', 'crypto', 'child_process', 'dgram', 'fs/promises']) expect(modules, deferred).not.toContain(deferred);
  });
});

describe('the code cache', () => {
  it('the cache the build wrote is accepted by this Node', async () => {
    const result = await runOutbox(['--version'], { env: { OUTBOX_CODE_CACHE_REPORT: '1' } });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe('outbox: code cache accepted\n');
  });

  /** A copy of the package (bin/ and dist/bundle/) whose cache the test can damage or remove. */
  async function copyOfPackage(name: string): Promise<string> {
    const root = join(work, name);
    await cp(join(REPO, 'bin'), join(root, 'bin'), { recursive: true });
    await cp(join(REPO, 'dist/bundle'), join(root, 'dist/bundle'), { recursive: true });
    await symlink(join(REPO, 'node_modules'), join(root, 'node_modules'));
    return root;
  }

  it.each([
    ['foreign', (cache: string) => writeFile(cache, Buffer.alloc(4096, 7)), 'rejected'],
    ['absent', (cache: string) => rm(cache), 'absent'],
  ] as const)('a %s cache: outbox compiles the bundle and works the same', async (name, damage, report) => {
    const root = await copyOfPackage(name);
    await damage(join(root, 'dist/bundle/outbox.cache'));
    const bin = join(root, 'bin/outbox');
    const version = await runOutbox(['--version'], { bin, env: { OUTBOX_CODE_CACHE_REPORT: '1' } });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^outbox version /);
    expect(version.stderr).toBe(`outbox: code cache ${report}\n`);
    const before = (await server.messages()).length;
    const sent = await runOutbox([...target(), ...send], { bin, input: MAIL });
    expect(sent).toMatchObject({ status: 0, stderr: '' });
    expect(await server.messages()).toHaveLength(before + 1);
  });

  it('without the bundle: a clear error, exit 70', async () => {
    const root = await copyOfPackage('unbuilt');
    await rm(join(root, 'dist/bundle/outbox.cjs'));
    const result = await runOutbox(['--version'], { bin: join(root, 'bin/outbox') });
    expect(result.status).toBe(70);
    expect(result.stderr).toMatch(/^outbox: .*outbox\.cjs is missing: run `npm install`/);
  });
});
