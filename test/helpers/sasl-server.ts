/**
 * A small, strict SMTP server over implicit TLS for the SASL end-to-end
 * tests: the server side of PLAIN (RFC 4616), EXTERNAL (RFC 4422 App. A),
 * OAUTHBEARER (RFC 7628), XOAUTH2 (Google's description, with its 401
 * JSON challenge) and SCRAM-SHA-1/-256 with and without -PLUS
 * (RFC 5802, RFC 7677, channel binding per RFC 5929 tls-unique and RFC 9266
 * tls-exporter), written from the RFCs and independent of src/sasl, so that
 * a misunderstanding shared by client and server cannot pass.
 *
 * It records every session: the TLS version, the client certificate, each
 * AUTH attempt (the client's messages, the outcome, the identity), the mail,
 * and any protocol violation it noticed (pipelining without PIPELINING, a
 * command that must end a group followed by more input, bare line feeds).
 * It never closes a connection of its own accord except after QUIT; close()
 * destroys every socket and the listener.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type SecureVersion, type TLSSocket } from 'node:tls';

export type ServerMechanism =
  | 'PLAIN'
  | 'EXTERNAL'
  | 'OAUTHBEARER'
  | 'XOAUTH2'
  | 'SCRAM-SHA-1'
  | 'SCRAM-SHA-256'
  | 'SCRAM-SHA-1-PLUS'
  | 'SCRAM-SHA-256-PLUS';

export interface SaslServerOptions {
  /** PEM: the server's certificate and key (localhost), and the CA client certificates must chain to. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** Advertised in `250-AUTH`, in this order. */
  readonly mechanisms: readonly ServerMechanism[];
  /** Advertise PIPELINING (default true). */
  readonly pipelining?: boolean;
  /** e.g. 'TLSv1.2' to force tls-unique. */
  readonly maxVersion?: SecureVersion;
  /** The one account: user name and password (PLAIN, SCRAM), and the OAuth2 access token (OAUTHBEARER). */
  readonly user: string;
  readonly password: string;
  readonly token: string;
  /**
   * Instead of comparing with `token`: whether a bearer token is valid now
   * (the OAuth2 tests ask their authorisation server, which issues, expires
   * and revokes tokens).
   */
  readonly acceptToken?: (token: string) => boolean;
  /** SCRAM iteration count (default 4096). */
  readonly iterations?: number;
  /** SCRAM: send a server signature that is not the right one. */
  readonly forgeServerSignature?: boolean;
  /** SCRAM -PLUS: expect other channel binding data than this connection's, as if someone were in the middle. */
  readonly tamperChannelBinding?: boolean;
}

export interface AuthAttempt {
  readonly mechanism: string;
  /** The AUTH command's initial response as sent (`=` for an empty one), undefined when there was none. */
  readonly initialResponse: string | undefined;
  /** More input followed the AUTH line before its reply: AUTH led a pipelined group. */
  readonly pipelined: boolean;
  /** The client's lines in answer to 334 challenges, exactly as sent (base64, or `*`). */
  readonly responses: string[];
  /** Every client message of the exchange, decoded (the initial message first). */
  readonly messages: Buffer[];
  outcome: 'pending' | 'success' | 'failure' | 'cancelled' | 'malformed';
  /** The identity authenticated, on success. */
  identity?: string;
  /** Why the server failed or refused the exchange. */
  reason?: string;
  /** SCRAM: the GS2 header of the client-first message and the channel binding type it named. */
  scram?: { gs2Header: string; channelBindingType?: string };
  /** OAUTHBEARER: the fields of the client's message; XOAUTH2: `user` and `auth`. */
  oauth?: { authzid: string; fields: Record<string, string> };
  /** OAUTHBEARER: the client's answer to the error challenge, decoded. */
  errorAnswer?: Buffer;
}

export interface ReceivedMail {
  readonly from: string;
  readonly recipients: readonly string[];
  /** The message, dot-unstuffed, lines joined with CRLF, without the final dot. */
  readonly data: string;
  /** Who had authenticated. */
  readonly identity: string;
}

