/**
 * xtext (RFC 3461 §4): the encoding of ENVID and ORCPT values. Every octet
 * outside "!" to "~", and "+" and "=", is written "+" and two upper-case hex
 * digits.
 */
export function xtext(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    out += byte >= 0x21 && byte <= 0x7e && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** RFC 3461 §4: xtext = *( xchar other than "+" and "=" / "+" 2 upper-case hex digits ). */
export function isXtext(text: string): boolean {
  return /^(?:[\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/.test(text);
}
