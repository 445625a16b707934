/**
 * The flush's way for a queued local part (issue 15, record `via: "mda"`):
 * the account's MDA instead of a server. It looks like a session to the
 * flush (flush.ts), so a local part is retried, expired and bounced like
 * any queued mail: each recipient's result becomes a reply as msmtpd maps
 * an MDA's exit (250 delivered, 451 temporary, 554 permanent), and a
 * recipient that has the mail is never given it again.
 */
import { homeDirectory, type ReadyAccount } from '../config/index.js';
import type { ServerReply } from '../errors.js';
import { deliverLocally, type LocalResult } from '../local/deliver.js';
import { declareCrlf } from '../message/line-endings.js';
import { fromFile } from '../message/spool.js';
import type { CourierSession, Route } from '../queue/flush.js';
import type { RecipientOutcome } from '../queue/attempt.js';

export function localRoute(account: ReadyAccount, accountKey: string, env: NodeJS.ProcessEnv): Route {
  return { key: `mda\0${accountKey}`, open: async () => localSession(account, env) };
}

function localSession(account: ReadyAccount, env: NodeJS.ProcessEnv): CourierSession {
  return {
    usable: true,
    async send(mail) {
      const results = await deliverLocally({
        rules: account,
        home: homeDirectory(env),
        reversePath: mail.record.from,
        recipients: mail.recipients,
        // Stored CRLF throughout when it was queued (as the SMTP courier reads it).
        message: () => declareCrlf(fromFile(mail.messagePath)),
        env,
      });
      return results.map(outcomeOf);
    },
    close: async () => {},
  };
}

function outcomeOf(result: LocalResult): RecipientOutcome {
  const { error } = result;
  const reply: ServerReply = !error
    ? { code: 250, enhanced: '2.0.0', lines: ['2.0.0 delivered locally'] }
    : error.transient
      ? { code: 451, enhanced: '4.3.0', lines: [`4.3.0 ${error.message}`] }
      : { code: 554, enhanced: '5.3.0', lines: [`5.3.0 ${error.message}`] };
  return { address: result.recipient, reply, delivered: !error };
}
