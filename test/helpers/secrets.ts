/**
 * "No secret in any output": the traces a secret can leave, and one check
 * over every output a run produced (stdout, stderr, log file, JSON log,
 * syslog, --debug, --pretend), each named so a failure says where it leaked.
 */
import { expect } from 'vitest';

/**
 * The secret, and the text it leaves in any base64 encoding that contains it,
 * at each of the three byte alignments (the groups that mix in neighbouring
 * bytes dropped): an AUTH PLAIN payload carries it at some offset.
 */
export function secretTraces(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const traces = [secret, bytes.toString('base64')];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    traces.push(encoded.slice(offset === 0 ? 0 : 4, -4));
  }
  return traces.filter((trace) => trace.length >= 4);
}

/** Named outputs of one or more runs: `{ stderr: '…', 'log file': '…' }`. */
export type Outputs = Readonly<Record<string, string>>;

/** Fails naming the output and the secret (or the text that must not appear, e.g. a command) found in it. */
export function expectNoSecret(outputs: Outputs, secrets: readonly string[], plainTexts: readonly string[] = []): void {
  const forbidden = [...secrets.flatMap(secretTraces), ...plainTexts];
  for (const [name, text] of Object.entries(outputs)) {
    for (const trace of forbidden) expect(text, `${name} contains ${JSON.stringify(trace)}`).not.toContain(trace);
  }
}
