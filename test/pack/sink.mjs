// A throwaway SMTP server on 127.0.0.1 (a free port, written to the file
// named by the first argument) that takes any mail and keeps none: the
// build's sink (scripts/smtp-sink.mjs), as a process test/pack/run.sh can
// start and stop by PID. SIGTERM stops it.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { answerSmtp } from '../../scripts/smtp-sink.mjs';

const server = createServer(answerSmtp);
server.listen(0, '127.0.0.1', () => writeFileSync(process.argv[2], `${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
