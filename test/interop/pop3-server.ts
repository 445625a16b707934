/**
 * A minimal POP3 server (RFC 1939) on loopback, port 0, for fetchmail's
 * case in mda.test.ts: the interop Dovecot serves LMTP only (servers.sh sets
 * `protocols = lmtp`), so fetchmail's source is this one. It knows one user
 * and a list of mails; USER/PASS, STAT, LIST, UIDL, RETR, DELE, NOOP, RSET,
 * TOP, CAPA and QUIT, with dot-stuffing; deleted mails are gone after QUIT.
 * Every connection is closed by `close()`.
 */
import { createServer, type Server, type Socket } from 'node:net';

export interface Pop3Server {
  readonly port: number;
  /** Mails not deleted yet. */
  remaining(): number;
  close(): Promise<void>;
}

export async function startPop3Server(user: string, password: string, mails: readonly string[]): Promise<Pop3Server> {
  const store = mails.map((m) => Buffer.from(m.replace(/\r?\n/g, '\r\n')));
  const alive = store.map(() => true);
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    session(socket, { user, password, store, alive });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    remaining: () => alive.filter(Boolean).length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Mailbox {
  readonly user: string;
  readonly password: string;
  readonly store: readonly Buffer[];
  readonly alive: boolean[];
}

/** The header, the empty line and the first `lines` lines of the body. */
function top(mail: Buffer, lines: number): string {
  const text = mail.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return text;
  const body = text.slice(split + 4).split('\r\n');
  const kept = body.slice(0, Math.min(lines, body.length)).join('\r\n');
  return text.slice(0, split + 4) + kept + (kept.endsWith('\r\n') || kept === '' ? '' : '\r\n');
}

function session(socket: Socket, box: Mailbox): void {
  let buffered = '';
  let givenUser: string | undefined;
  let authenticated = false;
  const deleted = new Set<number>();
  const say = (line: string) => socket.write(`${line}\r\n`);
  const visible = () => box.store.map((mail, i) => ({ mail, n: i + 1 })).filter(({ n }) => box.alive[n - 1] && !deleted.has(n));
  const pick = (arg: string | undefined) => visible().find(({ n }) => String(n) === arg);
  say('+OK outbox interop POP3 ready');
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (let end = buffered.indexOf('\r\n'); end >= 0; end = buffered.indexOf('\r\n')) {
      const [verb = '', arg, arg2] = buffered.slice(0, end).split(' ');
      buffered = buffered.slice(end + 2);
      const command = verb.toUpperCase();
      if (command === 'QUIT') {
        for (const n of deleted) box.alive[n - 1] = false;
        say('+OK bye');
        socket.end();
        return;
      }
      if (command === 'CAPA') say('+OK\r\nUSER\r\nUIDL\r\n.');
      else if (command === 'USER') (givenUser = arg, say('+OK'));
      else if (command === 'PASS') {
        authenticated = givenUser === box.user && arg === box.password;
        say(authenticated ? '+OK logged in' : '-ERR wrong password');
      } else if (!authenticated) say('-ERR log in first');
      else if (command === 'STAT') say(`+OK ${visible().length} ${visible().reduce((s, { mail }) => s + mail.length, 0)}`);
      else if (command === 'LIST' || command === 'UIDL') {
        const value = (m: { mail: Buffer; n: number }) => (command === 'LIST' ? String(m.mail.length) : `uid${m.n}`);
        if (arg !== undefined) {
          const found = pick(arg);
          say(found ? `+OK ${found.n} ${value(found)}` : '-ERR no such message');
        } else say(['+OK', ...visible().map((m) => `${m.n} ${value(m)}`), '.'].join('\r\n'));
      } else if (command === 'RETR') {
        const found = pick(arg);
        if (!found) say('-ERR no such message');
        else socket.write(Buffer.concat([Buffer.from(`+OK ${found.mail.length} octets\r\n`), Buffer.from(found.mail.toString('latin1').replace(/^\./gm, '..'), 'latin1'), Buffer.from('.\r\n')]));
      } else if (command === 'TOP') {
        // TOP n lines: the header and the first `lines` lines of the body (fetchmail asks for them all).
        const found = pick(arg);
        const lines = Number(arg2);
        if (!found) say('-ERR no such message');
        else socket.write(Buffer.concat([Buffer.from('+OK\r\n'), Buffer.from(top(found.mail, lines).replace(/^\./gm, '..'), 'latin1'), Buffer.from('.\r\n')]));
      } else if (command === 'DELE') {
        const found = pick(arg);
        if (found) deleted.add(found.n);
        say(found ? '+OK deleted' : '-ERR no such message');
      } else if (command === 'NOOP') say('+OK');
      else if (command === 'RSET') (deleted.clear(), say('+OK'));
      else say('-ERR unknown command');
    }
  });
}
