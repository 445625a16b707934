/**
 * SMTP/LMTP commands as typed values, and the one serializer that puts them on
 * the wire. The serializer refuses CR, LF and NUL in every argument, so no
 * caller can smuggle a second command into the dialogue (RFC 5321 §2.3.8).
 */
import { OutboxError } from '../errors.js';
import { isEsmtpKeyword, isEsmtpValue } from './syntax.js';

/** ESMTP parameters on MAIL or RCPT (RFC 5321 §4.1.2 esmtp-param): keyword → value, or `true` for a bare keyword. */
export type EsmtpParams = ReadonlyArray<readonly [keyword: string, value: string | true]>;

export type Command =
  | { readonly verb: 'EHLO' | 'HELO' | 'LHLO'; readonly domain: string }
  | { readonly verb: 'MAIL'; readonly reversePath: string; readonly params?: EsmtpParams }
  | { readonly verb: 'RCPT'; readonly forwardPath: string; readonly params?: EsmtpParams }
  | { readonly verb: 'AUTH'; readonly mechanism: string; /** Base64, or "=" for an empty one (RFC 4954 §4). */ readonly initialResponse?: string }
  /** A SASL response line (base64, or "*" to cancel): not a verb, but it goes on the wire the same way. */
  | { readonly verb: 'SASL'; readonly response: string }
  /** RFC 3030: the next `size` octets are message data; LAST ends the message. The data follows the line. */
  | { readonly verb: 'BDAT'; readonly size: number; readonly last: boolean }
  /** RFC 1985: a host, `@domain` or `#queue` whose queued mail the server should start sending. */
  | { readonly verb: 'ETRN'; readonly node: string }
  | { readonly verb: 'DATA' | 'RSET' | 'NOOP' | 'QUIT' | 'STARTTLS' };

/**
 * Longest command line we send, in octets, CRLF included. RFC 5321
 * §4.5.3.1.4 allows 512 octets plus what extensions add; msmtp refuses over
 * 8190. Octets as they go on the wire (UTF-8 with SMTPUTF8, RFC 6531), not
 * string length: a non-ASCII address takes two to four octets a character.
 */
export const MAX_COMMAND_LENGTH = 8192;

export function serializeCommand(command: Command): string {
  const line = commandLine(command);
  if (Buffer.byteLength(line, 'utf8') + 2 > MAX_COMMAND_LENGTH) {
    throw new OutboxError('E_BAD_DATA', `${command.verb} command longer than ${MAX_COMMAND_LENGTH} octets`);
  }
  return `${line}\r\n`;
}

function commandLine(command: Command): string {
  switch (command.verb) {
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return `${command.verb} ${checked(command.verb, command.domain)}`;
    case 'MAIL':
      return `MAIL FROM:<${checked('MAIL', command.reversePath)}>${paramsText('MAIL', command.params)}`;
    case 'RCPT':
      return `RCPT TO:<${checked('RCPT', command.forwardPath)}>${paramsText('RCPT', command.params)}`;
    case 'AUTH':
      return `AUTH ${token('AUTH', command.mechanism)}${command.initialResponse === undefined ? '' : ` ${saslText(command.initialResponse)}`}`;
    case 'SASL':
      return saslText(command.response);
    case 'ETRN':
      return `ETRN ${checked('ETRN', command.node)}`;
    case 'BDAT':
      if (!Number.isSafeInteger(command.size) || command.size < 0) throw new OutboxError('E_BAD_DATA', `BDAT: invalid chunk size ${command.size}`);
      return `BDAT ${command.size}${command.last ? ' LAST' : ''}`;
    default:
      return command.verb;
  }
}

function paramsText(verb: string, params: EsmtpParams | undefined): string {
  if (!params) return '';
  return params
    .map(([keyword, value]) => {
      if (!isEsmtpKeyword(keyword)) {
        throw new OutboxError('E_BAD_DATA', `${verb}: invalid ESMTP parameter keyword ${JSON.stringify(keyword)}`);
      }
      if (value === true) return ` ${keyword}`;
      if (!isEsmtpValue(value)) {
        throw new OutboxError('E_BAD_DATA', `${verb}: invalid value for ESMTP parameter ${keyword}`);
      }
      return ` ${keyword}=${value}`;
    })
    .join('');
}

/** A SASL mechanism name (RFC 4422 §3.1): upper-case letters, digits, "-" and "_". */
function token(verb: string, name: string): string {
  if (!/^[A-Z0-9_-]{1,20}$/.test(name)) throw new OutboxError('E_BAD_DATA', `${verb}: invalid SASL mechanism name ${JSON.stringify(name)}`);
  return name;
}

/** Base64 text, "=" or "*": never anything that could end the line early or smuggle a command. */
function saslText(text: string): string {
  if (!/^(?:[A-Za-z0-9+/]*={0,2}|\*)$/.test(text)) throw new OutboxError('E_BAD_DATA', 'a SASL response is not base64');
  return text;
}

function checked(verb: string, argument: string): string {
  const bad = /[\r\n\0]/.exec(argument);
  if (bad) {
    const what = bad[0] === '\0' ? 'NUL' : bad[0] === '\r' ? 'CR' : 'LF';
    throw new OutboxError('E_BAD_DATA', `${verb} argument contains a ${what} character: ${JSON.stringify(argument)}`);
  }
  return argument;
}
