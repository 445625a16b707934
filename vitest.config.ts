import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    exclude: ['test/interop/**'],
    // A test that makes no assertion fails (as if each began with expect.hasAssertions()).
    expect: { requireAssertions: true },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // End-to-end tests spawn the built CLI; two cores, so keep parallelism modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
