/**
 * msmtp's `socket PATH` (`--socket`): a unix-domain socket instead of TCP,
 * e.g. a local MTA's submission socket. It overrides host, port and proxy.
 * Every failure to connect is transient (75): a socket that is missing or not
 * accepting is usually a local server that is restarting.
 */
import { connect, type Socket } from 'node:net';
import { OutboxError } from '../errors.js';
import { awaitConnect } from './happy-eyeballs.js';

/** `sun_path` holds 108 bytes on Linux (104 on the BSDs and macOS), the terminating NUL included. */
const MAX_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** How the connection names itself in messages and `--serverinfo`. */
export function unixSocketPeer(path: string): string {
  return `socket ${path}`;
}

/** Connects to the unix-domain socket at `path` within `timeoutMs`. */
export function connectUnixSocket(path: string, timeoutMs: number): Promise<Socket> {
  if (path === '') {
    return Promise.reject(new OutboxError('E_CONFIG', 'socket: the path is empty'));
  }
  const length = Buffer.byteLength(path);
  if (length > MAX_PATH_BYTES) {
    // The kernel would silently cut it short (and we would report "no such file" for a path nobody wrote).
    return Promise.reject(new OutboxError('E_CONFIG', `cannot connect to ${path}: the path is ${length} bytes long; unix-domain socket paths hold at most ${MAX_PATH_BYTES}`));
  }
  const deadline = AbortSignal.timeout(Math.max(0, timeoutMs));
  return awaitConnect(connect({ path }), deadline).catch((error: NodeJS.ErrnoException) => {
    if (deadline.aborted) throw new OutboxError('E_TIMEOUT', `cannot connect to ${path}: timed out after ${timeoutMs / 1000} s`, { transient: true });
    throw unixConnectError(path, error);
  });
}

function unixConnectError(path: string, error: NodeJS.ErrnoException): OutboxError {
  return new OutboxError('E_CONNECTION', `cannot connect to ${path}: ${reason(error)}`, { transient: true, cause: error });
}

function reason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT': return 'no such file or directory (is the server running?)';
    case 'ECONNREFUSED': return 'connection refused (nothing is listening on this socket)';
    case 'EACCES': return 'permission denied';
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'EAGAIN': return 'the server is not accepting connections (its backlog is full)';
    default: return error.message;
  }
}
