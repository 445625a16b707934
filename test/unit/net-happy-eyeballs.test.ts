/**
 * Connecting over TCP: the order of attempts (RFC 8305 §4), the staggered
 * race (§5) with its 250 ms Connection Attempt Delay, the most telling error
 * when everything fails, IPv6 literals, and the source address. Real loopback
 * sockets; a "black hole" (an address that never answers) is an injected
 * attempt that waits until it is cancelled, since loopback answers at once.
 * Where the delay or a timeout matters, a fake clock (setTimeout and Date)
 * drives it, so what is asserted is which attempt started at which moment of
 * that clock, never how long anything took on this machine.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OutboxError } from '../../src/errors.js';
import { connectTcp, createConnector, type ResolvedAddress } from '../../src/net/connector.js';
import {
  CONNECTION_ATTEMPT_DELAY_MS, ConnectAttemptsFailed, raceConnections, sortAddresses, tcpAttempt,
  type AttemptTarget, type ConnectAttempt,
} from '../../src/net/happy-eyeballs.js';
import type { Transport } from '../../src/transport.js';
import { expectNoOpenHandles } from '../helpers/certs.js';

/** Whether this machine can listen on ::1 (a container may have IPv6 disabled). */
async function ipv6Usable(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
const IPV6 = await ipv6Usable();
const IPV6_SKIP = IPV6 ? '' : ' (skipped: ::1 is not usable on this machine, IPv6 is disabled)';

interface TestServer {
  readonly port: number;
  readonly accepted: Socket[];
  readonly closed: Promise<void>[];
}

const servers: Server[] = [];
const accepted: Socket[] = [];
const transports: Transport[] = [];
/** Client sockets a test holds outside a transport; destroyed here too, so a failed test leaves none to the next. */
const clientSockets: Socket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const transport of transports.splice(0)) transport.destroy();
  for (const socket of clientSockets.splice(0)) socket.destroy();
  for (const socket of accepted.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  // Every client socket, the losers' included, is closed by now.
  await expectNoOpenHandles();
});

/** A server on `host` that says which address the client came from, and how it got here. */
async function listen(host = '127.0.0.1', port = 0): Promise<TestServer> {
  const mine: Socket[] = [];
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    mine.push(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.on('error', () => {});
    socket.end(`220 ${socket.remoteAddress} -> ${socket.localAddress}\r\n`);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, accepted: mine, closed };
}

async function failure(promise: Promise<unknown>): Promise<OutboxError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OutboxError);
  return error as OutboxError;
}

async function firstLine(transport: Transport): Promise<string> {
  transports.push(transport);
  const chunk = await transport.read(2000);
  return chunk === null ? '<end>' : Buffer.from(chunk).toString('latin1').trimEnd();
}

const resolveTo = (...addresses: string[]) => async (): Promise<ResolvedAddress[]> =>
  addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

/** An attempt that never connects: it waits until the race cancels it. */
const blackHole: ConnectAttempt = (_target, signal) => new Promise((_resolve, reject) => {
  signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
});

/**
 * Records each attempt: its address, when it started (by `Date.now()`, which
 * is the fake clock's under `useFakeClock`), its signal, and how it ended.
 */
function spy(inner: (target: AttemptTarget, signal: AbortSignal) => Promise<Socket>) {
  const started: { address: string; at: number; signal: AbortSignal; outcome: Promise<unknown> }[] = [];
  const t0 = Date.now();
  const attempt: ConnectAttempt = (target, signal) => {
    const result = inner(target, signal);
    started.push({ address: target.address, at: Date.now() - t0, signal, outcome: result.then(() => 'connected', (e: unknown) => e) });
    return result;
  };
  return { started, attempt };
}

/**
 * A fake clock for setTimeout and Date only: sockets, promises and
 * setImmediate run as usual. Time moves only by vi.advanceTimersByTimeAsync.
 * Call it after the servers listen; afterEach puts the real clock back.
 */
function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
}

/** Moves the fake clock by `ms`, then lets every callback that fell due run (setImmediate is real). */
async function tick(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await new Promise((resolve) => setImmediate(resolve));
}

