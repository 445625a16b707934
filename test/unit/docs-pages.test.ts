/**
 * The man pages cannot leave anything out: every configuration command,
 * every option (hidden sendmail ones too), every exit status and every
 * environment variable the code reads has its text. When one of these
 * fails after a merge, add the missing description where the message says.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as exitStatus from '../../src/cli/exit-status.js';
import { buildProgram } from '../../src/cli/options.js';
import { buildServeProgram } from '../../src/cli/serve-options.js';
import { COMMAND_DOCS } from '../../src/config/command-docs.js';
import { COMMANDS } from '../../src/config/commands.js';
import { generatedFiles } from '../../src/docs/build.js';
import { visibleOptions } from '../../src/docs/options-section.js';
import { ENVIRONMENT, EXIT_STATUSES, IGNORED_OPTIONS, INTERNAL_VARIABLES } from '../../src/docs/outbox-text.js';
import { escapeRoff, roffToText } from '../../src/docs/roff.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Commands described before their code lands (issues 15 and 16); anything else documented must exist. */
const UPCOMING = [
  'mda', 'local_domains', 'force_mda', 'eightbit', 'fallback_account', 'route',
  'oauth2_provider', 'oauth2_client_id', 'oauth2_client_secret', 'oauth2_client_secret_eval',
  'oauth2_auth_endpoint', 'oauth2_token_endpoint', 'oauth2_device_endpoint', 'oauth2_scope',
];

describe('outboxrc(5): the configuration commands', () => {
  it('describes every command of the COMMANDS table (add the missing ones to src/config/command-docs.ts)', () => {
    const undocumented = Object.keys(COMMANDS).filter((command) => !Object.hasOwn(COMMAND_DOCS, command) || COMMAND_DOCS[command]!.text.trim() === '');
    expect(undocumented).toEqual([]);
  });

  it('describes no command that does not exist, but for the ones issues 15 and 16 add', () => {
    const unknown = Object.keys(COMMAND_DOCS).filter((command) => !Object.hasOwn(COMMANDS, command) && !UPCOMING.includes(command));
    expect(unknown).toEqual([]);
  });

  it('shows the commands that exist, each once, and none that does not', () => {
    const page = generatedFiles().get('man/outboxrc.5')!;
    const terms = page.split('\n').filter((_, i, lines) => lines[i - 1] === '.TP').map((line) => roffToText(line).split(' ')[0]);
    expect([...terms].sort()).toEqual(Object.keys(COMMANDS).sort());
  });
});

describe('outbox(1) and outbox-serve(1): options, statuses, environment', () => {
  it('every option --help shows has a description, in both programs', () => {
    for (const program of [buildProgram(), buildServeProgram()]) {
      const bare = visibleOptions(program).filter((option) => option.description.trim() === '').map((option) => option.flags);
      expect(bare, program.name()).toEqual([]);
    }
  });

  it('every hidden sendmail option has its text in src/docs/outbox-text.ts, and that table names only hidden options', () => {
    const hidden = buildProgram().options.filter((option) => option.hidden).map((option) => option.short ?? option.flags);
    expect(hidden.filter((flag) => !Object.hasOwn(IGNORED_OPTIONS, flag))).toEqual([]);
    expect(Object.keys(IGNORED_OPTIONS).filter((flag) => !hidden.includes(flag))).toEqual([]);
  });

  it('every exit status of src/cli/exit-status.ts is described, and no other', () => {
    const statuses = Object.entries(exitStatus).filter(([name, value]) => name.startsWith('EX_') && typeof value === 'number').map(([, value]) => value as number);
    expect(Object.keys(EXIT_STATUSES).map(Number).sort()).toEqual([...new Set(statuses)].sort());
  });

  it('every environment variable src/ reads is described (or is the build\'s own)', () => {
    const read = new Set<string>(['OUTBOX_SYSTEM_CONFIG']); // read through the SYSTEM_CONFIG_VARIABLE constant
    for (const file of readdirSync(SRC, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      for (const match of readFileSync(join(SRC, file), 'utf8').matchAll(/env\??\.?\[['"]([A-Z][A-Z0-9_]*)['"]\]/g)) read.add(match[1]!);
    }
    const described = Object.keys(ENVIRONMENT).flatMap((names) => names.split(', '));
    expect([...read].filter((name) => !described.includes(name) && !INTERNAL_VARIABLES.includes(name))).toEqual([]);
    expect(read.size).toBeGreaterThan(10);
  });

  it("names in its synopsis every subcommand main.ts dispatches (outbox serve, and those to come)", () => {
    const main = readFileSync(join(SRC, 'cli/main.ts'), 'utf8');
    const subcommands = [...main.matchAll(/argv\[0\] === '([a-z0-9-]+)'/g)].map((match) => match[1]!);
    expect(subcommands).toContain('serve');
    const synopsis = roffToText(generatedFiles().get('man/outbox.1')!.split('.SH "DESCRIPTION"')[0]!);
    expect(subcommands.filter((name) => !synopsis.includes(`\noutbox ${name} `))).toEqual([]);
  });

  it('every tagged paragraph of every page has text', () => {
    for (const [path, content] of generatedFiles()) {
      if (!path.startsWith('man/')) continue;
      const lines = content.split('\n');
      const empty = lines.flatMap((line, i) => (line === '.TP' && (lines[i + 2] ?? '').trim() === '' ? [roffToText(lines[i + 1]!)] : []));
      expect(empty, path).toEqual([]);
    }
  });
});

describe('roff', () => {
  it('escapes backslashes, hyphens and leading control characters, and reads them back', () => {
    for (const text of ['--tls-trust-file', '.hidden', "'quoted", 'a\\b', 'C:\\-x', 'x.y']) {
      expect(escapeRoff(text)).not.toMatch(/^[.']/);
      expect(roffToText(escapeRoff(text))).toBe(text);
    }
    expect(escapeRoff('--port')).toBe('\\-\\-port');
  });
});
