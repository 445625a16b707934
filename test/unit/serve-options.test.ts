import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { parseServeCommandLine, type ServeOptions } from '../../src/cli/serve-options.js';

function parse(...argv: string[]): ServeOptions {
  const outcome = parseServeCommandLine(argv);
  if (outcome.kind !== 'run') throw new Error('printed');
  return outcome.options;
}
function usage(...argv: string[]): string {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    expect((error as OutboxError).code).toBe('E_USAGE');
    return (error as Error).message;
  }
  throw new Error('no usage error');
}

describe('outbox serve options', () => {
  it("has msmtpd's defaults: 127.0.0.1, port 25, no log, 16 sessions, relay", () => {
    expect(parse()).toMatchObject({ interface: '127.0.0.1', port: 25, inetd: false, log: 'none', maxSessions: 16, backend: 'relay' });
  });

  it("takes msmtpd's options unchanged", () => {
    expect(parse('--interface=::1', '--port=2525', '--inetd', '--log=/tmp/x.log', '--command=msmtp -f %F --', '--auth=joe,pass show smtp')).toMatchObject({
      interface: '::1',
      port: 2525,
      inetd: true,
      log: '/tmp/x.log',
      backend: 'command',
      command: 'msmtp -f %F --',
      auth: { user: 'joe', passwordeval: 'pass show smtp' },
    });
    expect(parse('--auth=joe').auth).toEqual({ user: 'joe' });
  });

  it('chooses the backend; at most one of --command, --queue, --maildir, --account', () => {
    expect(parse('--queue').backend).toBe('queue');
    expect(parse('--maildir=/m').backend).toBe('maildir');
    expect(parse('--account=work')).toMatchObject({ backend: 'relay', account: 'work' });
    expect(usage('--queue', '--maildir=/m')).toBe('cannot use both --queue and --maildir');
    expect(usage('--command=x', '--account=a')).toBe('cannot use both --command and --account');
  });

  it('reads limits and timeouts', () => {
    expect(parse('--max-size=10M', '--max-recipients=5', '--idle-timeout=30', '--data-timeout=60', '--max-sessions=2', '--lmtp')).toMatchObject({
      maxSize: 10 * 1024 * 1024,
      maxRecipients: 5,
      idleTimeoutMs: 30_000,
      dataTimeoutMs: 60_000,
      maxSessions: 2,
      lmtp: true,
    });
    usage('--port=65536');
    usage('--max-size=lots');
  });

  it('wants TLS files in pairs, and implicit TLS only with them', () => {
    usage('--tls-cert-file=c.pem');
    usage('--tls-implicit');
    expect(parse('--tls-cert-file=c.pem', '--tls-key-file=k.pem', '--tls-implicit')).toMatchObject({ tlsImplicit: true });
  });

  it('wants an IP address for --interface', () => {
    expect(usage('--interface=localhost')).toContain('IP address');
  });
});

describe('outbox serve --help and --version', () => {
  it('print and stop', () => {
    expect(parseServeCommandLine(['--help'])).toMatchObject({ kind: 'printed', text: expect.stringContaining('--command <cmd>') });
    expect(parseServeCommandLine(['--version'])).toMatchObject({ kind: 'printed', text: expect.stringMatching(/^outbox serve version /) });
  });
});
