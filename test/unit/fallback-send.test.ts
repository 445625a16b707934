/**
 * The chain runner (cli/fallback-send.ts) without sockets: the order links
 * are tried in, what is reported, and the error after a fall-over (every
 * account named, the last one's code and reply, temporary when a retry may
 * still help).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../src/config/account.js';
import type { ReadyAccount } from '../../src/config/index.js';
import type { SessionOptions } from '../../src/delivery/session.js';
import { OutboxError } from '../../src/errors.js';
import { newChainReport, tryChain, type ChainLink } from '../../src/cli/fallback-send.js';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { timeoutsFor } from '../../src/smtp/timeouts.js';

const account = (name: string): ReadyAccount => ({ ...DEFAULT_SETTINGS, name, file: 'rc', line: 1, host: `${name}.example`, port: 25 });

function links(...names: string[]): ChainLink[] {
  return names.map((name) => ({
    account: account(name),
    auth: async () => undefined,
    session: async (): Promise<SessionOptions> => ({ host: `${name}.example`, port: 25, protocol: 'smtp', domain: 'localhost', timeouts: timeoutsFor('off') }),
  }));
}

const refused = () => new OutboxError('E_CONNECTION', 'cannot connect: Connection refused', { transient: true });
const noSuchHost = () => new OutboxError('E_HOST_NOT_FOUND', 'cannot locate: name or service not known');
const busy = () => new OutboxError('E_GREETING', 'refused the session: 421 busy', { transient: true, reply: { code: 421, lines: ['busy'] }, command: 'greeting' });

/** Plays one outcome per host: an error to throw, or a value to return. */
function play(outcomes: Record<string, OutboxError | string>, tried: string[]) {
  return async (session: SessionOptions): Promise<string> => {
    tried.push(session.host);
    const outcome = outcomes[session.host]!;
    if (outcome instanceof OutboxError) throw outcome;
    return outcome;
  };
}

async function thrown(run: Promise<unknown>): Promise<OutboxError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    return error as OutboxError;
  }
  throw new Error('nothing was thrown');
}

describe('tryChain', () => {
  it('tries the next account after a failure that falls over, and reports it', async () => {
    const tried: string[] = [];
    const report = newChainReport();
    const notes: string[] = [];
    const failure = refused();
    const result = await tryChain(links('a', 'b', 'c'), play({ 'a.example': failure, 'b.example': 'sent by b' }, tried), report, (line) => notes.push(line));
    expect(result).toBe('sent by b');
    expect(tried).toEqual(['a.example', 'b.example']);
    expect(report.account?.name).toBe('b');
    expect(report.failures).toEqual([{ account: 'a', error: failure }]);
    expect(notes).toEqual(['outbox: account a failed before the mail was accepted (cannot connect: Connection refused); falling back to account b']);
  });

  it('without a fall-over throws the failure itself, unchanged', async () => {
    const failure = refused();
    expect(await thrown(tryChain(links('a'), play({ 'a.example': failure }, []), newChainReport()))).toBe(failure);
    const permanent = new OutboxError('E_AUTH_FAILED', 'authentication failed: 535 no', { reply: { code: 535, lines: ['no'] } });
    const tried: string[] = [];
    expect(await thrown(tryChain(links('a', 'b'), play({ 'a.example': permanent }, tried), newChainReport()))).toBe(permanent);
    expect(tried).toEqual(['a.example']);
  });

  it('stops once MAIL was written, whatever the failure', async () => {
    const tried: string[] = [];
    const attempt = async (session: SessionOptions): Promise<string> => {
      tried.push(session.host);
      session.trace?.({ kind: 'command', command: { verb: 'MAIL', reversePath: 'a@example.com' }, line: 'MAIL FROM:<a@example.com>' });
      throw refused();
    };
    await thrown(tryChain(links('a', 'b'), attempt, newChainReport()));
    expect(tried).toEqual(['a.example']);
  });

  it('after a fall-over, names every account; code and reply are the last one\'s', async () => {
    const report = newChainReport();
    const last = busy();
    const error = await thrown(tryChain(links('a', 'b'), play({ 'a.example': refused(), 'b.example': last }, []), report));
    expect(error).toMatchObject({
      code: 'E_GREETING',
      transient: true,
      reply: last.reply,
      command: 'greeting',
      message: 'account a: cannot connect: Connection refused; account b: refused the session: 421 busy',
    });
    expect(report.lastError).toBe(last);
    expect(exitStatusFor(error)).toBe(75);
  });

  it('is temporary when the last account\'s name does not resolve but an earlier account failed temporarily', async () => {
    const error = await thrown(tryChain(links('a', 'b'), play({ 'a.example': refused(), 'b.example': noSuchHost() }, []), newChainReport()));
    expect(error).toMatchObject({ code: 'E_HOST_NOT_FOUND', transient: true });
    expect(exitStatusFor(error)).toBe(75);
    const never = await thrown(tryChain(links('a', 'b'), play({ 'a.example': noSuchHost(), 'b.example': noSuchHost() }, []), newChainReport()));
    expect(exitStatusFor(never)).toBe(68);
  });

  it('reports a fallback\'s own configuration error (its passwordeval) as it is, after naming the accounts before it', async () => {
    const [a, b] = links('a', 'b');
    const broken: ChainLink = { ...b!, auth: () => Promise.reject(new OutboxError('E_CONFIG', 'rc:9: passwordeval: the command failed with exit status 1')) };
    const error = await thrown(tryChain([a!, broken], play({ 'a.example': refused() }, []), newChainReport()));
    expect(error).toMatchObject({ code: 'E_CONFIG', transient: false, message: 'account a: cannot connect: Connection refused; account b: rc:9: passwordeval: the command failed with exit status 1' });
  });
});