/** Whether `promise` has settled yet (as of the callbacks that have run). */
function watch(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  promise.then(() => (state.settled = true), () => (state.settled = true));
  return state;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('sortAddresses (RFC 8305 §4)', () => {
  const a = (address: string): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 });
  it.each([
    [['192.0.2.1', '192.0.2.2', '2001:db8::1', '2001:db8::2'], ['2001:db8::1', '192.0.2.1', '2001:db8::2', '192.0.2.2']],
    [['2001:db8::1', '2001:db8::2', '192.0.2.1'], ['2001:db8::1', '192.0.2.1', '2001:db8::2']],
    [['192.0.2.1', '2001:db8::1', '192.0.2.2', '192.0.2.3'], ['2001:db8::1', '192.0.2.1', '192.0.2.2', '192.0.2.3']],
    [['192.0.2.2', '192.0.2.1'], ['192.0.2.2', '192.0.2.1']],
    [['::1', '127.0.0.1', '::1', '127.0.0.1'], ['::1', '127.0.0.1']],
    [[], []],
  ])('%j → %j (IPv6 first, families interleaved, resolver order kept, duplicates dropped)', (input, expected) => {
    expect(sortAddresses(input.map(a)).map((entry) => entry.address)).toEqual(expected);
  });
});

describe('the race (RFC 8305 §5)', () => {
  it('starts the next attempt after the 250 ms delay when the first hangs; the second wins and the first is cancelled', async () => {
    const server = await listen();
    useFakeClock();
    const { started, attempt } = spy((target, signal) => (target.address === '127.0.0.2' ? blackHole(target, signal) : tcpAttempt(target, signal)));
    const pending = createConnector({ attempt })({ host: 'slow.test', port: server.port, timeoutMs: 5000, resolve: resolveTo('127.0.0.2', '127.0.0.1') });
    // 1 ms short of the delay: only the first attempt has started.
    await tick(CONNECTION_ATTEMPT_DELAY_MS - 1);
    expect(started.map((s) => s.address)).toEqual(['127.0.0.2']);
    // The delay is up: that is what starts the second.
    await tick(1);
    expect(started.map((s) => [s.address, s.at])).toEqual([['127.0.0.2', 0], ['127.0.0.1', CONNECTION_ATTEMPT_DELAY_MS]]);
    const transport = await pending;
    expect(transport.peer).toBe(`slow.test (127.0.0.1) port ${server.port}`);
    expect(await firstLine(transport)).toMatch(/^220 127\.0\.0\.1 -> 127\.0\.0\.1$/);
    expect(started[0]!.signal.aborted).toBe(true);
    expect(started[1]!.signal.aborted).toBe(false);
  });

  it('starts the next attempt at once when the previous one fails (a refusal does not wait for the delay)', async () => {
    const server = await listen();
    useFakeClock();
    // Nothing listens on 127.0.0.2 at this port: a refusal. The clock never moves,
    // so the connection can only come from the refusal starting the next attempt.
    const { started, attempt } = spy(tcpAttempt);
    const transport = await createConnector({ attempt })({ host: 'two.test', port: server.port, timeoutMs: 5000, resolve: resolveTo('127.0.0.2', '127.0.0.1') });
    expect(await firstLine(transport)).toMatch(/^220 /);
    expect(started.map((s) => [s.address, s.at])).toEqual([['127.0.0.2', 0], ['127.0.0.1', 0]]);
    expect(await started[0]!.outcome).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('destroys a socket that connects after another attempt has won', async () => {
    const late = await listen('127.0.0.2');
    const winner = await listen('127.0.0.1');
    let lateSocket: Socket | undefined;
    const release = deferred();
    const reported = deferred();
    const attempt: ConnectAttempt = async (target, signal) => {
      if (target.address === '127.0.0.1') return tcpAttempt({ ...target, port: winner.port }, signal);
      // Connects at once, but reports it only when the test says so (after the winner is chosen), ignoring the cancellation.
      const socket = await tcpAttempt({ ...target, port: late.port }, new AbortController().signal);
      lateSocket = socket;
      clientSockets.push(socket);
      await release.promise;
      setImmediate(reported.resolve); // after the race has had the socket
      return socket;
    };
    const transport = await createConnector({ attempt })({ host: 'x.test', port: 1, timeoutMs: 5000, resolve: resolveTo('127.0.0.2', '127.0.0.1') });
    expect(transport.peer).toBe('x.test (127.0.0.1) port 1');
    expect(await firstLine(transport)).toMatch(/^220 /);
    expect(lateSocket?.destroyed).toBe(false);
    release.resolve();
    await reported.promise;
    // The race destroyed the late socket.
    expect(lateSocket?.destroyed).toBe(true);
  });

  it('a late success after the timeout is destroyed too, and the timeout is reported', async () => {
    const server = await listen();
    useFakeClock();
    let socket: Socket | undefined;
    const connected = deferred();
    const release = deferred();
    const reported = deferred();
    const attempt: ConnectAttempt = async (target) => {
      socket = await tcpAttempt(target, new AbortController().signal);
      clientSockets.push(socket);
      connected.resolve();
      await release.promise;
      setImmediate(reported.resolve); // after the race has had the socket
      return socket;
    };
    const pending = failure(createConnector({ attempt })({ host: '127.0.0.1', port: server.port, timeoutMs: 150 }));
    const state = watch(pending);
    await connected.promise;
    await tick(149);
    expect(state.settled).toBe(false);
    await tick(1);
    expect(state.settled).toBe(true);
    const error = await pending;
    expect(error).toMatchObject({ code: 'E_TIMEOUT', transient: true });
    expect(error.message).toBe(`cannot connect to 127.0.0.1 port ${server.port}: timed out after 0.15 s`);
    // Only now does the attempt report its socket: the race, long over, destroys it.
    expect(socket?.destroyed).toBe(false);
    release.resolve();
    await reported.promise;
    expect(socket?.destroyed).toBe(true);
  });

  it('raceConnections reports every failure and what it never tried', async () => {
    useFakeClock();
    const addresses: ResolvedAddress[] = [
      { address: '127.0.0.2', family: 4 }, { address: '127.0.0.3', family: 4 }, { address: '127.0.0.4', family: 4 },
    ];
    const pending = raceConnections(addresses, { port: 1, timeoutMs: 200, attempt: blackHole, attemptDelayMs: 10_000 })
      .then(() => undefined, (e: unknown) => e);
    const state = watch(pending);
    await tick(199);
    expect(state.settled).toBe(false);
    await tick(1);
    expect(state.settled).toBe(true);
    const error = await pending;
    expect(error).toBeInstanceOf(ConnectAttemptsFailed);
    const failed = error as ConnectAttemptsFailed;
    expect(failed.timedOut).toBe(true);
    expect(failed.failures.map((f) => [f.address.address, f.error.code])).toEqual([['127.0.0.2', 'ETIMEDOUT']]);
    expect(failed.untried.map((a) => a.address)).toEqual(['127.0.0.3', '127.0.0.4']);
  });

  it('leaves no timer behind, whether it wins or fails', async () => {
    const server = await listen();
    // Its own timers only (every timer in the process would count other tests' too): each one set must be cleared or have fired.
    const live = new Set<NodeJS.Timeout>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle: NodeJS.Timeout = realSet(() => {
        live.delete(handle);
        callback(...args);
      }, ms);
      live.add(handle);
      return handle;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((handle?: NodeJS.Timeout) => {
      if (handle !== undefined) live.delete(handle);
      realClear(handle);
    }) as typeof clearTimeout);
    try {
      const addresses: ResolvedAddress[] = [{ address: '127.0.0.1', family: 4 }, { address: '127.0.0.2', family: 4 }, { address: '127.0.0.3', family: 4 }];
      const { socket } = await raceConnections(addresses, { port: server.port, timeoutMs: 5000 });
      socket.destroy();
      expect(setSpy).toHaveBeenCalled();
      expect(live.size).toBe(0);
      await raceConnections(addresses.slice(1), { port: server.port, timeoutMs: 5000 }).catch(() => undefined);
      expect(live.size).toBe(0);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });

  it('tcpAttempt honours a cancellation', async () => {
    const server = await listen();
    const controller = new AbortController();
    const pending = tcpAttempt({ address: '127.0.0.1', family: 4, port: server.port }, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    const already = new AbortController();
    already.abort();
    await expect(tcpAttempt({ address: '127.0.0.1', family: 4, port: server.port }, already.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('when every attempt fails', () => {
  it('all refused: E_CONNECTION, transient, "connection refused", each address named', async () => {
    const server = await listen();
    const port = server.port;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const error = await failure(connectTcp({ host: 'gone.test', port, timeoutMs: 2000, resolve: resolveTo('127.0.0.2', '127.0.0.1') }));
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toBe(`cannot connect to gone.test port ${port}: connection refused (127.0.0.2: connection refused; 127.0.0.1: connection refused)`);
  });

  it('one address refused, the other never answering: the refusal is the telling error', async () => {
    const server = await listen();
    const port = server.port;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    useFakeClock();
    const { started, attempt } = spy((target, signal) => (target.address === '127.0.0.2' ? blackHole(target, signal) : tcpAttempt(target, signal)));
    const pending = failure(createConnector({ attempt })({ host: 'mixed.test', port, timeoutMs: 600, resolve: resolveTo('127.0.0.2', '127.0.0.1') }));
    const state = watch(pending);
    await tick(CONNECTION_ATTEMPT_DELAY_MS);
    expect(started.map((s) => s.address)).toEqual(['127.0.0.2', '127.0.0.1']);
    expect(await started[1]!.outcome).toMatchObject({ code: 'ECONNREFUSED' });
    // The black hole still runs: the race waits for it until the timeout.
    await tick(600 - CONNECTION_ATTEMPT_DELAY_MS - 1);
    expect(state.settled).toBe(false);
    await tick(1);
    expect(state.settled).toBe(true);
    const error = await pending;
    expect(error).toMatchObject({ code: 'E_CONNECTION', transient: true });
    expect(error.message).toContain('connection refused');
    expect(error.message).toContain('127.0.0.2: timed out');
  });

  it('all timed out: E_TIMEOUT, transient, when the connect timeout runs out', async () => {
    useFakeClock();
    const { started, attempt } = spy(blackHole);
    const pending = failure(createConnector({ attempt })({ host: 'hole.test', port: 25, timeoutMs: 400, resolve: resolveTo('127.0.0.2', '127.0.0.3') }));
    const state = watch(pending);
    await tick(399);
    expect(state.settled).toBe(false);
    expect(started.map((s) => [s.address, s.at])).toEqual([['127.0.0.2', 0], ['127.0.0.3', CONNECTION_ATTEMPT_DELAY_MS]]);
    await tick(1);
    expect(state.settled).toBe(true);
    const error = await pending;
    expect(started.map((s) => s.signal.aborted)).toEqual([true, true]);
    expect(error).toMatchObject({ code: 'E_TIMEOUT', transient: true });
    expect(error.message).toBe('cannot connect to hole.test port 25: timed out after 0.4 s (127.0.0.2: timed out; 127.0.0.3: timed out)');
  });

  it('DNS is within the connect timeout too: a resolver that never answers is a temporary failure', async () => {
    useFakeClock();
    const pending = failure(connectTcp({ host: 'slowdns.test', port: 25, timeoutMs: 200, resolve: () => new Promise(() => {}) }));
    const state = watch(pending);
    await tick(199);
    expect(state.settled).toBe(false);
    await tick(1);
    expect(state.settled).toBe(true);
    const error = await pending;
    expect(error).toMatchObject({ code: 'E_DNS_TEMPORARY', transient: true });
    expect(error.message).toBe('cannot locate host slowdns.test: no answer within 0.2 s');
  });

  it('an empty answer from the resolver is "host not found" (68)', async () => {
    const error = await failure(connectTcp({ host: 'empty.test', port: 25, timeoutMs: 1000, resolve: async () => [] }));
    expect(error).toMatchObject({ code: 'E_HOST_NOT_FOUND', transient: false });
  });
});

describe('source address (source_ip)', () => {
  it('binds the outgoing socket: the server sees 127.0.0.2', async () => {
    const server = await listen('127.0.0.1');
    const transport = await connectTcp({ host: '127.0.0.1', port: server.port, timeoutMs: 2000, sourceAddress: '127.0.0.2' });
    expect(await firstLine(transport)).toBe('220 127.0.0.2 -> 127.0.0.1');
  });

  it('skips addresses of the other family', async () => {
    const server = await listen('127.0.0.1');
    const { started, attempt } = spy(tcpAttempt);
    const transport = await createConnector({ attempt })({
      host: 'dual.test', port: server.port, timeoutMs: 2000, sourceAddress: '127.0.0.2', resolve: resolveTo('::1', '127.0.0.1'),
    });
    expect(await firstLine(transport)).toBe('220 127.0.0.2 -> 127.0.0.1');
    expect(started.map((s) => s.address)).toEqual(['127.0.0.1']);
  });

  it('no address of its family left: E_CONFIG (78), nothing is tried', async () => {
    const { started, attempt } = spy(tcpAttempt);
    const error = await failure(createConnector({ attempt })({ host: 'v6only.test', port: 25, timeoutMs: 2000, sourceAddress: '127.0.0.2', resolve: resolveTo('::1', '2001:db8::1') }));
    expect(error).toMatchObject({ code: 'E_CONFIG', transient: false });
    expect(error.message).toBe('cannot connect to v6only.test port 25: source_ip 127.0.0.2 is an IPv4 address, and v6only.test has only IPv6 addresses (::1, 2001:db8::1)');
    expect(started).toEqual([]);
  });

  it('an address this machine does not have (EADDRNOTAVAIL): E_CONFIG (78), naming source_ip', async () => {
    const server = await listen('127.0.0.1');
    // 192.0.2.1 (TEST-NET-1) is on no interface: bind() fails locally, nothing is sent.
    const error = await failure(connectTcp({ host: '127.0.0.1', port: server.port, timeoutMs: 2000, sourceAddress: '192.0.2.1' }));
    expect(error).toMatchObject({ code: 'E_CONFIG', transient: false });
    expect(error.message).toBe(`cannot connect to 127.0.0.1 port ${server.port}: cannot bind source address 192.0.2.1 (source_ip): address not available on this machine`);
    expect(server.accepted).toHaveLength(0);
  });

  it('not an IP address: E_CONFIG', async () => {
    const error = await failure(connectTcp({ host: '127.0.0.1', port: 25, timeoutMs: 2000, sourceAddress: 'localhost' }));
    expect(error).toMatchObject({ code: 'E_CONFIG', message: 'source_ip localhost is not an IP address' });
  });

  it('an empty source address means none', async () => {
    const server = await listen('127.0.0.1');
    const transport = await connectTcp({ host: '127.0.0.1', port: server.port, timeoutMs: 2000, sourceAddress: '' });
    expect(await firstLine(transport)).toBe('220 127.0.0.1 -> 127.0.0.1');
  });
});

describe.skipIf(!IPV6)(`IPv6 on ::1${IPV6_SKIP}`, () => {
  it.each(['::1', '[::1]'])('the literal host %s', async (host) => {
    const server = await listen('::1');
    const transport = await connectTcp({ host, port: server.port, timeoutMs: 2000, resolve: () => Promise.reject(new Error('a literal is not resolved')) });
    expect(transport.peer).toBe(`::1 (::1) port ${server.port}`);
    expect(transport.remoteAddress).toBe('::1');
    expect(await firstLine(transport)).toBe('220 ::1 -> ::1');
  });

  it('a name with IPv6 and IPv4 addresses, the server on IPv4 only: IPv6 is tried first, IPv4 wins', async () => {
    const server = await listen('127.0.0.1');
    const { started, attempt } = spy(tcpAttempt);
    const transport = await createConnector({ attempt })({ host: 'dual.test', port: server.port, timeoutMs: 2000, resolve: resolveTo('127.0.0.1', '::1') });
    expect(await firstLine(transport)).toBe('220 127.0.0.1 -> 127.0.0.1');
    expect(transport.peer).toBe(`dual.test (127.0.0.1) port ${server.port}`);
    expect(started.map((s) => s.address)).toEqual(['::1', '127.0.0.1']);
  });

  it('a name with IPv6 and IPv4 addresses, the server on IPv6 only: IPv6 wins, IPv4 is never tried', async () => {
    const server = await listen('::1');
    const { started, attempt } = spy(tcpAttempt);
    const transport = await createConnector({ attempt })({ host: 'dual.test', port: server.port, timeoutMs: 2000, resolve: resolveTo('127.0.0.1', '::1') });
    expect(await firstLine(transport)).toBe('220 ::1 -> ::1');
    expect(transport.peer).toBe(`dual.test (::1) port ${server.port}`);
    expect(started.map((s) => s.address)).toEqual(['::1']);
  });

  it('IPv6 black-holed: IPv4 starts after the delay and wins', async () => {
    const server = await listen('127.0.0.1');
    useFakeClock();
    const { started, attempt } = spy((target, signal) => (target.family === 6 ? blackHole(target, signal) : tcpAttempt(target, signal)));
    const pending = createConnector({ attempt })({ host: 'dual.test', port: server.port, timeoutMs: 5000, resolve: resolveTo('127.0.0.1', '::1') });
    await tick(CONNECTION_ATTEMPT_DELAY_MS - 1);
    expect(started.map((s) => s.address)).toEqual(['::1']);
    await tick(1);
    expect(started.map((s) => [s.address, s.at])).toEqual([['::1', 0], ['127.0.0.1', CONNECTION_ATTEMPT_DELAY_MS]]);
    const transport = await pending;
    expect(await firstLine(transport)).toBe('220 127.0.0.1 -> 127.0.0.1');
    expect(started[0]!.signal.aborted).toBe(true);
  });

  it('source address ::1 binds an IPv6 connection', async () => {
    const server = await listen('::1');
    const transport = await connectTcp({ host: '::1', port: server.port, timeoutMs: 2000, sourceAddress: '::1' });
    expect(await firstLine(transport)).toBe('220 ::1 -> ::1');
  });

  it('source address ::1 with an IPv4 host: E_CONFIG', async () => {
    const error = await failure(connectTcp({ host: '127.0.0.1', port: 25, timeoutMs: 2000, sourceAddress: '::1' }));
    expect(error).toMatchObject({ code: 'E_CONFIG' });
    expect(error.message).toContain('source_ip ::1 is an IPv6 address, and 127.0.0.1 has only IPv4 addresses');
  });
});
