/**
 * The systemd user units of contrib/systemd/ (shipped in the package): they
 * parse (systemd-analyze verify where it is installed, and a structural
 * check always), each ExecStart is a command line outbox accepts, and each
 * Documentation= page is one the package installs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/options.js';
import { parseServeCommandLine } from '../../src/cli/serve-options.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNITS = join(ROOT, 'contrib/systemd');
const names = readdirSync(UNITS).sort();
const work = mkdtempSync(join(tmpdir(), 'outbox-units-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Unit = Map<string, Map<string, string[]>>;

/** systemd's unit syntax, as far as these files use it: [Section], Key=Value, # comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!setting || !section) throw new Error(`line ${i + 1}: not a setting: ${raw}`);
    section.set(setting[1]!, [...(section.get(setting[1]!) ?? []), setting[2]!]);
  }
  return unit;
}

const unitOf = (name: string) => parseUnit(readFileSync(join(UNITS, name), 'utf8'));
const value = (unit: Unit, section: string, key: string) => unit.get(section)?.get(key)?.at(-1);

describe('contrib/systemd', () => {
  it('has the queue timer with its service, and the socket with its per-connection template', () => {
    expect(names).toEqual(['outbox-queue.service', 'outbox-queue.timer', 'outbox-serve.socket', 'outbox-serve@.service']);
    const socket = unitOf('outbox-serve.socket');
    expect(value(socket, 'Socket', 'Accept')).toBe('yes');
    expect(value(socket, 'Socket', 'ListenStream')).toMatch(/^127\.0\.0\.1:\d+$/);
    const session = unitOf('outbox-serve@.service');
    expect(value(session, 'Service', 'StandardInput')).toBe('socket');
    expect(value(session, 'Service', 'StandardOutput')).toBe('socket');
    expect(value(unitOf('outbox-queue.service'), 'Service', 'Type')).toBe('oneshot');
    expect(value(unitOf('outbox-queue.timer'), 'Timer', 'OnUnitActiveSec')).toMatch(/^\d+min$/);
    for (const name of names.filter((n) => !n.endsWith('.service'))) expect(value(unitOf(name), 'Install', 'WantedBy'), name).toMatch(/\.target$/);
  });

  it('starts outbox with options its tables have: --queue-run, and serve --inetd', () => {
    const queue = value(unitOf('outbox-queue.service'), 'Service', 'ExecStart')!.split(' ');
    expect(queue[0]).toBe('outbox');
    expect(parseCommandLine(queue.slice(1))).toMatchObject({ kind: 'run', options: { mode: 'queue-run' } });
    const serve = value(unitOf('outbox-serve@.service'), 'Service', 'ExecStart')!.split(' ');
    expect(serve.slice(0, 2)).toEqual(['outbox', 'serve']);
    expect(parseServeCommandLine(serve.slice(2))).toMatchObject({ kind: 'run', options: { inetd: true } });
  });

  it('points Documentation= at man pages the package installs', () => {
    const installed = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[] }).man.map((path) => path.split('/').at(-1));
    for (const name of names) {
      const page = /^man:([\w-]+)\((\d)\)$/.exec(value(unitOf(name), 'Unit', 'Documentation') ?? '');
      expect(page, name).not.toBeNull();
      expect(installed, name).toContain(`${page![1]}.${page![2]}`);
    }
  });

  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it.skipIf(analyze.status !== 0)('pass systemd-analyze verify, with ExecStart pointing at this bin/outbox', () => {
    for (const name of names) {
      const text = readFileSync(join(UNITS, name), 'utf8').replace(/^ExecStart=outbox\b/m, `ExecStart=${join(ROOT, 'bin/outbox')}`);
      writeFileSync(join(work, name), text);
    }
    const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...names.map((name) => join(work, name))], { encoding: 'utf8', cwd: work });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
