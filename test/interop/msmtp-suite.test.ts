/**
 * msmtp's own test suite (tests/*.sh of msmtp 1.8.27 and later) with outbox
 * in msmtp's place and Debian's msmtpd as the server. The tests come from
 * Debian's msmtp source package, fetched at test time by msmtp-suite.sh; they
 * are run as they are, one case per script: exit 0 passes, 77 is msmtp's
 * "skipped", anything else fails with the script's trace.
 *
 * The scripts start msmtpd on [::1] at fixed ports (12345, 12346) and stop it
 * by PID in their EXIT trap; msmtp-suite-run.ts runs each in a session of its
 * own and ends what is left of it by its process group. serve.test.ts runs
 * the same scripts with outbox serve in msmtpd's place.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interopSetup } from './helpers.js';
import { prepareSuite, runSuiteScript, suiteScripts, whatTheServerGot } from './msmtp-suite-run.js';

const setup = interopSetup();
const SUITE = join(setup.dir, 'msmtp-suite');

// Fetching takes seconds, so it happens once, while the file is collected.
const prepared = prepareSuite(SUITE);
const scripts = 'ready' in prepared ? suiteScripts(SUITE) : [];

describe(`msmtp's own tests: ${'ready' in prepared ? prepared.ready : 'not available'}`, () => {
  if ('error' in prepared) {
    it('fetches msmtp\'s test suite from Debian\'s archive', () => {
      expect.fail(prepared.error);
    });
    return;
  }

  it('has tests to run', () => {
    expect(scripts.length).toBeGreaterThan(0);
  });

  for (const name of scripts) {
    it(name, async (context) => {
      const result = await runSuiteScript(SUITE, name);
      if (result.status === 77) context.skip(`msmtp's test skipped itself (exit 77): ${result.output.trim().split('\n').at(-1)}`);
      expect(result.status, `${name} exited ${result.status}; its trace:\n${result.output}${whatTheServerGot(SUITE, name)}`).toBe(0);
    });
  }
});
