import { describe, expect, it } from 'vitest';
import { Capabilities } from '../../src/smtp/capabilities.js';
import { makeReply } from '../../src/smtp/reply.js';

describe('Capabilities', () => {
  const caps = Capabilities.fromEhloReply(makeReply(250, [
    'mx.example Hello client [127.0.0.1]', 'PIPELINING', 'size 35882577', '8BITMIME', 'AUTH LOGIN plain', 'AUTH=LOGIN PLAIN CRAM-MD5', 'DSN', 'ENHANCEDSTATUSCODES', 'XUNKNOWN a b',
  ]));

  it('reads keywords case-insensitively, with their parameters', () => {
    expect(caps.serverDomain).toBe('mx.example');
    expect(caps.greetingText).toBe('Hello client [127.0.0.1]');
    expect(caps.has('pipelining')).toBe(true);
    expect(caps.has('PIPE')).toBe(false); // exact keywords, not msmtp's prefix match
    expect(caps.maxSize).toBe(35882577);
    expect(caps.params('XUNKNOWN')).toEqual(['a', 'b']);
  });

  it('prefers the standard AUTH line over the old AUTH= form', () => {
    expect(caps.authMechanisms).toEqual(['LOGIN', 'PLAIN']);
    const old = Capabilities.fromEhloReply(makeReply(250, ['x', 'AUTH=LOGIN PLAIN']));
    expect(old.authMechanisms).toEqual(['LOGIN', 'PLAIN']);
  });

  it('treats SIZE without a number as no fixed limit and a malformed one as absent', () => {
    expect(Capabilities.fromEhloReply(makeReply(250, ['x', 'SIZE'])).maxSize).toBe(0);
    expect(Capabilities.fromEhloReply(makeReply(250, ['x', 'SIZE ten'])).maxSize).toBeUndefined();
    expect(Capabilities.fromEhloReply(makeReply(250, ['x'])).maxSize).toBeUndefined();
  });

  it('a HELO session has no extensions', () => {
    expect(Capabilities.none('old.example').has('PIPELINING')).toBe(false);
    expect(Capabilities.none().entries()).toEqual([]);
  });
});
