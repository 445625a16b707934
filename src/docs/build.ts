/**
 * The files the build makes from the program's tables (scripts/docs.mjs runs
 * this after tsc): the man pages package.json's `man` field installs, and
 * the shell completions. As data first, so tests can check the text without
 * a build; then written.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildProgram } from '../cli/options.js';
import { buildServeProgram } from '../cli/serve-options.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { outboxPage } from './outbox-page.js';
import { outboxrcPage } from './outboxrc-page.js';
import { renderPage } from './roff.js';
import { servePage } from './serve-page.js';

/** Path under dist/ → content. */
export function generatedFiles(): ReadonlyMap<string, string> {
  const program = buildProgram();
  const serve = buildServeProgram();
  return new Map([
    ['man/outbox.1', renderPage(outboxPage())],
    ['man/outbox-serve.1', renderPage(servePage())],
    ['man/outboxrc.5', renderPage(outboxrcPage())],
    ['completion/outbox.bash', bashCompletion(program, serve)],
    ['completion/_outbox', zshCompletion(program, serve)],
  ]);
}

/** Writes every generated file under `dist`, after removing the folders' old contents. */
export function writeGeneratedFiles(dist: string): void {
  const files = generatedFiles();
  for (const folder of new Set([...files.keys()].map((path) => path.split('/')[0]!))) rmSync(join(dist, folder), { recursive: true, force: true });
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dist, path)), { recursive: true });
    writeFileSync(join(dist, path), content);
  }
}
