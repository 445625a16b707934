import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineEndingNormalizer } from '../../src/message/line-endings.js';
import { spoolMessage, type Spool } from '../../src/message/spool.js';
import { livePrivateDirs } from '../../src/message/temp-files.js';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'outbox-spool-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function read(spool: Spool): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of spool.chunks()) parts.push(chunk);
  return Buffer.concat(parts);
}

function normalize(bytes: Buffer): Buffer {
  const n = new LineEndingNormalizer();
  return Buffer.concat([n.push(bytes), n.end()]);
}

/** The counts, computed the slow and obvious way on the whole normalised message. */
function reference(input: Buffer): Record<string, unknown> {
  const bytes = normalize(input);
  const text = bytes.toString('latin1');
  const lines = text === '' ? [] : text.slice(0, -2).split('\r\n');
  const nul = text.indexOf('\0');
  return {
    octets: bytes.length,
    has8bit: [...bytes].some((b) => b >= 0x80),
    hasNul: nul !== -1,
    firstNulLine: nul === -1 ? undefined : text.slice(0, nul).split('\n').length,
    longestLine: Math.max(0, ...lines.map((l) => l.length)),
    lines: lines.length,
  };
}

function counts(spool: Spool): Record<string, unknown> {
  const { octets, has8bit, hasNul, firstNulLine, longestLine, lines } = spool;
  return { octets, has8bit, hasNul, firstNulLine, longestLine, lines };
}

function cutEverywhere(input: Buffer): Buffer[][] {
  const result: Buffer[][] = [[input]];
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) result.push([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
  }
  return result;
}

describe('spoolMessage below the memory limit', () => {
  it('keeps the message in memory, CRLF throughout, and counts it', async () => {
    const spool = await spoolMessage([Buffer.from('Subject: x\n\nline one\nline two')]);
    expect(spool.path).toBeUndefined();
    expect((await read(spool)).toString()).toBe('Subject: x\r\n\r\nline one\r\nline two\r\n');
    expect(counts(spool)).toEqual({ octets: 34, has8bit: false, hasNul: false, firstNulLine: undefined, longestLine: 10, lines: 4 });
    await spool.dispose();
    expect(() => spool.chunks()).toThrow(/disposed/);
  });

  it('counts an empty message', async () => {
    const spool = await spoolMessage([]);
    expect(counts(spool)).toEqual({ octets: 0, has8bit: false, hasNul: false, firstNulLine: undefined, longestLine: 0, lines: 0 });
  });
});

describe('counts at every chunk boundary, in memory and in a file', () => {
  const inputs = [
    'a\nbb\r\nccc\rdddd',
    'A: 1\n\nx\0y\nz\0',
    '\n\n\0',
    'caf\xe9\nend\n',
    'plain\r\nascii\r\n\xff',
    '\r\n\r\r\n\n\rlong line here\r',
  ].map((s) => Buffer.from(s, 'latin1'));
  for (const input of inputs) {
    it(JSON.stringify(input.toString('latin1')), async () => {
      const expected = reference(input);
      for (const chunks of cutEverywhere(input)) {
        for (const memoryLimit of [1 << 20, 5]) {
          const spool = await spoolMessage(chunks, { memoryLimit, tmpDir: scratch });
          expect(counts(spool), `${JSON.stringify(chunks.map(String))} limit ${memoryLimit}`).toEqual(expected);
          expect((await read(spool)).equals(normalize(input))).toBe(true);
          await spool.dispose();
        }
      }
    });
  }
});

