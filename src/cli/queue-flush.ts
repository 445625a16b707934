/**
 * `-q` / `--queue-flush` and `--queue-run`: the queue flushed through the
 * accounts the mails were queued with. Each record names its account and the
 * command-line settings given then; they are chosen again from today's files,
 * so a changed password or server applies to queued mail too.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ReadyAccount } from '../config/index.js';
import { MailSession } from '../delivery/mail-session.js';
import type { Envelope, MessageFacts } from '../delivery/envelope.js';
import type { MessageSource } from '../message/header-reader.js';
import { declareCrlf, type CrlfChunks } from '../message/line-endings.js';
import { fromFile } from '../message/spool.js';
import { flushQueue, type Courier, type CourierSession, type FlushEvent, type OutgoingMail, type Route } from '../queue/flush.js';
import { makeBounce } from '../queue/bounce.js';
import type { QueueRecord } from '../queue/record.js';
import { DEFAULT_LIFETIME_SECONDS } from '../queue/schedule.js';
import { QueueStore } from '../queue/store.js';
import { chooseForRun, expandForRun } from './account-choice.js';
import { EX_OK, EX_TEMPFAIL } from './exit-status.js';
import type { CliOptions } from './options.js';
import { dsnRequest } from './session-options.js';
import { laterLinks, newChainReport, tryChain, type ChainReport } from './fallback-send.js';
import type { Stdio } from './stdio.js';
import { logQueueEvent } from './queue-log.js';
import { localRoute } from './queue-local.js';
import { progressLine } from './queue-progress.js';

export async function runFlush(dir: string, options: CliOptions, io: Stdio): Promise<number> {
  // Nothing queued, nothing to connect to: -q exits 0 at once, a timer's run stays silent.
  if (!existsSync(dir)) return EX_OK;
  const store = await QueueStore.open(dir);
  // What crashed processes left (a half-built entry in tmp/, a claim in active/) is dealt with even when nothing is queued.
  await store.recover();
  if ((await store.queuedIds()).length === 0 && (await store.list()).entries.length === 0) return EX_OK;
  const courier = new AccountCourier(io.env);
  const progress = progressLine(io);
  const logging: Promise<void>[] = [];
  const report = await flushQueue({
    store,
    courier,
    which: options.mode === 'queue-run' ? 'due' : 'all',
    lifetimeSeconds: (record) => courier.known(record)?.queue_lifetime ?? DEFAULT_LIFETIME_SECONDS,
    bounce: async (record, messagePath, now) => {
      const account = courier.known(record);
      if (account && !account.queue_bounce) return undefined;
      return makeBounce(record, messagePath, now, bounceContext(account));
    },
    onEvent: (event: FlushEvent) => {
      progress.update(event);
      const record = 'record' in event ? event.record : undefined;
      logging.push(logQueueEvent(event, courier.known(record), io, courier.chainOf(record)));
    },
  });
  progress.done(report);
  await Promise.all(logging);
  // -q promises an empty queue or says why not (75); a timer's --queue-run did its job either way.
  return options.mode === 'queue-flush' && report.remaining > 0 ? EX_TEMPFAIL : EX_OK;
}

function bounceContext(account: ReadyAccount | undefined): { reportingMta: string; remoteMta?: string } {
  const domain = account && account.domain !== 'localhost' ? account.domain : hostname();
  return { reportingMta: domain, ...(account?.host ? { remoteMta: account.host } : {}) };
}

/** Routes each record through its account: mails for the same server, port, TLS and login share a session. */
class AccountCourier implements Courier {
  private readonly accounts = new Map<string, ReadyAccount>();
  // Fail-over (issue 16): each account's chain, what the latest session of each route did, and each record's route.
  private readonly chains = new Map<string, readonly ReadyAccount[]>();
  private readonly reports = new Map<string, ChainReport>();
  private readonly routes = new Map<string, string>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The account a record was routed through in this run, if it was. */
  known(record: QueueRecord | undefined): ReadyAccount | undefined {
    return record ? this.accounts.get(accountKey(record)) : undefined;
  }

  /** What the chain did for the session that carried (or failed to carry) the record, if it ran in this run. */
  chainOf(record: QueueRecord | undefined): ChainReport | undefined {
    const route = record ? this.routes.get(record.id) : undefined;
    return route === undefined ? undefined : this.reports.get(route);
  }

  async route(record: QueueRecord): Promise<Route> {
    const account = await this.account(record);
    if (record.via === 'mda') return localRoute(account, accountKey(record), this.env);
    const fallbacks = this.chains.get(accountKey(record)) ?? [];
    // Mails share a session only when their whole chain is the same.
    const key = JSON.stringify(SESSION_SETTINGS.map((name) => account[name])) + chainKey(fallbacks) + `\0${record.chunking}`;
    this.routes.set(record.id, key);
    return {
      key,
      open: () => {
        const report = newChainReport();
        this.reports.set(key, report);
        return openCourierSession(account, record.chunking, this.env, fallbacks, report);
      },
    };
  }

