/**
 * The token store in the Secret Service keyring (GNOME Keyring, KeePassXC…),
 * through `secret-tool`, beside the entries msmtp's users already keep there
 * (`host H service smtp user U`). Ours are `host H service oauth2 user U`:
 * the same style, and never mistaken for the password an msmtp entry holds.
 * The secret (the record's JSON) goes to secret-tool on its standard input,
 * never in its arguments, where `ps` would show it.
 */
import { spawn } from 'node:child_process';
import { OutboxError } from '../errors.js';
import { parseRecord, serializeRecord, type TokenKey, type TokenStore } from './token-record.js';

export const KEYRING_SERVICE = 'oauth2';
/** An unlock prompt may take the user a while. */
const TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 1024 * 1024;

interface Outcome {
  readonly status: number | null;
  readonly stdout: string;
}

export type SecretTool = (args: readonly string[], input?: string) => Promise<Outcome>;

/** Runs secret-tool; never rejects (a failure is a status), never carries the input in what it returns. */
export function secretToolRunner(program: string): SecretTool {
  return (args, input) =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const child = spawn(program, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'ignore'] });
      const finish = (status: number | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, stdout: Buffer.concat(chunks).toString('utf8') });
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(null);
      }, TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_OUTPUT) return void child.kill('SIGKILL');
        chunks.push(chunk);
      });
      child.on('error', () => finish(null));
      child.on('close', (status) => finish(status));
      if (child.stdin) {
        child.stdin.on('error', () => {});
        child.stdin.end(input);
      }
    });
}

function attributes(key: TokenKey): string[] {
  return ['host', key.host, 'service', KEYRING_SERVICE, 'user', key.user];
}

export function keyringStore(run: SecretTool): TokenStore {
  return {
    name: 'keyring',
    async load(key) {
      const { status, stdout } = await run(['lookup', ...attributes(key)]);
      if (status !== 0 || stdout === '') return undefined;
      return parseRecord(stdout.replace(/\r?\n$/, ''));
    },
    async save(key, record) {
      const label = `outbox OAuth2 token for ${key.user} at ${key.host}`;
      const { status } = await run(['store', `--label=${label}`, ...attributes(key)], serializeRecord(record));
      if (status !== 0) throw new OutboxError('E_IO', `token store: secret-tool could not store the token in the keyring (${status === null ? 'killed or not run' : `exit status ${status}`})`);
    },
    async remove(key) {
      const present = (await run(['lookup', ...attributes(key)])).status === 0;
      if (present) await run(['clear', ...attributes(key)]);
      return present;
    },
  };
}
