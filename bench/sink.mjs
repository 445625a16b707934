#!/usr/bin/env node
// A minimal, fast SMTP sink for the benchmarks.
//
// Usage: node bench/sink.mjs [--quiet] [--max-seconds=N] [--no-8bitmime]
//
// Listens on 127.0.0.1, port 0 (the kernel picks one) and prints the port,
// alone on one line, on stdout. It then accepts any number of connections and
// speaks just enough SMTP for a client to deliver mail: EHLO/HELO, MAIL, RCPT,
// DATA, RSET, NOOP, QUIT. Replies to pipelined commands go out in order, one
// write per chunk read. The mail body is discarded as it arrives; only its
// size is counted (every byte after "DATA\r\n" up to and including the final
// ".\r\n").
//
// After each message it prints one JSON line on stderr:
//   {"msg":1,"rcpts":3,"bytes":12345,"ms":12.3,"cpuMs":1.2}
// (unless --quiet): "ms" is the wall time of the DATA phase (from the 354
// reply to the end marker) and "cpuMs" the CPU time the sink spent in it, so
// a reader can check that the sink was never the bottleneck. The sink exits on SIGTERM/SIGINT, or by itself after
// --max-seconds (default 900) so a lost sink never lingers. --no-8bitmime
// leaves 8BITMIME out of the EHLO reply (bench/eightbit.mjs: a server that
// needs 8-bit mail converted).

import net from 'node:net';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const maxSecondsArg = args.find((a) => a.startsWith('--max-seconds='));
const maxSeconds = maxSecondsArg ? Number(maxSecondsArg.split('=')[1]) : 900;

const END = Buffer.from('\r\n.\r\n');
const MAX_LINE = 64 * 1024; // a command line longer than this is an error
let messageCount = 0;

const EHLO_REPLY =
  '250-sink.localhost\r\n' +
  '250-PIPELINING\r\n' +
  (args.includes('--no-8bitmime') ? '' : '250-8BITMIME\r\n') +
  '250 SIZE 0\r\n';

function handle(socket) {
  socket.setNoDelay(true);
  /** 'command' or 'data' */
  let mode = 'command';
  let pending = Buffer.alloc(0); // incomplete command line
  let tail = Buffer.alloc(0); // last (up to 4) bytes of data seen, for END across chunks
  let haveFrom = false;
  let rcpts = 0;
  let dataBytes = 0;
  let dataStart = 0n;
  let dataCpu = null;
  let closed = false;

  function resetTransaction() {
    haveFrom = false;
    rcpts = 0;
  }

  function command(line) {
    const upper = line.slice(0, 10).toUpperCase();
    if (upper.startsWith('EHLO ') || upper === 'EHLO') {
      resetTransaction();
      return EHLO_REPLY;
    }
    if (upper.startsWith('HELO ') || upper === 'HELO') {
      resetTransaction();
      return '250 sink.localhost\r\n';
    }
    if (upper.startsWith('MAIL FROM:')) {
      if (haveFrom) return '503 5.5.1 Nested MAIL command\r\n';
      haveFrom = true;
      rcpts = 0;
      return '250 2.1.0 OK\r\n';
    }
    if (upper.startsWith('RCPT TO:')) {
      if (!haveFrom) return '503 5.5.1 Need MAIL first\r\n';
      rcpts++;
      return '250 2.1.5 OK\r\n';
    }
    if (upper === 'DATA') {
      if (!haveFrom || rcpts === 0) return '503 5.5.1 Need RCPT first\r\n';
      mode = 'data';
      tail = Buffer.from('\r\n'); // the CRLF that ended "DATA" counts for an empty body
      dataBytes = 0;
      dataStart = process.hrtime.bigint();
      dataCpu = process.cpuUsage();
      return '354 End data with <CR><LF>.<CR><LF>\r\n';
    }
    if (upper === 'RSET') {
      resetTransaction();
      return '250 2.0.0 OK\r\n';
    }
    if (upper === 'NOOP' || upper.startsWith('NOOP ')) return '250 2.0.0 OK\r\n';
    if (upper === 'QUIT') {
      closed = true;
      return '221 2.0.0 Bye\r\n';
    }
    return '502 5.5.2 Command not implemented\r\n';
  }

  // Consume body bytes from `chunk` starting at `from`. Returns the offset just
  // past the end marker, or -1 when the whole chunk was body.
  function consumeData(chunk, from) {
    const body = from === 0 ? chunk : chunk.subarray(from);
    // An end marker that straddles the previous chunk and this one.
    if (tail.length > 0) {
      const joint = Buffer.concat([tail, body.subarray(0, 4)]);
      const j = joint.indexOf(END);
      if (j !== -1) {
        const used = j + END.length - tail.length; // bytes of `body` used
        dataBytes += used;
        return from + used;
      }
    }
    const i = body.indexOf(END);
    if (i !== -1) {
      const used = i + END.length;
      dataBytes += used;
      return from + used;
    }
    dataBytes += body.length;
    if (body.length >= 4) {
      tail = Buffer.from(body.subarray(body.length - 4));
    } else {
      const t = Buffer.concat([tail, body]);
      tail = Buffer.from(t.subarray(Math.max(0, t.length - 4)));
    }
    return -1;
  }

  function endOfMessage() {
    messageCount++;
    const ms = Number(process.hrtime.bigint() - dataStart) / 1e6;
    const cpu = process.cpuUsage(dataCpu);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (!quiet) {
      process.stderr.write(
        JSON.stringify({
          msg: messageCount,
          rcpts,
          bytes: dataBytes,
          ms: Math.round(ms * 10) / 10,
          cpuMs: Math.round(cpuMs * 10) / 10,
        }) + '\n',
      );
    }
    mode = 'command';
    tail = Buffer.alloc(0);
    resetTransaction();
    return '250 2.0.0 OK queued\r\n';
  }

  socket.on('data', (chunk) => {
    let out = '';
    let pos = 0;
    while (pos < chunk.length && !closed) {
      if (mode === 'data') {
        const end = consumeData(chunk, pos);
        if (end === -1) break;
        pos = end;
        out += endOfMessage();
        continue;
      }
      const nl = chunk.indexOf(10, pos); // LF
      if (nl === -1) {
        pending = Buffer.concat([pending, chunk.subarray(pos)]);
        if (pending.length > MAX_LINE) {
          out += '500 5.5.2 Line too long\r\n';
          closed = true;
        }
        break;
      }
      let lineBuf = chunk.subarray(pos, nl);
      if (pending.length > 0) {
        lineBuf = Buffer.concat([pending, lineBuf]);
        pending = Buffer.alloc(0);
      }
      pos = nl + 1;
      let line = lineBuf.toString('latin1');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      out += command(line);
    }
    if (out) socket.write(out);
    if (closed) socket.end();
  });
  socket.on('error', () => {}); // a client that resets is not our problem
  socket.write('220 sink.localhost ESMTP bench sink\r\n');
}

const server = net.createServer({ noDelay: true }, handle);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(String(server.address().port) + '\n');
});

const stop = () => {
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, maxSeconds * 1000).unref();
