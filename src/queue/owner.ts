/**
 * Who holds a queue entry. Node has no flock(2), so an entry being delivered
 * is moved into a folder named after its owner: the process id and the
 * process's start time (field 22 of /proc/PID/stat, in clock ticks since
 * boot). A crashed owner is recognised without a timeout: its pid is gone, or
 * belongs to a process that started at another time (pid reuse).
 */
import { readFileSync } from 'node:fs';

export interface Owner {
  readonly pid: number;
  /** The start time from /proc, or '' where /proc cannot tell (then the pid alone decides). */
  readonly start: string;
}

/** The start time of a process, from /proc/PID/stat; '' when unavailable. */
export function processStart(pid: number, read: (path: string) => string = (path) => readFileSync(path, 'latin1')): string {
  let stat: string;
  try {
    stat = read(`/proc/${pid}/stat`);
  } catch {
    return '';
  }
  // The command name (field 2) is in parentheses and may hold spaces and ')':
  // the fields after the last ')' start with field 3, so field 22 is index 19.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[19];
  return start !== undefined && /^\d+$/.test(start) ? start : '';
}

let self: Owner | undefined;

export function currentOwner(): Owner {
  self ??= { pid: process.pid, start: processStart(process.pid) };
  return self;
}

/** `PID.START`, safe in a file name. */
export function ownerTag(owner: Owner): string {
  return `${owner.pid}.${owner.start}`;
}

export function parseOwnerTag(tag: string): Owner | undefined {
  const match = /^(\d+)\.(\d*)$/.exec(tag);
  if (!match) return undefined;
  return { pid: Number(match[1]), start: match[2]! };
}

/** Whether the owner still runs. A pid we may not signal (EPERM) belongs to a live process. */
export function isAlive(owner: Owner, start: (pid: number) => string = processStart): boolean {
  if (owner.pid === process.pid) return owner.start === currentOwner().start;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === '') return true;
  const now = start(owner.pid);
  return now === '' || now === owner.start;
}
