// Bundles the CLI into dist/bundle/, which bin/outbox loads: outbox.mjs for
// parsing the command line, and chunks for what is loaded only when a mail is
// sent (dynamic imports), so --version and --help load no networking or
// configuration code and none of the Node built-ins they need. A few modules
// instead of ~50 (and commander's ESM wrapper) saves about 10 ms on every
// run, which matters for a program started once per mail.
// Type checking stays with tsc (npm run build runs it first).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names change with their content: start from an empty folder.
rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/bundle',
  entryNames: 'outbox',
  chunkNames: 'chunk-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'inline',
  minifyWhitespace: true,
  // commander is CommonJS and requires Node's built-ins; give it a real require.
  banner: { js: "import { createRequire as __outboxCreateRequire } from 'node:module';\nconst require = __outboxCreateRequire(import.meta.url);" },
  // Loaded from node_modules only in a non-UTF-8 locale (src/cli/locale-argv.ts).
  external: ['iconv-lite'],
  logLevel: 'warning',
});
