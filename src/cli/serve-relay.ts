/**
 * `outbox serve`'s default backend, relay: each mail is sent in-process as
 * `outbox -f SENDER RCPT…` would send it (with --account, as `outbox -a NAME
 * -f SENDER`), by the same code: parts.ts splits the recipients by `route`
 * and by `mda` into parts, and part-delivery.ts delivers each (its account's
 * fail-over chain, `queue always` / `on_failure`, local delivery). What is
 * the server's own: no password prompt (a server must not stop a session to
 * ask its terminal, and under --inetd stdin is the SMTP stream), the
 * client's RET, ENVID and NOTIFY passed on (serve-account.ts), a
 * rate-limited background queue run, and how outcomes become replies
 * (serve-reply.ts).
 *
 * The message is spooled while it arrives (serve-spool.ts), never held whole.
 */
import { systemSecretDeps } from '../config/index.js';
import { prepareMessage, type PreparedMessage } from '../message/prepare.js';
import type { Spool } from '../message/spool.js';
import type { Backend, Delivery, Envelope } from '../server/backend.js';
import { deliverPart, queuePart, type PartContext } from './part-delivery.js';
import type { PartOutcome } from './parts-report.js';
import { planParts, type Part, type PartPlan } from './parts.js';
import { relayDelivery } from './serve-reply.js';
import { rewriteSettings } from './sendmail.js';
import { deliveryForError, dsnFor, sendOptionsFor, type RelaySettings } from './serve-account.js';
import { requestFlush, type ServeIo } from './serve-queue.js';
import { spoolingBackend } from './serve-spool.js';

export function relayBackend(settings: RelaySettings, io: ServeIo): Backend {
  return spoolingBackend((spool, envelope) => relayOne(settings, io, spool, envelope, 'send'));
}

/**
 * `outbox serve --queue`: the same parts, each put into the durable queue as
 * `queue always` would put it (its own account, so a routed recipient's part
 * is later sent through its route's account, a local part by the MDA); 250
 * with the entries' ids once every part is on disk (fsynced). A part that
 * cannot be stored is the whole mail's 451, even after another part was
 * stored: the client sends it again, a duplicate rather than a loss.
 */
export function queueBackend(settings: RelaySettings, io: ServeIo): Backend {
  return spoolingBackend((spool, envelope) => relayOne(settings, io, spool, envelope, 'queue'));
}

async function relayOne(settings: RelaySettings, io: ServeIo, spool: Spool, envelope: Envelope, mode: 'send' | 'queue'): Promise<Delivery> {
  const options = sendOptionsFor(settings, envelope);
  let plan: PartPlan | undefined;
  let prepared: PreparedMessage;
  try {
    // As in sendmail mode: the parts are planned once the header is read; it is rewritten with the first part's account.
    prepared = await prepareMessage(spool.chunks(), {
      settings: async (info) => {
        plan = await planParts(options, io.env, info);
        const first = plan.parts[0]!;
        return rewriteSettings(first.account, first.reversePath);
      },
    });
  } catch (error) {
    return deliveryForError(error, envelope.recipients);
  }
  try {
    const context: PartContext = {
      prepared,
      options,
      io,
      secrets: { ...systemSecretDeps(io.env), prompt: undefined },
      dsn: (account) => dsnFor(account, options, envelope),
      flush: (dir) => requestFlush(dir, options, io),
    };
    if (mode === 'queue') return await queueParts(plan!.parts, context, envelope);
    const outcomes: PartOutcome[] = [];
    for (const part of plan!.parts) outcomes.push(await deliverPart(part, undefined, context));
    return await relayDelivery(outcomes, envelope, context);
  } finally {
    await prepared.spool.dispose();
  }
}

async function queueParts(parts: readonly Part[], context: PartContext, envelope: Envelope): Promise<Delivery> {
  const ids: string[] = [];
  try {
    for (const part of parts) ids.push((await queuePart(part, context, new Date(), true)).id);
  } catch (error) {
    return deliveryForError(error, envelope.recipients);
  }
  return { kind: 'delivered', id: ids.join(',') };
}
