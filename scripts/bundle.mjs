// Bundles the CLI into one CommonJS file, dist/bundle/outbox.cjs, and writes
// the V8 code cache bin/outbox loads with it (dist/bundle/outbox.cache).
// Why one CommonJS file and not ES module chunks: Node 20 keeps no code cache
// for ES modules, and its ES module loader alone costs a few milliseconds on
// every run. Modules that only some modes need (pretend, serverinfo, the
// queue, ...) are dynamic imports, which esbuild turns into functions that
// run the module's body on first use, so --version and a plain send do not
// execute them. Type checking stays with tsc (npm run build runs it first).
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { writeCodeCache } from './code-cache.mjs';

rmSync('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/bundle/outbox.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'ascii', // bin/outbox reads the file as latin1: no UTF-8 decoding
  legalComments: 'inline',
  minifyWhitespace: true,
  // Loaded from node_modules only in a non-UTF-8 locale (src/cli/locale-argv.ts).
  external: ['iconv-lite'],
  // ... through require(): bin/outbox runs the bundle with vm.Script, which has no import().
  supported: { 'dynamic-import': false },
  logLevel: 'warning',
});

await writeCodeCache();
