/**
 * One empty HOME for every CLI run of the test suite (the CLI must read no
 * configuration of the machine it runs on), removed when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const home = mkdtempSync(join(tmpdir(), 'outbox-home-'));
  process.env['OUTBOX_TEST_HOME'] = home;
  return () => rmSync(home, { recursive: true, force: true });
}
