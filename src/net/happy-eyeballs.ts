/**
 * Happy Eyeballs (RFC 8305): connection attempts to a host's addresses, raced.
 *
 * The addresses are interleaved by family, IPv6 first (§4). The first attempt
 * starts at once; each next one starts when the Connection Attempt Delay
 * (250 ms, §5) has passed or as soon as an attempt fails, whichever comes
 * first. The first attempt to connect wins; every other one is cancelled, and
 * a socket that connects after the race is decided is destroyed. The whole
 * race is bounded by one timeout, after which everything still running is
 * cancelled. Nothing here knows about host names, DNS or error messages: the
 * caller (`connector.ts`) resolves and turns failures into `OutboxError`s.
 */
import { connect, type Socket } from 'node:net';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** RFC 8305 §5: the recommended Connection Attempt Delay. */
export const CONNECTION_ATTEMPT_DELAY_MS = 250;

export interface AttemptTarget extends ResolvedAddress {
  readonly port: number;
  /** Bind the outgoing socket to this local address first (msmtp's source_ip). */
  readonly localAddress?: string;
}

/**
 * One connection attempt: resolves with a connected socket, rejects with the
 * connect (or bind) error. When `signal` aborts, the attempt must destroy its
 * socket and settle (a rejection is ignored). Replaceable in tests.
 */
export type ConnectAttempt = (target: AttemptTarget, signal: AbortSignal) => Promise<Socket>;

export interface RaceOptions {
  readonly port: number;
  /** The whole race, from the first attempt to the last failure. */
  readonly timeoutMs: number;
  readonly localAddress?: string;
  readonly attempt?: ConnectAttempt;
  readonly attemptDelayMs?: number;
}

export interface RaceWinner {
  readonly socket: Socket;
  readonly address: ResolvedAddress;
}

export interface AttemptFailure {
  readonly address: ResolvedAddress;
  /** The attempt's error; an `ETIMEDOUT` error for attempts the overall timeout cut short. */
  readonly error: NodeJS.ErrnoException;
}

/** Every attempt failed, or the timeout ran out first. */
export class ConnectAttemptsFailed extends Error {
  readonly failures: readonly AttemptFailure[];
  /** True when the overall timeout ended the race. */
  readonly timedOut: boolean;
  /** Addresses the race never got to (the timeout came first). */
  readonly untried: readonly ResolvedAddress[];

  constructor(failures: readonly AttemptFailure[], timedOut: boolean, untried: readonly ResolvedAddress[]) {
    super(timedOut ? 'connection attempts timed out' : 'every connection attempt failed');
    this.name = 'ConnectAttemptsFailed';
    this.failures = failures;
    this.timedOut = timedOut;
    this.untried = untried;
  }
}

/**
 * RFC 8305 §4: duplicates dropped, families interleaved starting with IPv6,
 * each family keeping the resolver's order (getaddrinfo sorts by RFC 6724).
 */
export function sortAddresses(addresses: readonly ResolvedAddress[]): ResolvedAddress[] {
  const seen = new Set<string>();
  const v6: ResolvedAddress[] = [];
  const v4: ResolvedAddress[] = [];
  for (const entry of addresses) {
    if (seen.has(entry.address)) continue;
    seen.add(entry.address);
    (entry.family === 6 ? v6 : v4).push(entry);
  }
  const sorted: ResolvedAddress[] = [];
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    const six = v6[i];
    const four = v4[i];
    if (six) sorted.push(six);
    if (four) sorted.push(four);
  }
  return sorted;
}

/** The real attempt: `net.connect`, with TCP_NODELAY, destroyed on abort. */
export const tcpAttempt: ConnectAttempt = async (target, signal) => {
  if (signal.aborted) throw abortError();
  const socket = connect({
    host: target.address,
    port: target.port,
    family: target.family,
    noDelay: true,
    ...(target.localAddress === undefined ? {} : { localAddress: target.localAddress }),
  });
  return awaitConnect(socket, signal);
};

/**
 * Waits for a socket to connect: resolves with it, or destroys it and rejects
 * with its error, or with an AbortError when `signal` fires first.
 */
export function awaitConnect(socket: Socket, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve(socket);
      }
    };
    const onConnect = () => done();
    const onError = (error: Error) => done(error);
    const onAbort = () => done(abortError());
    if (signal.aborted) return onAbort();
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Races attempts to `addresses` (in the given order; see `sortAddresses`). */
export function raceConnections(addresses: readonly ResolvedAddress[], options: RaceOptions): Promise<RaceWinner> {
  const attempt = options.attempt ?? tcpAttempt;
  const delayMs = options.attemptDelayMs ?? CONNECTION_ATTEMPT_DELAY_MS;
  return new Promise((resolve, reject) => {
    const running = new Map<AbortController, ResolvedAddress>();
    const failures: AttemptFailure[] = [];
    let next = 0;
    let settled = false;
    let delayTimer: NodeJS.Timeout | undefined;

    const finish = (winner: RaceWinner | undefined, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(delayTimer);
      for (const [controller, address] of running) {
        if (timedOut) failures.push({ address, error: timeoutError() });
        controller.abort();
      }
      running.clear();
      if (winner) resolve(winner);
      else reject(new ConnectAttemptsFailed(failures, timedOut, addresses.slice(next)));
    };

    const startNext = () => {
      clearTimeout(delayTimer);
      delayTimer = undefined;
      const address = addresses[next];
      if (settled || !address) return;
      next += 1;
      if (next < addresses.length) delayTimer = setTimeout(startNext, delayMs);
      const controller = new AbortController();
      running.set(controller, address);
      const target: AttemptTarget = {
        address: address.address,
        family: address.family,
        port: options.port,
        ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      };
      new Promise<Socket>((started) => started(attempt(target, controller.signal))).then(
        (socket) => {
          running.delete(controller);
          // Connected after another attempt won, or after the timeout: not ours to keep.
          if (settled) socket.destroy();
          else finish({ socket, address }, false);
        },
        (error: unknown) => {
          running.delete(controller);
          if (settled) return;
          failures.push({ address, error: asErrno(error) });
          // One contender fewer: start the next one now rather than after the delay.
          if (next < addresses.length) startNext();
          else if (running.size === 0) finish(undefined, false);
        },
      );
    };

    const deadline = setTimeout(() => finish(undefined, true), Math.max(0, options.timeoutMs));
    if (addresses.length === 0) finish(undefined, false);
    else startNext();
  });
}

function abortError(): Error {
  return Object.assign(new Error('connection attempt cancelled'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function timeoutError(): NodeJS.ErrnoException {
  return Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' });
}

function asErrno(error: unknown): NodeJS.ErrnoException {
  return error instanceof Error ? error : new Error(String(error));
}
