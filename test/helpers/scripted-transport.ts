/**
 * An in-memory Transport that plays a server from an S:/C: script and checks
 * the client's bytes against it. Consecutive C: lines form one flight, which
 * the client must send in exactly one write (a pipelined group, one data
 * block); S: lines are sent once every C: line before them was received.
 *
 * Markers: `S: <close>` the server closes the connection; `S: <reset>` the
 * connection is reset; `S: <hang>` the server goes silent; `S! bytes` sends the
 * bytes without a line ending (JSON string escapes allowed).
 */
import { OutboxError } from '../../src/errors.js';
import type { Transport } from '../../src/transport.js';

type Step =
  | { readonly kind: 'client'; readonly lines: string[] }
  | { readonly kind: 'server'; readonly data: string }
  | { readonly kind: 'close' | 'reset' | 'hang' };

export interface Script {
  readonly steps: Step[];
  /** The flights the client must write, each as one string. */
  readonly flights: string[];
}

export function parseScript(text: string): Script {
  const steps: Step[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('@')) continue;
    const tag = line.slice(0, 3);
    const body = line.slice(3);
    const last = steps[steps.length - 1];
    if (tag === 'C: ' || line === 'C:') {
      if (last?.kind === 'client') last.lines.push(line === 'C:' ? '' : body);
      else steps.push({ kind: 'client', lines: [line === 'C:' ? '' : body] });
    } else if (tag === 'S: ' && /^<(close|reset|hang)>$/.test(body)) {
      steps.push({ kind: body.slice(1, -1) as 'close' | 'reset' | 'hang' });
    } else if (tag === 'S: ') {
      steps.push({ kind: 'server', data: `${body}\r\n` });
    } else if (tag === 'S! ') {
      steps.push({ kind: 'server', data: JSON.parse(`"${body}"`) as string });
    } else {
      throw new Error(`bad script line: ${line}`);
    }
  }
  const flights = steps.flatMap((s) => (s.kind === 'client' ? [s.lines.map((l) => `${l}\r\n`).join('')] : []));
  return { steps, flights };
}

export class ScriptedTransport implements Transport {
  readonly peer = 'scripted peer';
  /** Every write the client made, as text. */
  readonly writes: string[] = [];
  ended = false;
  destroyed = false;
  private readonly steps: Step[];
  private clientBuffer = '';
  private waiting: (() => void) | undefined;

  constructor(script: Script) {
    this.steps = [...script.steps];
  }

  /** True when every step of the script was played. */
  get finished(): boolean {
    return this.steps.every((step) => step.kind === 'hang');
  }

  /** What is left of the script, for failure messages. */
  get remaining(): string {
    return JSON.stringify(this.steps);
  }

  async write(chunks: readonly Uint8Array[]): Promise<void> {
    if (this.destroyed || this.ended) throw new OutboxError('E_CONNECTION', 'write after close', { transient: true });
    const text = Buffer.concat(chunks.map((c) => Buffer.from(c))).toString('utf8');
    this.writes.push(text);
    this.clientBuffer += text;
    this.consumeClientLines();
    this.waiting?.();
  }

  async read(timeoutMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const step = this.steps[0];
      if (step?.kind === 'server') {
        let data = '';
        while (this.steps[0]?.kind === 'server') data += (this.steps.shift() as { data: string }).data;
        return Buffer.from(data, 'utf8');
      }
      if (step?.kind === 'close') { this.steps.shift(); return null; }
      if (step?.kind === 'reset') {
        this.steps.shift();
        throw new OutboxError('E_CONNECTION', 'the server reset the connection', { transient: true });
      }
      if (step?.kind === 'hang' || step === undefined || Date.now() >= deadline) {
        await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
        throw new OutboxError('E_TIMEOUT', 'timed out', { transient: true });
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiting = () => { clearTimeout(timer); this.waiting = undefined; resolve(); };
      });
    }
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  private consumeClientLines(): void {
    for (;;) {
      const step = this.steps[0];
      if (step?.kind !== 'client') {
        if (this.clientBuffer) throw new Error(`client sent ${JSON.stringify(this.clientBuffer)} when the script expected ${this.remaining}`);
        return;
      }
      const expected = `${step.lines[0]}\r\n`;
      if (this.clientBuffer.length < expected.length) {
        if (!expected.startsWith(this.clientBuffer)) this.mismatch(expected);
        return;
      }
      if (!this.clientBuffer.startsWith(expected)) this.mismatch(expected);
      this.clientBuffer = this.clientBuffer.slice(expected.length);
      step.lines.shift();
      if (step.lines.length === 0) this.steps.shift();
    }
  }

  private mismatch(expected: string): never {
    throw new Error(`client sent ${JSON.stringify(this.clientBuffer)} where the script expected ${JSON.stringify(expected)}`);
  }
}
