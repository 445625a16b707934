/**
 * The shell completions the build writes (dist/completion/): bash's is
 * sourced and its function called as bash calls it (COMP_WORDS,
 * COMP_CWORD); zsh's is syntax-checked by zsh when zsh is there, and its
 * content checked against the option table always. Every argument word of
 * every option is a value or a known placeholder (option-values.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/options.js';
import { buildServeProgram } from '../../src/cli/serve-options.js';
import { argumentShape, optionNames } from '../../src/docs/option-values.js';
import { visibleOptions } from '../../src/docs/options-section.js';

const COMPLETION = fileURLToPath(new URL('../../dist/completion/', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'outbox-completion-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
writeFileSync(join(home, '.msmtprc'), 'defaults\ntls on\n\naccount work\nhost smtp.work.example\n\n  account  lists : work\naccount default : work\n');
writeFileSync(join(home, 'config-one'), '');
writeFileSync(join(home, 'config-two'), '');

/** Calls _outbox with these words, the cursor on the last one; the replies, one per line. */
function complete(words: readonly string[]): string[] {
  const quoted = words.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const script = `source '${COMPLETION}outbox.bash'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _outbox; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: home, env: { PATH: process.env['PATH'], HOME: home, OUTBOX_SYSTEM_CONFIG: join(home, 'none') } });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('bash completion', () => {
  it('offers every option of the table, and no hidden one', () => {
    const offered = complete(['outbox', '-']);
    const expected = visibleOptions(buildProgram()).flatMap(optionNames);
    expect(offered.sort()).toEqual([...expected].sort());
    expect(offered).not.toContain('-A');
  });

  it('completes option names and the values of an option, split at "=" or not', () => {
    expect(complete(['outbox', '--prot'])).toEqual(['--protocol']);
    expect(complete(['outbox', '--protocol', ''])).toEqual(['smtp', 'lmtp']);
    expect(complete(['outbox', '--tls', '=', 'o'])).toEqual(['on', 'off']);
    expect(complete(['outbox', '--tls', '='])).toEqual(['on', 'off']);
    expect(complete(['outbox', '--tls=of'])).toEqual(['--tls=off']);
    expect(complete(['outbox', '--queue', 'on'])).toEqual(['on_failure']);
    expect(complete(['outbox', '--auth=scram-sha-2'])).toEqual(['--auth=scram-sha-256', '--auth=scram-sha-256-plus']);
  });

  it('an optional argument is never the next word: that word is a recipient or an option', () => {
    expect(complete(['outbox', '--tls', '--tls-s'])).toEqual(['--tls-starttls']);
    expect(complete(['outbox', '--tls', 'o'])).toEqual([]);
  });

  it('completes files, and account names from the configuration files', () => {
    expect(complete(['outbox', '-C', 'config-'])).toEqual(['config-one', 'config-two']);
    expect(complete(['outbox', '-a', ''])).toEqual(['work', 'lists', 'default']);
    expect(complete(['outbox', '--account=l'])).toEqual(['--account=lists']);
  });

  it('knows outbox serve and outboxd, whose options are the server\'s', () => {
    expect(complete(['outbox', 'se'])).toEqual(['serve']);
    expect(complete(['outbox', 'serve', '--ma']).sort()).toEqual(['--maildir', '--max-recipients', '--max-sessions', '--max-size']);
    expect(complete(['/usr/sbin/outboxd', '--lm'])).toEqual(['--lmtp']);
    expect(complete(['outboxd', '--log', 's'])).toEqual(['syslog']);
    expect(complete(['outboxd', '--log', ''])).toEqual(expect.arrayContaining(['none', 'syslog', 'config-one']));
    expect(complete(['outbox', '--lm'])).toEqual([]);
  });
});

describe('zsh completion', () => {
  const zsh = spawnSync('zsh', ['--version'], { encoding: 'utf8' });
  const script = () => readFileSync(`${COMPLETION}_outbox`, 'utf8');

  it('has a spec for every option name of both programs, with its values', () => {
    const text = script();
    expect(text.split('\n')[0]).toBe('#compdef outbox outboxd mailq');
    for (const program of [buildProgram(), buildServeProgram()]) {
      for (const option of visibleOptions(program)) {
        for (const name of optionNames(option)) expect(text, name).toMatch(new RegExp(`^ {4}'${name}[=+\\[]`, 'm'));
      }
    }
    expect(text).toContain("'--protocol=[the protocol to speak]:value:(smtp lmtp)'");
    expect(text).toContain("'--tls=-[enable/disable TLS]::value:(on off)'");
    expect(text).toContain("'-C+[the user configuration file]:value:_files'");
  });

  it.skipIf(zsh.status !== 0)('is valid zsh, and defines _outbox when autoloaded', () => {
    expect(spawnSync('zsh', ['-n', `${COMPLETION}_outbox`], { encoding: 'utf8' }).stderr).toBe('');
    const load = spawnSync('zsh', ['-f', '-c', `fpath=('${COMPLETION}' $fpath); autoload -U _outbox; whence -w _outbox`], { encoding: 'utf8' });
    expect(load.stdout.trim()).toBe('_outbox: function');
  });
});

describe('option arguments', () => {
  it('every word of every argument is a value or a known placeholder (decide new ones in option-values.ts)', () => {
    for (const program of [buildProgram(), buildServeProgram()]) {
      const unknown = visibleOptions(program).flatMap((option) => (argumentShape(option)?.unknown ?? []).map((word) => `${option.flags}: ${word}`));
      expect(unknown).toEqual([]);
    }
  });
});
