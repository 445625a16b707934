/**
 * The token store without a keyring: one 0600 JSON file per account under
 * `$XDG_STATE_HOME/outbox/oauth2/` (default `~/.local/state/outbox/oauth2/`),
 * in a 0700 folder, written atomically and durably (temporary file, fsync,
 * rename, fsync of the folder: queue/durable-fs.ts), so a crash or a
 * concurrent reader never sees half a token, and a rotated refresh token,
 * once written, survives a power cut. One file per account: two accounts
 * refreshed at once by two processes never overwrite each other.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { OutboxError } from '../errors.js';
import { fsyncDir, writeFileDurably } from '../queue/durable-fs.js';
import { parseRecord, serializeRecord, type TokenKey, type TokenRecord, type TokenStore } from './token-record.js';

/** `$XDG_STATE_HOME/outbox/oauth2`, else `HOME/.local/state/outbox/oauth2` (an unset, empty or relative XDG_STATE_HOME is ignored, as the XDG spec says). */
export function tokenFolder(env: Readonly<Record<string, string | undefined>>, home: string): string {
  const state = env['XDG_STATE_HOME'];
  const base = state && state.startsWith('/') ? state : join(home, '.local', 'state');
  return join(base, 'outbox', 'oauth2');
}

/** A file name that no user name or host can escape from (`/`, `..` are encoded). */
export function fileNameFor(key: TokenKey): string {
  return `${encodeURIComponent(key.user)}@${encodeURIComponent(key.host)}.json`.replace(/^\./, '%2E');
}

export function fileStore(folder: string): TokenStore & { pathOf(key: TokenKey): string } {
  const pathOf = (key: TokenKey): string => join(folder, fileNameFor(key));
  return {
    name: 'file',
    pathOf,
    async load(key) {
      let text: string;
      try {
        text = await readFile(pathOf(key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new OutboxError('E_IO', `token store: cannot read ${pathOf(key)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      return parseRecord(text);
    },
    async save(key, record: TokenRecord) {
      try {
        await mkdir(folder, { recursive: true, mode: 0o700 });
        await chmod(folder, 0o700);
        await writeFileDurably(pathOf(key), serializeRecord(record));
      } catch (error) {
        const why = error instanceof OutboxError ? error.message.replace(/^queue: /, '') : ((error as NodeJS.ErrnoException).code ?? 'error');
        throw new OutboxError('E_IO', `token store: ${why}`, { cause: error });
      }
    },
    async remove(key) {
      try {
        await rm(pathOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw new OutboxError('E_IO', `token store: cannot remove ${pathOf(key)}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      await fsyncDir(folder);
      return true;
    },
  };
}
