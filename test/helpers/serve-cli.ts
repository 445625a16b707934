/**
 * The built `outbox serve` as a child process on loopback port 0 (the port
 * read from its log's "listening on ADDRESS port N" line), and a raw client
 * that reads whole replies, several after LMTP's final dot. Servers are
 * stopped by their child handle (`stop`), never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { OUTBOX } from './run-cli.js';

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv, log: string): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [OUTBOX, 'serve', '--port=0', `--log=${log}`, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  for (let i = 0; i < 200; i++) {
    const text = existsSync(log) ? await readFile(log, 'utf8') : '';
    const match = /listening on 127\.0\.0\.1 port (\d+)/.exec(text);
    if (match) return { child, port: Number(match[1]), stderr: () => stderr, stop };
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`outbox serve did not start: ${stderr}`);
}

export interface RawClient {
  readonly greeting: string;
  /** Sends a line and resolves with the last line of the reply. */
  say(line: string): Promise<string>;
  /** Sends a line and resolves with the last line of each of the next `count` replies (LMTP's after the data). */
  sayFor(line: string, count: number): Promise<string[]>;
  end(): void;
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  let buffer = '';
  let wake: (() => void) | undefined;
  let closed = false;
  // A server that ends the session may reset the connection: the replies read so far tell; waiting for more fails.
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    wake?.();
  });
  const reply = async (): Promise<string> => {
    for (;;) {
      const match = /(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buffer);
      if (match) {
        const end = match.index + match[0].length;
        const text = buffer.slice(0, end).trim();
        buffer = buffer.slice(end);
        return text.split('\r\n').at(-1)!;
      }
      if (closed) throw new Error(`the connection to port ${port} closed before a reply (${JSON.stringify(buffer)})`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  const greeting = await reply();
  return {
    greeting,
    say(line) {
      socket.write(`${line}\r\n`);
      return reply();
    },
    async sayFor(line, count) {
      socket.write(`${line}\r\n`);
      const lines: string[] = [];
      for (let i = 0; i < count; i++) lines.push(await reply());
      return lines;
    },
    end: () => socket.end(),
  };
}

/** One mail in a raw dialogue: the replies to MAIL, each RCPT and DATA, then the reply (LMTP: one per recipient) to the data. */
export async function sendRaw(port: number, from: string, recipients: readonly string[], data: string, lmtp = false): Promise<{ envelope: string[]; final: string[] }> {
  const client = await rawClient(port);
  try {
    await client.say(lmtp ? 'LHLO client.test' : 'EHLO client.test');
    const envelope = [await client.say(`MAIL FROM:<${from}>`)];
    for (const to of recipients) envelope.push(await client.say(`RCPT TO:<${to}>`));
    envelope.push(await client.say('DATA'));
    const final = await client.sayFor(`${data.replaceAll(/\r?\n/g, '\r\n')}.`, lmtp ? recipients.length : 1);
    await client.say('QUIT');
    return { envelope, final };
  } finally {
    client.end();
  }
}
