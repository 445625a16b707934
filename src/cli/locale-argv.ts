/**
 * Arguments as the user's locale wrote them. Node reads argv as UTF-8, so
 * in a Latin-1 (or other non-UTF-8) locale a `-F 'Jörg'` typed at the
 * terminal arrives as U+FFFD. On Linux the raw bytes are in
 * /proc/self/cmdline; they are decoded with iconv-lite in the locale's
 * character set. Anywhere that does not work, argv is taken as Node read it.
 */
import { readFileSync } from 'node:fs';
import { localeCharset } from '../message/display-name.js';

export async function localeArguments(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  const charset = localeCharset(env);
  if (/^utf-?8$/i.test(charset)) return [...argv];
  // Loaded only here: its tables would cost every other run start-up time.
  const { default: iconv } = await import('iconv-lite');
  const raw = iconv.encodingExists(charset) ? rawArguments(argv.length) : undefined;
  return raw ? raw.map((bytes) => iconv.decode(bytes, charset)) : [...argv];
}

/** The last `count` entries of this process's command line, as bytes. */
function rawArguments(count: number): Buffer[] | undefined {
  let cmdline: Buffer;
  try {
    cmdline = readFileSync('/proc/self/cmdline');
  } catch {
    return undefined;
  }
  const parts: Buffer[] = [];
  let start = 0;
  for (let nul = cmdline.indexOf(0); nul !== -1; nul = cmdline.indexOf(0, start)) {
    parts.push(cmdline.subarray(start, nul));
    start = nul + 1;
  }
  return parts.length >= count ? parts.slice(parts.length - count) : undefined;
}
