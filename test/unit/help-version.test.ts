/**
 * --help in msmtp's groups, and --version naming the files and the queue
 * folder a run would use (issue 18).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Help } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP_GROUPS, helpGroupOf } from '../../src/cli/help-groups.js';
import { buildProgram, parseCommandLine } from '../../src/cli/options.js';
import { renderVersion, versionInfo } from '../../src/cli/version-info.js';

const home = mkdtempSync(join(tmpdir(), 'outbox-version-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function helpText(): string {
  const outcome = parseCommandLine(['--help']);
  if (outcome.kind !== 'printed') throw new Error('--help printed nothing');
  return outcome.text;
}

describe('--help', () => {
  it('places every visible option in one of the groups (add new options to help-groups.ts)', () => {
    const program = buildProgram();
    const unplaced = new Help().visibleOptions(program).filter((option) => helpGroupOf(option) === undefined && option.long !== '--help');
    expect(unplaced.map((option) => option.flags)).toEqual([]);
    expect(helpText()).not.toMatch(/^Options:$/m);
  });

  it("prints the groups in msmtp's order: general, server information, configuration, sendmail, queue", () => {
    const headings = helpText().split('\n').filter((line) => /^[A-Z].*:$/.test(line) && line !== 'Arguments:');
    expect(headings).toEqual(Object.values(HELP_GROUPS));
  });

  it('lists the sendmail options it accepts and ignores, as msmtp does, and stays short', () => {
    const text = helpText();
    const ignored = /^Accepted but ignored: (.*)\.$/m.exec(text)?.[1]?.split(', ');
    expect(ignored).toEqual(['-A', '-bm', '-G', '-h', '-i', '-L', '-m', '-n', '-o', '-O']);
    expect(text).toContain('outbox serve');
    expect(text.split('\n').length).toBeLessThan(110);
  });
});

describe('--version', () => {
  it('is answered after the whole command line is read: -C and --queue-dir change what it names', () => {
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version', request: {} });
    expect(parseCommandLine(['--queue-dir=/q', '--version', '-C', '/c'])).toEqual({ kind: 'version', request: { file: '/c', queueDir: '/q' } });
    expect(() => parseCommandLine(['--version', '--no-such-option'])).toThrow(/unknown option/);
  });

  it("names msmtp's two configuration files and the default queue folder, as they are now", () => {
    const env = { HOME: home, XDG_STATE_HOME: join(home, 'state') };
    const text = renderVersion(versionInfo({}, env));
    expect(text).toMatch(/^outbox version \d+\.\d+\.\d+\n/);
    expect(text).toContain('\nSystem configuration file name: /etc/msmtprc\n');
    expect(text).toContain(`\nUser configuration file name: ${home}/.msmtprc\n`);
    expect(text).toContain(`\nQueue folder: ${home}/state/outbox/queue (unless the account's queue_dir names another)\n`);
  });

  it('follows OUTBOX_SYSTEM_CONFIG, the XDG file when only it exists, -C and --queue-dir (with ~)', () => {
    const config = join(home, 'xdg');
    mkdirSync(join(config, 'msmtp'), { recursive: true });
    writeFileSync(join(config, 'msmtp', 'config'), '');
    const env = { HOME: home, XDG_CONFIG_HOME: config, OUTBOX_SYSTEM_CONFIG: '/etc/other' };
    expect(versionInfo({}, env)).toMatchObject({ systemConfig: '/etc/other', userConfig: join(config, 'msmtp', 'config') });
    expect(versionInfo({ file: '/c', queueDir: '~/q' }, env)).toMatchObject({ userConfig: '/c', queueDir: join(home, 'q'), queueDirIsDefault: false });
    expect(renderVersion(versionInfo({ queueDir: '/q' }, env))).toContain('\nQueue folder: /q\n');
  });
});
