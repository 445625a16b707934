/**
 * The capture backend: each accepted message becomes two files in a folder,
 *
 *   <id>.eml   the message as received, dot-stuffing removed, CRLF endings
 *   <id>.json  its envelope: { id, protocol, helo, mailFrom, mailParams,
 *              recipients, rcptParams, size, receivedAt }
 *
 * Both are written under a dot-file name and renamed into place, the .json
 * last, so a reader that lists `*.json` never sees half a message. The data
 * goes to disk as it arrives; nothing holds a whole message in memory.
 *
 * Ids sort by arrival: the commit time in base 36, a per-process sequence
 * number for commits in the same millisecond, and a random tail so that two
 * processes sharing a folder cannot collide.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, BackendSession, Delivery, Envelope, MessageSink } from '../../src/server/backend.js';

export interface CapturedEnvelope extends Envelope {
  readonly id: string;
  /** Octets in the .eml file. */
  readonly size: number;
  /** ISO 8601 time of the commit. */
  readonly receivedAt: string;
}

export interface CapturedMessage extends CapturedEnvelope {
  readonly emlPath: string;
  /** The .eml file's bytes. */
  readonly raw: Buffer;
}

let sequence = 0;

export function newMessageId(now = Date.now()): string {
  sequence = (sequence + 1) % 36 ** 4;
  const time = now.toString(36).padStart(9, '0');
  const seq = sequence.toString(36).padStart(4, '0');
  return (time + seq).toUpperCase() + randomBytes(3).toString('hex').toUpperCase();
}

function tempName(suffix: string): string {
  return `.tmp-${process.pid}-${randomBytes(6).toString('hex')}${suffix}`;
}

export class CaptureBackend implements Backend {
  readonly folder: string;
  private readonly onCommit: ((envelope: CapturedEnvelope) => void) | undefined;

  constructor(folder: string, onCommit?: (envelope: CapturedEnvelope) => void) {
    this.folder = folder;
    this.onCommit = onCommit;
  }

  newSession(): BackendSession {
    return { open: () => this.open() };
  }

  async open(): Promise<MessageSink> {
    const path = join(this.folder, tempName('.eml'));
    const file = await open(path, 'wx');
    return new CaptureSink(this.folder, path, file, this.onCommit);
  }
}

class CaptureSink implements MessageSink {
  private size = 0;
  private file: FileHandle | undefined;

  constructor(
    private readonly folder: string,
    private readonly tempPath: string,
    file: FileHandle,
    private readonly onCommit: ((envelope: CapturedEnvelope) => void) | undefined,
  ) {
    this.file = file;
  }

  async write(bytes: Buffer): Promise<void> {
    const file = this.file;
    if (!file) throw new Error('message sink is closed');
    // A write may take fewer octets than offered; go on until all are down.
    for (let offset = 0; offset < bytes.length; ) {
      const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset, null);
      offset += bytesWritten;
    }
    this.size += bytes.length;
  }

  async commit(envelope: Envelope): Promise<Delivery> {
    const file = this.file;
    if (!file) throw new Error('message sink is closed');
    this.file = undefined;
    const id = newMessageId();
    const record: CapturedEnvelope = {
      id,
      protocol: envelope.protocol,
      helo: envelope.helo,
      mailFrom: envelope.mailFrom,
      mailParams: envelope.mailParams,
      recipients: envelope.recipients,
      rcptParams: envelope.rcptParams,
      size: this.size,
      receivedAt: new Date().toISOString(),
    };
    const emlPath = join(this.folder, `${id}.eml`);
    const jsonTemp = join(this.folder, tempName('.json'));
    try {
      await file.close();
      await rename(this.tempPath, emlPath);
      await writeFile(jsonTemp, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
      await rename(jsonTemp, join(this.folder, `${id}.json`));
    } catch (error) {
      // Leave nothing behind that a reader could take for a message.
      await Promise.all([this.tempPath, emlPath, jsonTemp].map((path) => unlink(path).catch(() => undefined)));
      throw error;
    }
    this.onCommit?.(record);
    return { kind: 'delivered', id };
  }

  async abort(): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    await file.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}

/** Every complete message in `folder`, oldest first. */
export async function readCapturedMessages(folder: string): Promise<CapturedMessage[]> {
  const names = (await readdir(folder)).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
  const messages = await Promise.all(
    names.map(async (name): Promise<CapturedMessage> => {
      const envelope = JSON.parse(await readFile(join(folder, name), 'utf8')) as CapturedEnvelope;
      const emlPath = join(folder, `${envelope.id}.eml`);
      return { ...envelope, emlPath, raw: await readFile(emlPath) };
    }),
  );
  return messages.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
