/**
 * Where a configuration problem is: every error of the configuration pipeline
 * starts with `file:line: `, so a user can jump straight to the line.
 */
import { OutboxError, type ErrorCode } from '../errors.js';

export interface Location {
  readonly file: string;
  readonly line: number;
}

/** An OutboxError (E_CONFIG unless told otherwise) whose message starts with `file:line: `. */
export function errorAt(location: Location, message: string, code: ErrorCode = 'E_CONFIG'): OutboxError {
  return new OutboxError(code, `${location.file}:${location.line}: ${message}`);
}

/** Control characters as `?` (as msmtp prints them), so an error message stays on one line. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, '?');
}
