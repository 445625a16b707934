/**
 * SMTP AUTH (RFC 4954): choose the mechanism as msmtp does, then run the 334
 * loop. The SASL mechanisms themselves (src/sasl/) see only bytes; base64,
 * the cap on the number of challenges and the `*` abort live here, once.
 * Nothing secret is put into an error message or the transcript (the
 * transcript hook redacts AUTH and SASL lines).
 */
import { OutboxError, describeReply, isTransientReply } from '../errors.js';
import { chooseMechanism } from '../sasl/choose.js';
import type { SaslSession } from '../sasl/mechanism.js';
import { findMechanism } from '../sasl/registry.js';
import type { Command } from '../smtp/command.js';
import type { Reply } from '../smtp/reply.js';
import type { Session } from './session.js';

export interface AuthSetup {
  /** msmtp's `auth`: `on` (choose) or a method in msmtp's lower case, e.g. `scram-sha-256`. */
  readonly requested: string;
  readonly user: string | null;
  /**
   * The password or token, looked up before connecting (as msmtp does) when
   * the account's `auth` will need one; `undefined` otherwise or when no
   * source has one. Never a callback: nothing may run a command or prompt
   * while the server's idle timer counts.
   */
  readonly secret: string | undefined;
  readonly hasClientCertificate: boolean;
  readonly host: string;
  readonly port: number;
  /** The secret is an OAuth2 access token from outbox's store (`oauth2_provider`): `auth on` chooses OAUTHBEARER or XOAUTH2. */
  readonly bearer?: boolean | undefined;
  /**
   * A fresh access token, asked for at most once per session when the server
   * refuses ours as expired or invalid inside the SASL exchange; AUTH is then
   * tried again on the same connection. An HTTPS request to the token
   * endpoint, bounded in time: nothing interactive.
   */
  readonly refreshSecret?: (() => Promise<string>) | undefined;
}

/** More challenges than any mechanism needs means a confused or hostile server. */
const MAX_CHALLENGES = 10;

/** AUTH, ready to send: its command, and whether the mechanism is done once it is sent. */
export interface PreparedAuth {
  readonly sasl: SaslSession;
  readonly command: Command;
  /** The initial response is the whole exchange (PLAIN, EXTERNAL, XOAUTH2…): AUTH may lead a pipelined group. */
  readonly oneRoundTrip: boolean;
}

export async function prepareAuthentication(session: Session, setup: AuthSetup): Promise<PreparedAuth> {
  const sasl = await startMechanism(session, setup);
  const initial = sasl.initialResponse();
  const command: Command = {
    verb: 'AUTH',
    mechanism: sasl.mechanism,
    ...(initial === undefined ? {} : { initialResponse: initial.length === 0 ? '=' : base64(initial) }),
  };
  return { sasl, command, oneRoundTrip: initial !== undefined && sasl.complete };
}

/**
 * AUTH on its own (not pipelined), and once more with a refreshed token when
 * the server says ours expired (see `tokenRejected`) and `refreshSecret` can
 * get a new one. Returns the exchange that succeeded.
 */
export async function authenticateWithRefresh(session: Session, setup: AuthSetup, prepared?: PreparedAuth): Promise<PreparedAuth> {
  const first = prepared ?? (await prepareAuthentication(session, setup));
  try {
    await authenticate(session, first);
    return first;
  } catch (error) {
    if (setup.refreshSecret === undefined || !tokenRejected(first.sasl, error)) throw error;
    const secret = await setup.refreshSecret();
    const again = await prepareAuthentication(session, { ...setup, secret, refreshSecret: undefined });
    await authenticate(session, again);
    return again;
  }
}

/**
 * The server refused the bearer token itself, which a refresh may cure:
 * the JSON error of XOAUTH2 (`"status":"401"`, Google's documented answer)
 * or of OAUTHBEARER (RFC 7628 §3.2.2, `"status":"invalid_token"`), followed
 * by a permanent failure. Any other refusal (a 4xx, a wrong user) is not
 * retried: a new token would not change it.
 */
export function tokenRejected(sasl: SaslSession, error: unknown): boolean {
  if (!(error instanceof OutboxError) || error.code !== 'E_AUTH_FAILED' || error.transient) return false;
  if (sasl.mechanism !== 'XOAUTH2' && sasl.mechanism !== 'OAUTHBEARER') return false;
  if (sasl.serverError === undefined) return false;
  try {
    const status = (JSON.parse(sasl.serverError) as { status?: unknown }).status;
    return status === '401' || status === 401 || status === 'invalid_token';
  } catch {
    return false;
  }
}

/** The whole exchange, AUTH first, then the 334 loop. */
export async function authenticate(session: Session, prepared: PreparedAuth): Promise<void> {
  await finishAuthentication(session, prepared.sasl, await session.connection.command(prepared.command));
}

