/**
 * A client's SASL response line as RFC 4954 §4 sends it: strict base64
 * (RFC 4648 §4, padded) of UTF-8 text, "=" alone for the empty response.
 * One decoder for the server's PLAIN, LOGIN and SCRAM steps.
 */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one client line; undefined when it is not strict base64 of UTF-8 text. */
export function decodeResponse(line: string): string | undefined {
  if (line === '=') return '';
  if (!BASE64.test(line)) return undefined;
  try {
    return UTF8.decode(Buffer.from(line, 'base64'));
  } catch {
    return undefined;
  }
}