  private async account(record: QueueRecord): Promise<ReadyAccount> {
    const key = accountKey(record);
    const known = this.accounts.get(key);
    if (known) return known;
    const ref = record.account;
    const options: CliOptions = {
      mode: 'sendmail',
      pretend: false,
      ...(ref.name !== '' ? { account: ref.name } : {}),
      ...(ref.configFile !== undefined ? { file: ref.configFile } : {}),
      ...(ref.host !== undefined ? { host: ref.host } : {}),
      ...(record.from !== '' ? { from: record.from } : {}),
      readRecipients: false,
      readEnvelopeFrom: false,
      debug: false,
      json: false,
      chunking: record.chunking,
      settings: ref.settings,
      recipients: [],
    };
    const { chosen, fallbacks } = chooseForRun(options, this.env, ref.mailFrom);
    const account = await expandForRun(chosen, this.env, ref.mailFrom);
    this.accounts.set(key, account);
    this.chains.set(key, await Promise.all(fallbacks.map((fallback) => expandForRun({ account: fallback, how: { kind: 'named' } }, this.env, ref.mailFrom))));
    return account;
  }
}

/** The settings that decide which server a mail goes to, and as whom. */
const SESSION_SETTINGS = [
  'host', 'port', 'protocol', 'socket', 'source_ip', 'proxy_host', 'proxy_port', 'domain', 'timeout', 'auth', 'user',
  'password', 'passwordeval', 'tls', 'tls_starttls', 'tls_trust_file', 'tls_crl_file', 'tls_fingerprint', 'tls_key_file',
  'tls_cert_file', 'tls_certcheck', 'tls_priorities', 'tls_host_override', 'tls_min_dh_prime_bits', 'dsn_notify', 'dsn_return',
  // The session opener's account also decides what its mails' 8-bit data becomes, and how AUTH gets its token.
  'eightbit', 'oauth2_provider', 'oauth2_client_id', 'oauth2_client_secret', 'oauth2_client_secret_eval', 'oauth2_auth_endpoint',
  'oauth2_token_endpoint', 'oauth2_device_endpoint', 'oauth2_scope',
] as const satisfies readonly (keyof ReadyAccount)[];

/** The fail-over chain's part of a route's key: '' without one, so routes without a chain keep their keys. */
function chainKey(fallbacks: readonly ReadyAccount[]): string {
  return fallbacks.map((fallback) => `\0${JSON.stringify(SESSION_SETTINGS.map((name) => fallback[name]))}`).join('');
}

function accountKey(record: QueueRecord): string {
  return JSON.stringify([record.account, record.from === '' ? '' : record.from]);
}

async function openCourierSession(account: ReadyAccount, chunking: boolean, env: NodeJS.ProcessEnv, fallbacks: readonly ReadyAccount[], report: ChainReport): Promise<CourierSession> {
  // Opening is connect, greeting, EHLO, STARTTLS and AUTH: all before MAIL, so the chain is tried here (issue 16).
  const links = laterLinks([account, ...fallbacks], { debug: false, chunking }, { env, writeOut: () => {} });
  const session = await tryChain(links, (options, auth) => MailSession.open(options, auth), report);
  return {
    get usable() {
      return session.usable;
    },
    async send(mail, upcoming) {
      const results = await session.send(
        { key: mail.record.id, envelope: envelopeOf(mail, account), message: messageOf(mail), facts: factsOf(mail), eightbit: { policy: account.eightbit, reread: () => messageOf(mail) } },
        upcoming ? { key: upcoming.record.id, envelope: envelopeOf(upcoming, account), facts: factsOf(upcoming), eightbitPolicy: account.eightbit } : undefined,
      );
      return results.map((r) => ({ address: r.recipient, reply: r.reply, delivered: r.delivered }));
    },
    close: () => session.close(),
  };
}

function envelopeOf(mail: OutgoingMail, account: ReadyAccount): Envelope {
  return { reversePath: mail.record.from, recipients: mail.recipients, ...dsnRequest(account, mail.record.envid) };
}

function factsOf(mail: OutgoingMail): MessageFacts {
  return { octets: mail.record.size, has8bit: mail.record.has8bit, body: mail.record.body };
}

/**
 * The stored message, read in 64 KiB chunks into the spool's ring of reused buffers (a new buffer per
 * chunk took a 1 GB mail's flush over 64 MiB of RSS); it was CRLF throughout when it was queued, so it
 * is not normalised again.
 */
function messageOf(mail: OutgoingMail): CrlfChunks {
  return declareCrlf(fromFile(mail.messagePath));
}
