import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli/options.js';

describe("sendmail's -d (msmtp: an optional argument in the same word)", () => {
  it('-d0.1 prints the version, whatever else is asked (sendmail -d0.1 -bt < /dev/null probes the MTA)', () => {
    for (const argv of [['-d0.1'], ['-d0.1', '-bt'], ['-bt', '-d0.1'], ['-v0.1', 'r@example.net']]) {
      const outcome = parseCommandLine(argv);
      expect(outcome, argv.join(' ')).toEqual({ kind: 'version', request: {} });
    }
  });

  it('any other argument of -d or -v is debug, as in msmtp: the rest of the word is not more flags', () => {
    for (const argv of [['-d2', 'r@example.net'], ['-dt', 'r@example.net'], ['-v3', 'r@example.net']]) {
      const outcome = parseCommandLine(argv);
      expect(outcome.kind, argv.join(' ')).toBe('run');
      if (outcome.kind === 'run') {
        expect(outcome.options.debug).toBe(true);
        expect(outcome.options.readRecipients).toBe(false);
        expect(outcome.options.recipients).toEqual(['r@example.net']);
      }
    }
  });

  it('after -- a word like -d0.1 is a recipient', () => {
    const outcome = parseCommandLine(['--', '-d0.1']);
    expect(outcome.kind).toBe('run');
  });
});

// eightbit (issue 15)
describe("sendmail's -B (the caller's body type)", () => {
  const run = (argv: string[]) => {
    const outcome = parseCommandLine(argv);
    if (outcome.kind !== 'run') throw new Error('printed');
    return outcome.options;
  };
  it('reads 7BIT and 8BITMIME in any case, and the --eightbit option as the eightbit command', () => {
    expect(run(['-B', '8bitmime', 'a@b']).bodyType).toBe('8BITMIME');
    expect(run(['-B7BIT', 'a@b']).bodyType).toBe('7BIT');
    expect(run(['a@b']).bodyType).toBeUndefined();
    expect(run(['--eightbit=refuse', 'a@b']).settings).toEqual([{ command: 'eightbit', argument: 'refuse', option: '--eightbit' }]);
  });
  it('refuses another body type', () => {
    expect(() => parseCommandLine(['-B', 'BINARYMIME', 'a@b'])).toThrow(/7BIT or 8BITMIME/);
  });
});