export interface ClientCertificateInfo {
  readonly presented: boolean;
  /** Node's verdict (socket.authorized), with its reason when false. */
  readonly authorized: boolean;
  readonly authorizationError?: string;
  /** Our own check: issued and signed by the CA, and valid now. */
  readonly verified: boolean;
  readonly commonName?: string;
}

export interface SessionRecord {
  readonly protocol: string | null;
  readonly resumed: boolean;
  readonly clientCertificate: ClientCertificateInfo;
  /** Command lines as received (not the SASL responses, not the message data). */
  readonly commands: string[];
  readonly auth: AuthAttempt[];
  identity: string | null;
  readonly mails: ReceivedMail[];
  readonly violations: string[];
}

export interface SaslServer {
  readonly port: number;
  readonly sessions: SessionRecord[];
  /** Every mail received, in any session. */
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

const MAX_LINE = 12_288; // RFC 4954 §4: the AUTH line may be this long
const MAX_BUFFER = 1024 * 1024;

export async function startSaslServer(options: SaslServerOptions): Promise<SaslServer> {
  for (const secret of [options.user, options.password, options.token]) {
    // SASLprep (RFC 4013) leaves printable ASCII alone; the server below relies on that.
    if (!/^[\x21-\x7e]+$/.test(secret)) throw new Error('sasl-server: the user, password and token must be printable ASCII');
  }
  const caCertificate = new X509Certificate(options.ca);
  const sessions: SessionRecord[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({
    cert: options.cert,
    key: options.key,
    ca: [options.ca],
    requestCert: true,
    rejectUnauthorized: false,
    ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
  }, (socket) => {
    const record: SessionRecord = {
      protocol: socket.getProtocol(),
      resumed: socket.isSessionReused(),
      clientCertificate: inspectClientCertificate(socket, caCertificate),
      commands: [],
      auth: [],
      identity: null,
      mails: [],
      violations: [],
    };
    sessions.push(record);
    new SmtpConnection(socket, options, record, () => (server.address() as AddressInfo).port).start();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    sessions,
    get mails() {
      return sessions.flatMap((s) => s.mails);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function inspectClientCertificate(socket: TLSSocket, ca: X509Certificate): ClientCertificateInfo {
  const peer = socket.getPeerX509Certificate();
  const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
  if (!peer) return { presented: false, authorized: false, verified: false, ...(authorizationError ? { authorizationError } : {}) };
  const now = Date.now();
  const verified = peer.checkIssued(ca) && peer.verify(ca.publicKey)
    && Date.parse(peer.validFrom) <= now && now <= Date.parse(peer.validTo);
  const commonName = peer.subject.split('\n').find((part) => part.startsWith('CN='))?.slice(3);
  return {
    presented: true,
    authorized: socket.authorized,
    ...(authorizationError ? { authorizationError } : {}),
    verified,
    ...(commonName !== undefined ? { commonName } : {}),
  };
}

// ---------------------------------------------------------------------------
// SMTP

/** RFC 2920 §3.1: these must be the last command of a pipelined group. */
const LAST_IN_GROUP = new Set(['EHLO', 'HELO', 'DATA', 'QUIT', 'NOOP', 'STARTTLS']);

type Step = { readonly challenge: Buffer } | { readonly success: string } | { readonly failure: string };

interface Exchange {
  /** The next client message (the first one is the initial response). */
  step(message: Buffer): Step;
}

class SmtpConnection {
  private buffer = Buffer.alloc(0);
  private state: 'command' | 'sasl' | 'data' | 'closed' = 'command';
  private greeted = false;
  private exchange: { attempt: AuthAttempt; run: Exchange } | undefined;
  private transaction: { from: string; recipients: string[] } | undefined;
  private dataLines: Buffer[] = [];

  constructor(
    private readonly socket: TLSSocket,
    private readonly options: SaslServerOptions,
    private readonly record: SessionRecord,
    private readonly port: () => number,
  ) {}

  start(): void {
    this.socket.on('error', () => {});
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      if (this.buffer.length > MAX_BUFFER) {
        this.violation('more than 1 MB of unterminated input');
        this.socket.destroy();
        return;
      }
      this.drain();
    });
    this.reply('220 localhost ESMTP sasl-test-server');
  }

  private reply(...lines: string[]): void {
    if (this.state === 'closed') return;
    this.socket.write(lines.map((line) => `${line}\r\n`).join(''));
  }

  private violation(what: string): void {
    this.record.violations.push(what);
  }

  private get pipelining(): boolean {
    return this.options.pipelining ?? true;
  }

  private drain(): void {
    while (this.state !== 'closed') {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) {
        if (this.buffer.length > MAX_LINE && this.state !== 'data') {
          this.violation('a line longer than 12288 octets');
          this.buffer = Buffer.alloc(0);
        }
        return;
      }
      const raw = this.buffer.subarray(0, end);
      this.buffer = this.buffer.subarray(end + 2);
      const followed = this.buffer.length > 0;
      if (this.state === 'data') {
        this.dataLine(raw, followed);
        continue;
      }
      const line = raw.toString('latin1');
      if (/[\r\n]/.test(line)) this.violation(`a bare CR or LF in ${JSON.stringify(line.slice(0, 40))}`);
      if (line.length > MAX_LINE) this.violation('a line longer than 12288 octets');
      if (this.state === 'sasl') this.saslResponse(line, followed);
      else this.command(line, followed);
    }
  }

  // -- commands -------------------------------------------------------------

  private command(line: string, followed: boolean): void {
    this.record.commands.push(line);
    const verb = (/^[A-Za-z]+/.exec(line)?.[0] ?? '').toUpperCase();
    if (followed) {
      if (!this.pipelining) this.violation(`${verb || line} was followed by more input before its reply, and PIPELINING was not offered`);
      else if (LAST_IN_GROUP.has(verb)) this.violation(`${verb} was not the last command of its pipelined group`);
    }
    switch (verb) {
      case 'EHLO':
        return this.ehlo(line);
      case 'AUTH':
        return this.auth(line, followed);
      case 'MAIL':
        return this.mail(line);
      case 'RCPT':
        return this.rcpt(line);
      case 'DATA':
        return this.data(line);
      case 'RSET':
        this.transaction = undefined;
        return this.reply('250 2.0.0 OK');
      case 'NOOP':
        return this.reply('250 2.0.0 OK');
      case 'QUIT':
        this.reply('221 2.0.0 Bye');
        this.state = 'closed';
        this.socket.end();
        return;
      default:
        return this.reply('500 5.5.2 Command not recognized');
    }
  }

  private ehlo(line: string): void {
    if (!/^EHLO [^ ]+$/i.test(line)) return this.reply('501 5.5.4 Syntax: EHLO domain');
    this.greeted = true;
    this.transaction = undefined;
    const extensions = [`AUTH ${this.options.mechanisms.join(' ')}`, ...(this.pipelining ? ['PIPELINING'] : [])];
    this.reply('250-localhost greets you', ...extensions.map((ext, i) => `250${i === extensions.length - 1 ? ' ' : '-'}${ext}`));
  }

  private mail(line: string): void {
    if (!this.greeted) return this.reply('503 5.5.1 EHLO first');
    if (this.record.identity === null) return this.reply('530 5.7.0 Authentication required');
    if (this.transaction) return this.reply('503 5.5.1 Nested MAIL command');
    const match = /^MAIL FROM:<([^<>\s]*)>$/i.exec(line);
    if (!match) return this.reply('501 5.5.4 Syntax: MAIL FROM:<address> (no parameters are supported)');
    this.transaction = { from: match[1] ?? '', recipients: [] };
    this.reply('250 2.1.0 Sender OK');
  }

  private rcpt(line: string): void {
    if (!this.transaction) return this.reply('503 5.5.1 MAIL first');
    const match = /^RCPT TO:<([^<>\s]+)>$/i.exec(line);
    if (!match) return this.reply('501 5.5.4 Syntax: RCPT TO:<address> (no parameters are supported)');
    this.transaction.recipients.push(match[1] ?? '');
    this.reply('250 2.1.5 Recipient OK');
  }

  private data(line: string): void {
    if (line.toUpperCase() !== 'DATA') return this.reply('501 5.5.4 Syntax: DATA');
    if (!this.transaction) return this.reply('503 5.5.1 MAIL first');
    if (this.transaction.recipients.length === 0) return this.reply('554 5.5.1 No valid recipients');
    this.state = 'data';
    this.dataLines = [];
    this.reply('354 End data with <CR><LF>.<CR><LF>');
  }

  private dataLine(raw: Buffer, followed: boolean): void {
    if (raw.length === 1 && raw[0] === 0x2e) {
      const transaction = this.transaction!;
      this.record.mails.push({
        from: transaction.from,
        recipients: [...transaction.recipients],
        data: Buffer.concat(this.dataLines.flatMap((l) => [l, Buffer.from('\r\n')])).toString('utf8'),
        identity: this.record.identity ?? '',
      });
      this.transaction = undefined;
      this.dataLines = [];
      this.state = 'command';
      if (followed && !this.pipelining) this.violation('the end of data was followed by more input before its reply, and PIPELINING was not offered');
      this.reply('250 2.0.0 Message accepted');
      return;
    }
    if (raw.includes(0x0a) || raw.includes(0x0d)) this.violation('a bare CR or LF in the message data');
    // RFC 5321 §4.5.2: remove one leading dot.
    this.dataLines.push(raw[0] === 0x2e ? raw.subarray(1) : raw);
  }

  // -- AUTH (RFC 4954) ------------------------------------------------------

  private auth(line: string, followed: boolean): void {
    const match = /^AUTH ([A-Za-z0-9_-]+)(?: ([^ ]+))?$/i.exec(line);
    if (!this.greeted) return this.reply('503 5.5.1 EHLO first');
    if (this.record.identity !== null) return this.reply('503 5.5.1 Already authenticated');
    if (this.transaction) return this.reply('503 5.5.1 AUTH not allowed during a mail transaction');
    if (!match) return this.reply('501 5.5.4 Syntax: AUTH mechanism [initial-response]');
    const mechanism = (match[1] ?? '').toUpperCase() as ServerMechanism;
    const initialResponse = match[2];
    if (!this.options.mechanisms.includes(mechanism)) return this.reply('504 5.5.4 Unrecognized authentication type');
    const attempt: AuthAttempt = { mechanism, initialResponse, pipelined: followed, responses: [], messages: [], outcome: 'pending' };
    this.record.auth.push(attempt);
    const oneRoundTrip = initialResponse !== undefined && ['PLAIN', 'EXTERNAL', 'OAUTHBEARER', 'XOAUTH2'].includes(mechanism);
    if (followed && this.pipelining && !oneRoundTrip) {
      this.violation(`AUTH ${mechanism}${initialResponse === undefined ? ' without an initial response' : ''} was not the last command of its pipelined group (RFC 4954 §4)`);
    }
    this.exchange = { attempt, run: this.startExchange(mechanism, attempt) };
    if (initialResponse === undefined) {
      // Every mechanism here is client-first: an empty challenge asks for its first message.
      this.state = 'sasl';
      return this.reply('334 ');
    }
    const decoded = initialResponse === '=' ? Buffer.alloc(0) : decodeBase64(initialResponse);
    if (decoded === undefined) return this.endExchange('malformed', '501 5.5.2 The initial response is not base64', 'initial response not base64');
    this.saslMessage(decoded);
  }

  private saslResponse(line: string, followed: boolean): void {
    const exchange = this.exchange!;
    exchange.attempt.responses.push(line);
    if (line === '*') return this.endExchange('cancelled', '501 5.7.0 Authentication cancelled', 'the client cancelled');
    const decoded = decodeBase64(line);
    if (decoded === undefined) return this.endExchange('malformed', '501 5.5.2 The response is not base64', `response not base64: ${JSON.stringify(line.slice(0, 60))}`);
    if (followed) this.violation(`a SASL response (${exchange.attempt.mechanism}) was followed by more input before the server's reply`);
    this.saslMessage(decoded);
  }

  private saslMessage(message: Buffer): void {
    const exchange = this.exchange!;
    exchange.attempt.messages.push(message);
    const step = exchange.run.step(message);
    if ('challenge' in step) {
      this.state = 'sasl';
      return this.reply(`334 ${step.challenge.toString('base64')}`);
    }
    if ('success' in step) {
      exchange.attempt.outcome = 'success';
      exchange.attempt.identity = step.success;
      this.record.identity = step.success;
      this.exchange = undefined;
      this.state = 'command';
      return this.reply('235 2.7.0 Authentication successful');
    }
    this.endExchange('failure', '535 5.7.8 Authentication credentials invalid', step.failure);
  }

  private endExchange(outcome: AuthAttempt['outcome'], reply: string, reason: string): void {
    const attempt = this.exchange!.attempt;
    attempt.outcome = outcome;
    attempt.reason ??= reason;
    this.exchange = undefined;
    this.state = 'command';
    this.reply(reply);
  }

  private startExchange(mechanism: ServerMechanism, record: AuthAttempt): Exchange {
    const { options } = this;
    const attempt = (): AuthAttempt => record;
    switch (mechanism) {
      case 'PLAIN':
        return plainExchange(options);
      case 'EXTERNAL':
        return externalExchange(this.record.clientCertificate);
      case 'OAUTHBEARER':
        return oauthBearerExchange(options, this.port(), attempt);
      case 'XOAUTH2':
        return xoauth2Exchange(options, attempt);
      default: {
        const hash = mechanism.startsWith('SCRAM-SHA-256') ? 'sha256' : 'sha1';
        const plus = mechanism.endsWith('-PLUS');
        const serverOffersPlus = options.mechanisms.some((m) => m.endsWith('-PLUS'));
        let binding = channelBindingOf(this.socket);
        if (binding && options.tamperChannelBinding) binding = { type: binding.type, data: Buffer.from(binding.data.map((b) => b ^ 0x5a)) };
        return scramExchange({ hash, plus, serverOffersPlus, binding, options, attempt });
      }
    }
  }
}

/** Strict base64 (RFC 4648 §4, padded); undefined when the text is not. The empty text is the empty message. */
function decodeBase64(text: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
function utf8(bytes: Buffer): string | undefined {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd

function plainExchange(options: SaslServerOptions): Exchange {
  return {
    step(message) {
      const text = utf8(message);
      const parts = text?.split('\0');
      if (!parts || parts.length !== 3) return { failure: 'PLAIN: malformed message' };
      const [authzid, authcid, password] = parts;
      if (authcid !== options.user || password !== options.password) return { failure: 'PLAIN: wrong user name or password' };
      if (authzid !== '' && authzid !== options.user) return { failure: 'PLAIN: authorization identity not allowed' };
      return { success: options.user };
    },
  };
}

// ---------------------------------------------------------------------------
// EXTERNAL (RFC 4422 Appendix A): the message is the authorization identity
// (possibly empty); the authentication identity is the TLS client certificate.

function externalExchange(certificate: ClientCertificateInfo): Exchange {
  return {
    step(message) {
      const authzid = utf8(message);
      if (authzid === undefined || authzid.includes('\0')) return { failure: 'EXTERNAL: malformed authorization identity' };
      if (!certificate.presented) return { failure: 'EXTERNAL: no client certificate' };
      if (!certificate.authorized || !certificate.verified || certificate.commonName === undefined) {
        return { failure: `EXTERNAL: the client certificate does not chain to the CA (${certificate.authorizationError ?? 'not verified'})` };
      }
      if (authzid !== '' && authzid !== certificate.commonName) return { failure: 'EXTERNAL: authorization identity not allowed' };
      return { success: certificate.commonName };
    },
  };
}

// ---------------------------------------------------------------------------
// OAUTHBEARER (RFC 7628 §3.1):
//   gs2-header kvsep *kvpair kvsep, kvsep = %x01, kvpair = key "=" value kvsep
// A refused token is answered with a JSON error challenge; the client must
// answer that with the single byte %x01 (§3.2.3), and the server then fails.

const OAUTH_ERROR = JSON.stringify({
  status: 'invalid_token',
  scope: 'https://mail.example.com/',
  'openid-configuration': 'https://auth.example.com/.well-known/openid-configuration',
});

function oauthBearerExchange(options: SaslServerOptions, port: number, attempt: () => AuthAttempt): Exchange {
  let errorSent = false;
  return {
    step(message) {
      if (errorSent) {
        attempt().errorAnswer = Buffer.from(message);
        return { failure: message.length === 1 && message[0] === 0x01 ? 'OAUTHBEARER: token refused' : 'OAUTHBEARER: the error challenge was not answered with %x01' };
      }
      const text = utf8(message);
      if (text === undefined) return { failure: 'OAUTHBEARER: not UTF-8' };
      const header = /^([ny]),(?:a=([^,]*))?,/.exec(text);
      if (!header) return { failure: 'OAUTHBEARER: malformed GS2 header (channel binding is not supported)' };
      const authzid = decodeSaslName(header[2] ?? '');
      if (authzid === undefined) return { failure: 'OAUTHBEARER: malformed authorization identity' };
      const rest = text.slice(header[0].length);
      if (!rest.startsWith('\x01') || !rest.endsWith('\x01\x01') || rest.length < 3) return { failure: 'OAUTHBEARER: malformed key/value list' };
      const fields: Record<string, string> = {};
      for (const pair of rest.slice(1, -2).split('\x01')) {
        const kv = /^([A-Za-z]+)=([\x21-\x7e \t\r\n]*)$/.exec(pair);
        if (!kv) return { failure: `OAUTHBEARER: malformed key/value pair` };
        const key = kv[1] ?? '';
        if (key in fields) return { failure: `OAUTHBEARER: key ${key} given twice` };
        fields[key] = kv[2] ?? '';
      }
      attempt().oauth = { authzid, fields };
      const bearer = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(fields['auth'] ?? '');
      const valid = bearer !== null && tokenValid(options, bearer[1]!)
        && (authzid === '' || authzid === options.user)
        && fields['host'] === 'localhost'
        && fields['port'] === String(port);
      if (!valid) {
        errorSent = true;
        return { challenge: Buffer.from(OAUTH_ERROR) };
      }
      return { success: options.user };
    },
  };
}

function tokenValid(options: SaslServerOptions, token: string): boolean {
  return options.acceptToken ? options.acceptToken(token) : token === options.token;
}

// ---------------------------------------------------------------------------
// XOAUTH2 (https://developers.google.com/gmail/imap/xoauth2-protocol):
//   "user=" user ^A "auth=Bearer " token ^A ^A
// A refused token gets a 334 with base64 JSON {"status":"401",…}; the
// client answers with an empty line and the server then fails (535).

const XOAUTH2_ERROR = JSON.stringify({ status: '401', schemes: 'bearer', scope: 'https://mail.example.com/' });

function xoauth2Exchange(options: SaslServerOptions, attempt: () => AuthAttempt): Exchange {
  let errorSent = false;
  return {
    step(message) {
      if (errorSent) {
        attempt().errorAnswer = Buffer.from(message);
        return { failure: message.length === 0 ? 'XOAUTH2: token refused' : 'XOAUTH2: the error challenge was not answered with an empty response' };
      }
      const match = /^user=([^\x01]+)\x01auth=Bearer ([A-Za-z0-9\-._~+/]+=*)\x01\x01$/.exec(utf8(message) ?? '');
      if (!match) return { failure: 'XOAUTH2: malformed message' };
      attempt().oauth = { authzid: '', fields: { user: match[1]!, auth: `Bearer ${match[2]!}` } };
      if (match[1] !== options.user || !tokenValid(options, match[2]!)) {
        errorSent = true;
        return { challenge: Buffer.from(XOAUTH2_ERROR) };
      }
      return { success: options.user };
    },
  };
}

// ---------------------------------------------------------------------------
// SCRAM (RFC 5802, RFC 7677)
//
//   C: gs2-header client-first-bare          gs2-header = cbind-flag "," [ "a=" saslname ] ","
//   S: r=c-nonce s-nonce,s=salt,i=iterations
//   C: c=base64(cbind-input),r=nonce,p=proof cbind-input = gs2-header [ cbind-data ]
//   S: v=server-signature  or  e=error
//   C: (empty)

type Hash = 'sha1' | 'sha256';

interface ScramSetup {
  readonly hash: Hash;
  readonly plus: boolean;
  /** The server advertised a -PLUS mechanism (RFC 5802 §6: a "y" flag then means a downgrade). */
  readonly serverOffersPlus: boolean;
  /** This connection's channel binding, as the server computes it. */
  readonly binding: { type: 'tls-exporter' | 'tls-unique'; data: Buffer } | undefined;
  readonly options: SaslServerOptions;
  readonly attempt: () => AuthAttempt;
}

const hmac = (hash: Hash, key: Buffer, data: Buffer | string): Buffer => createHmac(hash, key).update(data).digest();
const h = (hash: Hash, data: Buffer): Buffer => createHash(hash).update(data).digest();
const xor = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));

/** RFC 5802 §2.2 Hi(): U1 = HMAC(str, salt + INT(1)), Ui = HMAC(str, Ui-1), Hi = U1 XOR U2 XOR … XOR Ui. */
function hi(hash: Hash, password: Buffer, salt: Buffer, iterations: number): Buffer {
  let u = hmac(hash, password, Buffer.concat([salt, Buffer.from([0, 0, 0, 1])]));
  const result = Buffer.from(u);
  for (let i = 1; i < iterations; i++) {
    u = hmac(hash, password, u);
    for (let k = 0; k < result.length; k++) result[k]! ^= u[k]!;
  }
  return result;
}

/** saslname: "=2C" is ",", "=3D" is "=", any other "=" is invalid; undefined then. */
function decodeSaslName(text: string): string | undefined {
  if (/=(?!2C|3D)/.test(text)) return undefined;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

function scramExchange(setup: ScramSetup): Exchange {
  const { hash, plus, options } = setup;
  const iterations = options.iterations ?? 4096;
  let state: 'first' | 'final' | 'verify' | 'error' = 'first';
  let gs2Header = '';
  let cbindInput: Buffer = Buffer.alloc(0);
  let clientFirstBare = '';
  let serverFirst = '';
  let nonce = '';
  let storedKey: Buffer = Buffer.alloc(0);
  let serverKey: Buffer = Buffer.alloc(0);

  const serverError = (error: string, reason: string): Step => {
    state = 'error';
    setup.attempt().reason = `SCRAM: ${reason} (e=${error})`;
    return { challenge: Buffer.from(`e=${error}`) };
  };

  function clientFirst(text: string): Step {
    const header = /^(n|y|p=([A-Za-z0-9.-]+)),(?:a=([^,]*))?,/.exec(text);
    if (!header) return { failure: 'SCRAM: malformed GS2 header' };
    gs2Header = header[0];
    const flag = header[1] ?? '';
    const cbName = header[2];
    setup.attempt().scram = { gs2Header, ...(cbName !== undefined ? { channelBindingType: cbName } : {}) };
    if (header[3] !== undefined) {
      const authzid = decodeSaslName(header[3]);
      if (authzid === undefined || authzid !== options.user) return { failure: 'SCRAM: authorization identity not allowed' };
    }
    // Channel binding policy (RFC 5802 §6, RFC 5929, RFC 9266).
    if (plus) {
      if (cbName === undefined) return { failure: 'SCRAM: a -PLUS mechanism without channel binding (flag must be p=)' };
      if (!setup.binding) return { failure: 'SCRAM: this connection has no channel binding' };
      if (cbName !== setup.binding.type) return { failure: `SCRAM: unsupported channel binding type ${cbName} (this connection has ${setup.binding.type})` };
      cbindInput = Buffer.concat([Buffer.from(gs2Header, 'utf8'), setup.binding.data]);
    } else {
      if (cbName !== undefined) return { failure: 'SCRAM: channel binding (p=) asked for with a mechanism that is not -PLUS' };
      if (flag === 'y' && setup.serverOffersPlus) return { failure: 'SCRAM: the client says the server cannot bind, but it offered -PLUS (server-does-support-channel-binding)' };
      cbindInput = Buffer.from(gs2Header, 'utf8');
    }
    clientFirstBare = text.slice(gs2Header.length);
    const attributes = clientFirstBare.split(',');
    if (attributes[0]?.startsWith('m=')) return { failure: 'SCRAM: mandatory extension not supported' };
    const [n, r, ...extensions] = attributes;
    if (!n?.startsWith('n=') || !r?.startsWith('r=')) return { failure: 'SCRAM: malformed client-first message' };
    if (extensions.some((e) => !/^[A-Za-z]=/.test(e))) return { failure: 'SCRAM: malformed extension' };
    const user = decodeSaslName(n.slice(2));
    if (user === undefined) return { failure: 'SCRAM: invalid user name encoding' };
    if (user !== options.user) return { failure: 'SCRAM: unknown user' };
    const clientNonce = r.slice(2);
    if (!PRINTABLE.test(clientNonce)) return { failure: 'SCRAM: the client nonce is not printable' };

    nonce = clientNonce + randomBytes(18).toString('base64');
    const salt = randomBytes(16);
    serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
    // What a server stores (RFC 5802 §3): StoredKey and ServerKey, from the password.
    const saltedPassword = hi(hash, Buffer.from(options.password, 'utf8'), salt, iterations);
    storedKey = h(hash, hmac(hash, saltedPassword, 'Client Key'));
    serverKey = hmac(hash, saltedPassword, 'Server Key');
    state = 'final';
    return { challenge: Buffer.from(serverFirst, 'utf8') };
  }

  function clientFinal(text: string): Step {
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) return serverError('other-error', 'client-final without a proof');
    const withoutProof = text.slice(0, proofAt);
    const [c, r, ...extensions] = withoutProof.split(',');
    if (!c?.startsWith('c=') || !r?.startsWith('r=') || extensions.some((e) => !/^[A-Za-z]=/.test(e))) {
      return serverError('other-error', 'malformed client-final message');
    }
    const cbind = decodeBase64(c.slice(2));
    if (cbind === undefined) return serverError('invalid-encoding', 'c= is not base64');
    if (!cbind.equals(cbindInput)) return serverError('channel-bindings-dont-match', 'c= differs from the GS2 header and channel binding data');
    if (r.slice(2) !== nonce) return serverError('other-error', 'the nonce differs from the server-first nonce');
    const proof = decodeBase64(text.slice(proofAt + 3));
    if (proof === undefined || proof.length !== storedKey.length) return serverError('invalid-proof', 'the proof is malformed');
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(hash, storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    if (!timingSafeEqual(h(hash, clientKey), storedKey)) return serverError('invalid-proof', 'wrong password');
    let serverSignature = hmac(hash, serverKey, authMessage);
    if (options.forgeServerSignature) serverSignature = xor(serverSignature, randomBytes(serverSignature.length).map((b) => b | 1));
    state = 'verify';
    return { challenge: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }

  return {
    step(message) {
      if (state === 'verify' || state === 'error') {
        // RFC 4954: the client answers the server-final challenge with an empty response.
        const empty = message.length === 0;
        if (state === 'error') return { failure: `${setup.attempt().reason ?? 'SCRAM: failed'}${empty ? '' : '; the answer to e= was not empty'}` };
        return empty ? { success: options.user } : { failure: 'SCRAM: the answer to the server-final message was not empty' };
      }
      const text = utf8(message);
      if (text === undefined) return state === 'first' ? { failure: 'SCRAM: not UTF-8' } : serverError('invalid-encoding', 'not UTF-8');
      return state === 'first' ? clientFirst(text) : clientFinal(text);
    },
  };
}

// ---------------------------------------------------------------------------
// Channel binding as the server sees it

/**
 * RFC 9266 tls-exporter on TLS 1.3 (32 bytes, label "EXPORTER-Channel-Binding",
 * and RFC 9266's "no context", which in TLS 1.3 is the same as an empty one,
 * RFC 8446 §7.5); RFC 5929 tls-unique on
 * TLS 1.2: the first Finished message of the latest handshake, which on a
 * full handshake is the client's (the server's peer's) and on an abbreviated
 * one the server's own.
 */
export function channelBindingOf(socket: TLSSocket): { type: 'tls-exporter' | 'tls-unique'; data: Buffer } | undefined {
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.3') return { type: 'tls-exporter', data: socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) };
  if (protocol === 'TLSv1.2') {
    const first = socket.isSessionReused() ? socket.getFinished() : socket.getPeerFinished();
    return first ? { type: 'tls-unique', data: first } : undefined;
  }
  return undefined;
}
