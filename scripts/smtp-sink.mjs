// Just enough SMTP for a client to send mail, for the build's code cache
// (scripts/code-cache.mjs) and the start-up bench (bench/startup.mjs): a
// greeting, then 250 to everything but DATA (354, then 250 after the end
// of the data) and QUIT (221). Replies go out as each line is read.
export function answerSmtp(socket) {
  let inData = false;
  let pending = '';
  socket.setNoDelay(true);
  socket.on('error', () => {});
  socket.write('220 sink.invalid\r\n');
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    for (;;) {
      if (inData) {
        const end = pending.indexOf('\r\n.\r\n');
        if (end < 0) { pending = pending.slice(-4); return; }
        pending = pending.slice(end + 5);
        inData = false;
        socket.write('250 queued\r\n');
        continue;
      }
      const eol = pending.indexOf('\r\n');
      if (eol < 0) return;
      const verb = pending.slice(0, 4).toUpperCase();
      pending = pending.slice(eol + 2);
      if (verb === 'EHLO') socket.write('250-sink.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n');
      else if (verb === 'DATA') { inData = true; pending = `\r\n${pending}`; socket.write('354 go on\r\n'); }
      else if (verb === 'QUIT') socket.end('221 bye\r\n');
      else socket.write('250 ok\r\n');
    }
  });
}
