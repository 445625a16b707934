/**
 * Settings that later versions implement. A mail is never sent with less
 * than was asked for: an account that wants them is refused (exit 69, as
 * msmtp when support is not compiled in).
 */
import type { ReadyAccount } from '../config/index.js';
import { OutboxError } from '../errors.js';

export function refuseUnsupported(account: ReadyAccount): void {
  const missing = [
    account.socket !== null && 'unix sockets (socket)',
    account.proxy_host !== null && 'SOCKS proxies (proxy_host)',
    account.source_ip !== null && 'a source address (source_ip)',
  ].filter((item): item is string => typeof item === 'string');
  if (missing.length > 0) {
    throw new OutboxError('E_CAPABILITY', `account ${account.name} asks for ${missing.join(', ')}, which this version of outbox does not support yet; nothing was sent`);
  }
}
