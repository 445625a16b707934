import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strerror } from '../../src/errors.js';
import { appendLogLine, logFailureMessages } from '../../src/log/logfile.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-logfile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('appendLogLine', () => {
  it('creates a missing file with mode 0600 (less the umask) and appends a line per call', async () => {
    const path = join(dir, 'new.log');
    expect(await appendLogLine(path, 'first')).toBeUndefined();
    expect(await appendLogLine(path, 'second')).toBeUndefined();
    expect(readFileSync(path, 'utf8')).toBe('first\nsecond\n');
    const umask = process.umask();
    expect(statSync(path).mode & 0o777).toBe(0o600 & ~umask);
  });

  it('appends to an existing file and leaves its mode alone', async () => {
    const path = join(dir, 'existing.log');
    writeFileSync(path, 'old line\n');
    chmodSync(path, 0o640);
    expect(await appendLogLine(path, 'new line é')).toBeUndefined();
    expect(readFileSync(path, 'utf8')).toBe('old line\nnew line é\n');
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });

  it('"-" writes to the given standard output instead', async () => {
    const written: string[] = [];
    expect(await appendLogLine('-', 'to stdout', { writeStdout: (t) => void written.push(t) })).toBeUndefined();
    expect(written).toEqual(['to stdout\n']);
  });

  it('a failing standard output is a failure value, not an exception', async () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const failure = await appendLogLine('-', 'x', { writeStdout: () => Promise.reject(epipe) });
    expect(failure).toMatchObject({ path: '-', reason: 'output error: Broken pipe' });
  });

  it('cannot open: the two lines msmtp prints, word for word', async () => {
    const info = "host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org errormsg='cannot connect to 127.0.0.1, port 1: Connection refused' exitcode=EX_TEMPFAIL";
    const failure = await appendLogLine('/nonexistent/dir/log', `Nov 21 21:41:29 ${info}`);
    expect(failure).toBeDefined();
    // What msmtp 1.8.23 printed for the same failure (docs/logging.md):
    expect(logFailureMessages(failure!, info, 'msmtp')).toEqual([
      'msmtp: cannot log to /nonexistent/dir/log: cannot open: No such file or directory',
      "msmtp: log info was: host=127.0.0.1 tls=off auth=off from=a@example.org recipients=x@example.org errormsg='cannot connect to 127.0.0.1, port 1: Connection refused' exitcode=EX_TEMPFAIL",
    ]);
    expect(logFailureMessages(failure!, info)[0]).toBe('outbox: cannot log to /nonexistent/dir/log: cannot open: No such file or directory');
  });

  it('a directory, an empty path: failure values', async () => {
    expect(await appendLogLine(dir, 'x')).toMatchObject({ reason: 'cannot open: Is a directory' });
    expect(await appendLogLine('', 'x')).toMatchObject({ reason: 'cannot open: No such file or directory' });
  });

  it.skipIf(process.getuid?.() === 0)('a file we may not write to', async () => {
    const path = join(dir, 'readonly.log');
    writeFileSync(path, '');
    chmodSync(path, 0o444);
    expect(await appendLogLine(path, 'x')).toMatchObject({ reason: 'cannot open: Permission denied' });
  });

  it('strerror wording for known codes, the message otherwise', () => {
    expect(strerror(Object.assign(new Error('x'), { code: 'ENOSPC' }))).toBe('No space left on device');
    expect(strerror(new Error('something else'))).toBe('something else');
    expect(strerror('text')).toBe('text');
  });
});

