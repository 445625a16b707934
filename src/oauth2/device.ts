/**
 * The device authorization grant (RFC 8628), for a machine without a
 * browser: ask the device endpoint for a user code (§3.1–3.2), tell the user
 * where to enter it, then poll the token endpoint (§3.4–3.5) at the
 * `interval` the server asked for (5 s when it did not say), 5 s slower
 * after each `slow_down`, until a token, a refusal, or the code's
 * `expires_in` runs out. The loop is bounded both by that time and by a
 * number of polls.
 */
import { OutboxError } from '../errors.js';
import type { OAuth2Client } from './client.js';
import { OAuth2ErrorResponse, clientParameters, grantError, postForJson, tokenRecordFrom, type Post } from './token-endpoint.js';
import type { TokenRecord } from './token-record.js';

export const DEVICE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: the interval when the server gives none; §3.5: what slow_down adds. */
const DEFAULT_INTERVAL_S = 5;
const SLOW_DOWN_S = 5;
/** A code valid longer than this is not waited for (a confused server). */
const MAX_EXPIRES_S = 30 * 60;
/** Polls at most this many times, whatever the times say. */
const MAX_POLLS = 400;

export interface DeviceAuthorization {
  readonly deviceCode: string;
  readonly userCode: string;
  readonly verificationUri: string;
  readonly verificationUriComplete: string | undefined;
  readonly expiresInS: number;
  readonly intervalS: number;
}

export interface DeviceDeps {
  readonly post: Post;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** RFC 8628 §3.1. */
export async function requestDeviceCode(client: OAuth2Client, post: Post): Promise<DeviceAuthorization> {
  if (client.deviceEndpoint === undefined) throw new OutboxError('E_CONFIG', `account ${client.account}: no oauth2_device_endpoint for the device grant`);
  let json: Record<string, unknown>;
  try {
    json = await postForJson(post, client.deviceEndpoint, { ...clientParameters(client), scope: client.scope });
  } catch (error) {
    throw grantError(client, error);
  }
  // Google calls it verification_url; RFC 8628 verification_uri.
  const uri = json['verification_uri'] ?? json['verification_url'];
  const { device_code: deviceCode, user_code: userCode } = json;
  if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof uri !== 'string') {
    throw new OutboxError('E_PROTOCOL', 'the device authorization answer lacks device_code, user_code or verification_uri');
  }
  const expires = Number(json['expires_in']);
  const interval = json['interval'] === undefined ? DEFAULT_INTERVAL_S : Number(json['interval']);
  return {
    deviceCode,
    userCode: userCode.replace(/[\u0000-\u001f\u007f]/g, '?'),
    verificationUri: uri.replace(/[\u0000-\u0020\u007f]/g, ''),
    verificationUriComplete: typeof json['verification_uri_complete'] === 'string' ? json['verification_uri_complete'] : undefined,
    expiresInS: Number.isFinite(expires) && expires > 0 ? Math.min(expires, MAX_EXPIRES_S) : MAX_EXPIRES_S,
    intervalS: Number.isFinite(interval) && interval >= 1 ? interval : DEFAULT_INTERVAL_S,
  };
}

/** RFC 8628 §3.4–3.5: polls until the user has approved (the tokens), refused, or the code expired. */
export async function pollForToken(client: OAuth2Client, device: DeviceAuthorization, deps: DeviceDeps): Promise<TokenRecord> {
  const deadline = deps.now() + device.expiresInS * 1000;
  let interval = device.intervalS;
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    await deps.sleep(interval * 1000);
    if (deps.now() > deadline) break;
    const form = { grant_type: DEVICE_GRANT_TYPE, device_code: device.deviceCode, ...clientParameters(client) };
    try {
      return tokenRecordFrom(client, await postForJson(deps.post, client.tokenEndpoint, form), deps.now());
    } catch (error) {
      if (!(error instanceof OAuth2ErrorResponse)) throw error;
      if (error.error === 'authorization_pending') continue;
      if (error.error === 'slow_down') {
        interval += SLOW_DOWN_S;
        continue;
      }
      if (error.error === 'access_denied') throw new OutboxError('E_AUTH_FAILED', 'the authorisation was refused (access_denied); nothing was stored');
      if (error.error === 'expired_token') break;
      throw grantError(client, error);
    }
  }
  throw new OutboxError('E_AUTH_FAILED', 'the device code expired before the authorisation was given; nothing was stored');
}
