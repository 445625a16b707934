/**
 * The man pages and --help say the same, option by option: the built
 * `outbox --help` and `outbox serve --help` are read back into (group,
 * option, description) and compared with the OPTIONS section of the built
 * dist/man pages. Both come from the same commander tables, so this fails
 * when the build is stale or a page stops using the table.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { roffToText } from '../../src/docs/roff.js';
import { runOutbox } from '../helpers/run-cli.js';

const MAN = fileURLToPath(new URL('../../dist/man/', import.meta.url));

interface Entry {
  readonly group: string;
  readonly term: string;
  readonly text: string;
}

/** commander's layout: a heading line "Name:", items "  TERM  DESCRIPTION", continuation lines indented further. */
function helpEntries(help: string): Entry[] {
  const entries: { group: string; term: string; text: string }[] = [];
  let group = '';
  for (const line of help.split('\n')) {
    if (/^\S.*:$/.test(line)) group = line.slice(0, -1);
    else if (/^ {2}-/.test(line)) {
      const [, term, text] = /^ {2}(\S+(?: \S+)*?)(?: {2,}(.*))?$/.exec(line)!;
      entries.push({ group, term: term!, text: text ?? '' });
    } else if (/^ {3,}\S/.test(line) && entries.length > 0 && group !== 'Arguments') entries.at(-1)!.text += ` ${line.trim()}`;
  }
  return entries.map((entry) => ({ ...entry, text: entry.text.trim() }));
}

/** The OPTIONS section of a page: .SS headings and .TP items (term line, then one text line). */
function manEntries(page: string, defaultGroup: string): Entry[] {
  const lines = page.split('\n');
  const start = lines.indexOf('.SH "OPTIONS"');
  expect(start).toBeGreaterThan(0);
  const entries: Entry[] = [];
  let group = defaultGroup;
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith('.SH '); i++) {
    if (lines[i]!.startsWith('.SS ')) group = roffToText(lines[i]!.slice(4)).replace(/^"|"$/g, '');
    if (lines[i] === '.TP') entries.push({ group, term: roffToText(lines[i + 1]!), text: roffToText(lines[i + 2]!) });
  }
  return entries;
}

describe('outbox(1) against outbox --help', () => {
  it('the same options, in the same groups and order, with the same descriptions', async () => {
    const help = await runOutbox(['--help']);
    expect(help.status).toBe(0);
    const fromHelp = helpEntries(help.stdout).filter((entry) => entry.group !== 'Arguments');
    const fromMan = manEntries(readFileSync(`${MAN}outbox.1`, 'utf8'), '');
    expect(fromHelp.length).toBeGreaterThan(60);
    expect(fromMan).toEqual(fromHelp);
  });
});

describe('outbox-serve(1) against outbox serve --help', () => {
  it('the same options, in the same order, with the same descriptions', async () => {
    const help = await runOutbox(['serve', '--help']);
    expect(help.status).toBe(0);
    const fromHelp = helpEntries(help.stdout);
    const fromMan = manEntries(readFileSync(`${MAN}outbox-serve.1`, 'utf8'), 'Options');
    expect(fromHelp.length).toBeGreaterThan(15);
    expect(fromMan).toEqual(fromHelp);
  });
});

describe('the pages as man reads them', () => {
  const man = spawnSync('man', ['--version'], { encoding: 'utf8' });
  it.skipIf(man.status !== 0)('render without a warning, under their names', () => {
    for (const page of ['outbox.1', 'outbox-serve.1', 'outboxrc.5']) {
      const result = spawnSync('man', ['--warnings', '-l', `${MAN}${page}`], { encoding: 'utf8', env: { ...process.env, MANPAGER: 'cat', MANWIDTH: '80', LC_ALL: 'C.UTF-8' } });
      expect(result.stderr, page).toBe('');
      expect(result.stdout, page).toMatch(new RegExp(`^${page.replace(/\.\d$/, '').toUpperCase()}\\(\\d\\)`));
      expect(result.stdout, page).toContain('NAME');
    }
  });
});