/**
 * The reply to an AUTH that led a pipelined group (RFC 4954 §4). A 334 is a
 * failure too: XOAUTH2 and OAUTHBEARER report a refused token as a challenge
 * (JSON) and wait for a response; the server then took our MAIL line as that
 * response and answered it (535), so each command still has its one reply and
 * the group stays in step. The reply after the challenge is the one reported.
 */
export function checkPipelinedAuthReply(prepared: PreparedAuth, reply: Reply, after: readonly Reply[]): void {
  if (reply.code === 235) {
    prepared.sasl.finish();
    return;
  }
  if (reply.code !== 334) throw authFailure(prepared.sasl, reply);
  const response = answer(prepared.sasl, reply); // records the server's error text, if the mechanism has one
  const outcome = after[0];
  if (response instanceof OutboxError || !outcome) {
    throw new OutboxError('E_PROTOCOL', `AUTH ${prepared.sasl.mechanism} in a pipelined group was answered with a challenge: ${describeReply(reply)}`);
  }
  throw authFailure(prepared.sasl, outcome.code === 235 ? reply : outcome);
}

async function finishAuthentication(session: Session, sasl: SaslSession, first: Reply): Promise<void> {
  let reply = first;
  for (let step = 0; reply.code === 334; step++) {
    if (step >= MAX_CHALLENGES) throw await cancel(session, `the server sent more than ${MAX_CHALLENGES} AUTH challenges`);
    const response = answer(sasl, reply);
    if (response instanceof OutboxError) throw await cancel(session, response.message);
    reply = await session.connection.command({ verb: 'SASL', response: base64(response) });
  }
  if (reply.code !== 235) throw authFailure(sasl, reply);
  sasl.finish();
}

async function startMechanism(session: Session, setup: AuthSetup): Promise<SaslSession> {
  const offered = session.capabilities.authMechanisms;
  if (!session.capabilities.has('AUTH')) {
    throw new OutboxError('E_CAPABILITY', 'the server does not offer authentication (AUTH), but the account asks for it');
  }
  const channelBinding = session.connection.transport.channelBinding?.();
  const choice = chooseMechanism(offered, {
    tls: session.tls !== undefined,
    channelBinding: channelBinding !== undefined,
    requested: setup.requested,
    hasClientCertificate: setup.hasClientCertificate,
    ...(setup.bearer ? { bearer: true } : {}),
  });
  if ('error' in choice) throw new OutboxError(choice.code, choice.error);
  // With channel binding available but no -PLUS offered, SCRAM says so ("y,,"): a
  // man in the middle who stripped the -PLUS mechanisms is then detected. When
  // -PLUS is offered and not used (asked for by name), "y" would be refused
  // (RFC 5802 §6), so it is "n".
  const plusOffered = offered.some((m) => m.endsWith('-PLUS'));
  const factory = findMechanism(choice.mechanism, { clientSupportsChannelBinding: channelBinding !== undefined && !plusOffered });
  if (!factory) throw new OutboxError('E_NOT_SUPPORTED', `authentication method ${choice.mechanism} is not supported`);
  const user = setup.user ?? '';
  if (user === '' && choice.mechanism !== 'EXTERNAL') {
    throw new OutboxError('E_NO_CREDENTIALS', `authentication with ${choice.mechanism} needs a user name (user)`);
  }
  const secret = factory.needsSecret ? setup.secret : undefined;
  if (factory.needsSecret && (secret === undefined || secret === '')) {
    throw new OutboxError('E_NO_CREDENTIALS', `authentication with ${choice.mechanism} needs a password, and none was found (password, passwordeval, keyring, netrc)`);
  }
  return factory.start({
    user,
    ...(secret !== undefined ? { secret } : {}),
    host: setup.host,
    port: setup.port,
    ...(channelBinding ? { channelBinding } : {}),
  });
}

function answer(sasl: SaslSession, reply: Reply): Uint8Array | OutboxError {
  const text = reply.lines[0]?.trim() ?? '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return new OutboxError('E_PROTOCOL', 'the server sent an AUTH challenge that is not base64');
  try {
    return sasl.respond(Buffer.from(text, 'base64'));
  } catch (error) {
    if (error instanceof OutboxError) return error;
    throw error;
  }
}

/** RFC 4954 §4: "*" cancels the exchange; the server answers 501. */
async function cancel(session: Session, why: string): Promise<OutboxError> {
  try {
    await session.connection.command({ verb: 'SASL', response: '*' });
  } catch {
    // The exchange is abandoned either way.
  }
  return new OutboxError('E_PROTOCOL', `authentication abandoned: ${why}`);
}

function authFailure(sasl: SaslSession, reply: Reply): OutboxError {
  const detail = sasl.serverError ? ` (${sasl.serverError})` : '';
  return new OutboxError('E_AUTH_FAILED', `authentication with ${sasl.mechanism} failed: ${describeReply(reply)}${detail}`, {
    transient: isTransientReply(reply),
    reply,
    command: `AUTH ${sasl.mechanism}`,
  });
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}
