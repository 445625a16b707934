// The userland punycode package, imported by path: a bare 'punycode' would
// load Node's deprecated built-in module instead.
declare module 'punycode/punycode.js' {
  const punycode: {
    toASCII(input: string): string;
    toUnicode(input: string): string;
  };
  export default punycode;
}
