import { describe, expect, it } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { cramMd5 } from '../../src/sasl/cram-md5.js';
import { external } from '../../src/sasl/external.js';
import { login } from '../../src/sasl/login.js';
import { plain } from '../../src/sasl/plain.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined): string => new TextDecoder().decode(data);
const b64 = (data: Uint8Array | undefined): string => Buffer.from(data ?? []).toString('base64');
const fromB64 = (data: string): Uint8Array => new Uint8Array(Buffer.from(data, 'base64'));

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxError);
    return (error as OutboxError).code;
  }
  return undefined;
}

describe('PLAIN (RFC 4616)', () => {
  it('reproduces the examples of RFC 4616 §4', () => {
    const tim = plain.start({ user: 'tim', secret: 'tanstaaftanstaaf' });
    expect(tim.complete).toBe(false);
    expect(text(tim.initialResponse())).toBe('\0tim\0tanstaaftanstaaf');
    expect(tim.complete).toBe(true);
    const kurt = plain.start({ user: 'Kurt', secret: 'xipj3plmq', authzid: 'Ursel' });
    expect(text(kurt.initialResponse())).toBe('Ursel\0Kurt\0xipj3plmq');
  });

  it('sends its message in answer to an empty first challenge when there was no initial response', () => {
    const session = plain.start({ user: 'tim', secret: 'tanstaaftanstaaf' });
    expect(text(session.respond(new Uint8Array(0)))).toBe('\0tim\0tanstaaftanstaaf');
    expect(session.complete).toBe(true);
    expect(codeOf(() => session.respond(new Uint8Array(0)))).toBe('E_PROTOCOL');
  });

  it('refuses a non-empty first challenge and any challenge after the initial response', () => {
    expect(codeOf(() => plain.start({ user: 'tim', secret: 'x' }).respond(bytes('hello')))).toBe('E_PROTOCOL');
    const session = plain.start({ user: 'tim', secret: 'x' });
    session.initialResponse();
    expect(codeOf(() => session.respond(bytes('more?')))).toBe('E_PROTOCOL');
  });

  it('encodes UTF-8', () => {
    expect([...plain.start({ user: 'jürgen', secret: 'ß' }).initialResponse() ?? []]).toEqual([0, 0x6a, 0xc3, 0xbc, 0x72, 0x67, 0x65, 0x6e, 0, 0xc3, 0x9f]);
  });

  it('needs a user and a password, and refuses a NUL without echoing the password', () => {
    expect(codeOf(() => plain.start({ user: '', secret: 'x' }))).toBe('E_NO_CREDENTIALS');
    expect(codeOf(() => plain.start({ user: 'tim' }))).toBe('E_NO_CREDENTIALS');
    expect(codeOf(() => plain.start({ user: 'tim', secret: '' }))).toBe('E_NO_CREDENTIALS');
    try {
      plain.start({ user: 'tim', secret: 'hunter2\0x' });
      expect.unreachable();
    } catch (error) {
      expect((error as OutboxError).code).toBe('E_CONFIG');
      expect((error as Error).message).not.toContain('hunter2');
    }
    expect(codeOf(() => plain.start({ user: 't\0m', secret: 'x' }))).toBe('E_CONFIG');
    expect(codeOf(() => plain.start({ user: 'tim', secret: 'x', authzid: 'a\0' }))).toBe('E_CONFIG');
  });

  it('finish() does nothing', () => {
    const session = plain.start({ user: 'tim', secret: 'x' });
    session.initialResponse();
    expect(() => session.finish()).not.toThrow();
  });
});

describe('LOGIN', () => {
  const credentials = { user: 'tim', secret: 'tanstaaftanstaaf' };

  it('has no initial response and answers "Username:" then "Password:"', () => {
    const session = login.start(credentials);
    expect(session.initialResponse()).toBeUndefined();
    expect(text(session.respond(fromB64('VXNlcm5hbWU6')))).toBe('tim');
    expect(session.complete).toBe(false);
    expect(text(session.respond(fromB64('UGFzc3dvcmQ6')))).toBe('tanstaaftanstaaf');
    expect(session.complete).toBe(true);
    expect(() => session.finish()).not.toThrow();
  });

  it('matches the prompts without regard to case and follows them when they come out of order', () => {
    const session = login.start(credentials);
    expect(text(session.respond(bytes('PASSWORD')))).toBe('tanstaaftanstaaf');
    const other = login.start(credentials);
    expect(text(other.respond(bytes('user name:')))).toBe('tim');
    expect(text(other.respond(bytes('password:')))).toBe('tanstaaftanstaaf');
  });

  it('answers other prompts by step order, user name first', () => {
    const session = login.start(credentials);
    expect(text(session.respond(bytes('Who are you?')))).toBe('tim');
    expect(text(session.respond(bytes('')))).toBe('tanstaaftanstaaf');
    expect(codeOf(() => session.respond(bytes('Username:')))).toBe('E_PROTOCOL');
  });

  it('needs a user and a password', () => {
    expect(codeOf(() => login.start({ user: '', secret: 'x' }))).toBe('E_NO_CREDENTIALS');
    expect(codeOf(() => login.start({ user: 'tim' }))).toBe('E_NO_CREDENTIALS');
  });
});

describe('CRAM-MD5 (RFC 2195)', () => {
  it('reproduces the example of RFC 2195 §2', () => {
    const session = cramMd5.start({ user: 'tim', secret: 'tanstaaftanstaaf' });
    expect(session.initialResponse()).toBeUndefined();
    const challenge = fromB64('PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+');
    expect(text(challenge)).toBe('<1896.697170952@postoffice.reston.mci.net>');
    const response = session.respond(challenge);
    expect(text(response)).toBe('tim b913a602c7eda7a495b4e6e7334d3890');
    expect(b64(response)).toBe('dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw');
    expect(session.complete).toBe(true);
  });

  it('refuses an empty challenge and a second one', () => {
    expect(codeOf(() => cramMd5.start({ user: 'tim', secret: 'x' }).respond(new Uint8Array(0)))).toBe('E_PROTOCOL');
    const session = cramMd5.start({ user: 'tim', secret: 'x' });
    session.respond(bytes('<1.2@x>'));
    expect(codeOf(() => session.respond(bytes('<1.2@x>')))).toBe('E_PROTOCOL');
  });

  it('needs a user and a password', () => {
    expect(codeOf(() => cramMd5.start({ user: 'tim' }))).toBe('E_NO_CREDENTIALS');
    expect(codeOf(() => cramMd5.start({ user: '', secret: 'x' }))).toBe('E_NO_CREDENTIALS');
  });
});

describe('EXTERNAL (RFC 4422 Appendix A)', () => {
  it('sends an empty initial response without an authorization identity', () => {
    const session = external.start({ user: '' });
    const initial = session.initialResponse();
    expect(initial).toBeDefined();
    expect(initial?.length).toBe(0);
    expect(session.complete).toBe(true);
    expect(external.needsSecret).toBe(false);
  });

  it('sends the authorization identity when there is one', () => {
    expect(text(external.start({ user: '', authzid: 'postmaster@example.org' }).initialResponse())).toBe('postmaster@example.org');
  });

  it('answers an empty first challenge when no initial response was sent, and nothing after', () => {
    const session = external.start({ user: '', authzid: 'a' });
    expect(text(session.respond(new Uint8Array(0)))).toBe('a');
    expect(codeOf(() => session.respond(new Uint8Array(0)))).toBe('E_PROTOCOL');
  });
});