describe('spoolMessage above the memory limit', () => {
  it('spills to a private file (folder 0700, file 0600) that dispose removes', async () => {
    const input = Buffer.from('Subject: big\n\n' + 'x'.repeat(100) + '\n');
    const listeners = () => ['exit', 'SIGINT', 'SIGTERM', 'SIGHUP'].map((event) => process.listenerCount(event));
    const before = listeners();
    const spool = await spoolMessage([input.subarray(0, 10), input.subarray(10)], { memoryLimit: 50, tmpDir: scratch });
    const path = spool.path!;
    expect(listeners()).toEqual(before); // the process's handlers are the CLI's business (cli/temp-cleanup.ts)
    expect(path).toBeDefined();
    expect(dirname(dirname(path))).toBe(scratch);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    expect(livePrivateDirs()).toContain(dirname(path));
    expect((await read(spool)).equals(normalize(input))).toBe(true);
    expect((await read(spool)).equals(normalize(input))).toBe(true); // read again
    await spool.dispose();
    await spool.dispose(); // twice is fine
    expect(existsSync(dirname(path))).toBe(false);
    expect(livePrivateDirs()).not.toContain(dirname(path));
  });

  it('streams a large message through a file with the right size and bytes', async () => {
    const chunk = Buffer.from(`${'0123456789abcdef'.repeat(63)}é\n`.repeat(64));
    const hash = createHash('sha256');
    let expectedOctets = 0;
    function* source(): Generator<Buffer> {
      for (let i = 0; i < 48; i++) yield chunk;
    }
    for (const c of source()) {
      const n = normalize(c);
      hash.update(n);
      expectedOctets += n.length;
    }
    const spool = await spoolMessage(source(), { tmpDir: scratch });
    expect(spool.path).toBeDefined();
    expect(spool.octets).toBe(expectedOctets);
    expect(spool.has8bit).toBe(true);
    expect(spool.longestLine).toBe(16 * 63 + 2);
    const readHash = createHash('sha256');
    for await (const part of spool.chunks()) readHash.update(part);
    expect(readHash.digest('hex')).toBe(hash.digest('hex'));
    await spool.dispose();
  });

  it('removes the file when the source fails, and reports E_IO', async () => {
    const dir = mkdtempSync(join(scratch, 'fail-'));
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100, 0x61);
      yield Buffer.alloc(100, 0x61);
      throw new Error('stdin: connection reset');
    }
    await expect(spoolMessage(failing(), { memoryLimit: 50, tmpDir: dir })).rejects.toMatchObject({
      code: 'E_IO',
      message: /connection reset/,
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a temporary folder that cannot be made as E_IO', async () => {
    const missing = join(scratch, 'no', 'such', 'folder');
    await expect(spoolMessage([Buffer.alloc(100)], { memoryLimit: 10, tmpDir: missing })).rejects.toMatchObject({ code: 'E_IO' });
  });
});

describe('the temporary file goes away with the process', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  let bundle: string;
  beforeAll(async () => {
    bundle = join(scratch, 'spool.mjs');
    // The spool and the CLI's handlers that remove its folders (message/ touches no process handler).
    await build({
      stdin: {
        contents: "export { spoolMessage } from './message/spool.ts'; export { removeTempFilesOnExit } from './cli/temp-cleanup.ts';",
        resolveDir: resolve(here, '../../src'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: bundle,
      logLevel: 'silent',
    });
    writeFileSync(
      join(scratch, 'child.mjs'),
      [
        "import { spoolMessage, removeTempFilesOnExit } from './spool.mjs';",
        'const [tmpDir, how] = process.argv.slice(2);',
        'removeTempFilesOnExit();',
        'const spool = await spoolMessage([Buffer.alloc(5000, 0x61)], { memoryLimit: 100, tmpDir });',
        "process.stdout.write(spool.path + '\\n');",
        "if (how === 'exit') process.stdin.once('data', () => process.exit(3));",
        "if (how === 'other-listener') process.on('SIGTERM', () => { process.stdout.write('still here\\n'); setTimeout(() => process.exit(7), 50); });",
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
  });

  function runChild(how: string, signal?: NodeJS.Signals): Promise<{ path: string; code: number | null; signal: NodeJS.Signals | null; out: string }> {
    return new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, [join(scratch, 'child.mjs'), scratch, how], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      let path = '';
      child.stdout.on('data', (data: Buffer) => {
        out += data.toString();
        if (!path && out.includes('\n')) {
          path = out.split('\n')[0]!;
          if (!existsSync(path)) reject(new Error(`the spool file ${path} does not exist while the child runs`));
          if (signal) child.kill(signal);
          else child.stdin.write('go\n');
        }
      });
      child.on('error', reject);
      child.on('exit', (code, sig) => resolveRun({ path, code, signal: sig, out }));
    });
  }

  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('is removed on %s, and the process still dies of the signal', async (signal) => {
    const result = await runChild('wait', signal);
    expect(result.path).toMatch(/message$/);
    expect(result.signal).toBe(signal);
    expect(existsSync(dirname(result.path))).toBe(false);
  });

  it('is removed on process.exit, with the exit code kept', async () => {
    const result = await runChild('exit');
    expect(result.code).toBe(3);
    expect(existsSync(dirname(result.path))).toBe(false);
  });

  it('is removed on a signal another listener handles, and that listener decides', async () => {
    const result = await runChild('other-listener', 'SIGTERM');
    expect(result.out).toContain('still here');
    expect(result.code).toBe(7);
    expect(existsSync(dirname(result.path))).toBe(false);
  });
});
