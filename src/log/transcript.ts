/**
 * The `--debug` transcript: every command and reply, prefixed as msmtp does
 * ("--> " for what we send, "<-- " for what the server says). This hook is the
 * one place that decides what may be shown; secrets (AUTH, from a later issue)
 * are redacted here before anything is written.
 */
import type { TraceEvent } from '../smtp/connection.js';

export type WriteLine = (line: string) => void;

export function transcriptWriter(write: WriteLine): (event: TraceEvent) => void {
  return (event) => {
    switch (event.kind) {
      case 'command':
        // Credentials never reach the transcript: AUTH shows its mechanism only, SASL responses nothing.
        if (event.command.verb === 'SASL') write('--> <redacted>');
        else if (event.command.verb === 'AUTH') write(`--> AUTH ${event.command.mechanism}${event.command.initialResponse === undefined ? '' : ' <redacted>'}`);
        else write(`--> ${redactCommand(event.line)}`);
        break;
      case 'reply': {
        const { code, lines } = event.reply;
        const last = Math.max(lines.length - 1, 0);
        (lines.length ? lines : ['']).forEach((text, i) => {
          write(`<-- ${code}${i < last ? '-' : text ? ' ' : ''}${text}`);
        });
        break;
      }
      case 'data':
        write(`--> [message data: ${event.octets} octets, then "."]`);
        break;
    }
  };
}

/** AUTH arguments and SASL responses are credentials: show the verb and mechanism only. */
export function redactCommand(line: string): string {
  const auth = /^(AUTH\s+\S+)\s+\S/i.exec(line);
  return auth ? `${auth[1]} <redacted>` : line;
}
