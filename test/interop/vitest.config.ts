/**
 * The interop suite's own vitest configuration (the root one excludes
 * test/interop/**): run by test/interop/run.sh once the servers are up.
 * Files run one after another: they share one Postfix and one Dovecot, and
 * the machine has two cores.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/interop/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