describe('concurrent appends', () => {
  const PROCESSES = 8;
  const LINES = 150;
  // Small lines, lines over PIPE_BUF (4096), and lines over 64 KiB: O_APPEND + one write() keeps all of them whole.
  const SIZES = [60, 5000, 70_000];

  it(`${PROCESSES} processes × ${LINES} lines into one file: every line whole, none lost`, async () => {
    const moduleFile = join(dir, 'logfile.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('../../src/log/logfile.ts', import.meta.url))],
      outfile: moduleFile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent',
    });
    // Each writer says "ready", waits for a go, writes the first half of its lines, says "half",
    // waits for another go, writes the rest. The test gives each go only when every writer has
    // said the word before: all of them append at once, and each is in the middle of its run
    // while all the others are. No clock involved.
    const writer = join(dir, 'writer.mjs');
    writeFileSync(
      writer,
      `import { createInterface } from 'node:readline';
import { appendLogLine } from ${JSON.stringify(moduleFile)};
const [path, idText, linesText, sizesText] = process.argv.slice(2);
const id = Number(idText), lines = Number(linesText), sizes = JSON.parse(sizesText), letter = String.fromCharCode(97 + id);
const orders = createInterface({ input: process.stdin });
const next = orders[Symbol.asyncIterator]();
const go = async () => { if ((await next.next()).done) process.exit(2); };
const write = async (from, to) => {
  for (let seq = from; seq < to; seq++) {
    const len = sizes[seq % sizes.length];
    const failure = await appendLogLine(path, \`writer=\${id} seq=\${seq} len=\${len} \${letter.repeat(len)} end=\${id}/\${seq}\`);
    if (failure) { console.error(failure.reason); process.exit(1); }
  }
};
console.log('ready');
await go();
await write(0, lines / 2);
console.log('half');
await go();
await write(lines / 2, lines);
orders.close();
`,
    );
    const path = join(dir, 'shared.log');
    const writers = Array.from({ length: PROCESSES }, (_, id) => {
      const child = spawn(process.execPath, [writer, path, String(id), String(LINES), JSON.stringify(SIZES)], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdin.on('error', () => {}); // a writer that died early: its failure is reported below
      const said = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const finished = new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${id} exited ${code}: ${err}`))));
      });
      finished.catch(() => {}); // awaited below; a writer may fail while the test waits for another
      return { id, child, said, finished };
    });
    const everyWriterSays = async (word: string) => {
      for (const w of writers) {
        const line = await w.said.next();
        if (line.value !== word) await w.finished; // it died: its exit status and stderr make the error
        expect(line.value, `writer ${w.id}`).toBe(word);
      }
    };
    try {
      await everyWriterSays('ready');
      for (const w of writers) w.child.stdin.write('go\n');
      await everyWriterSays('half');
      for (const w of writers) w.child.stdin.end('go\n');
      await Promise.all(writers.map((w) => w.finished));
    } finally {
      for (const w of writers) {
        w.child.stdin.end(); // a writer still waiting for its go exits
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill();
      }
    }

    const content = readFileSync(path, 'utf8');
    expect(content.endsWith('\n')).toBe(true);
    const lines = content.slice(0, -1).split('\n');
    expect(lines).toHaveLength(PROCESSES * LINES);
    const next = new Array<number>(PROCESSES).fill(0);
    for (const line of lines) {
      const m = /^writer=(\d+) seq=(\d+) len=(\d+) ([a-z]*) end=(\d+)\/(\d+)$/.exec(line);
      expect(m, line.slice(0, 80)).not.toBeNull();
      const [, id, seq, len, payload, endId, endSeq] = m!;
      expect([endId, endSeq]).toEqual([id, seq]);
      expect(payload).toBe(String.fromCharCode(97 + Number(id)).repeat(Number(len)));
      // Each writer's own lines stay in order.
      expect(Number(seq)).toBe(next[Number(id)]);
      next[Number(id)]! += 1;
    }
    expect(next).toEqual(new Array(PROCESSES).fill(LINES));
    // The runs overlapped: every first-half line (of any writer) comes before every second-half line.
    const secondHalf = lines.map((line) => Number(/ seq=(\d+) /.exec(line)![1]) >= LINES / 2);
    expect(secondHalf.indexOf(true)).toBe((PROCESSES * LINES) / 2);
    expect(secondHalf.lastIndexOf(false)).toBe((PROCESSES * LINES) / 2 - 1);
  }, 60_000);
});
