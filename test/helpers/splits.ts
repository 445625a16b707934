/** Every way of cutting `text` into one, two or three chunks: for byte-level readers and transforms. */
export function splits(text: string): string[][] {
  const result: string[][] = [[text]];
  for (let i = 0; i <= text.length; i++) {
    result.push([text.slice(0, i), text.slice(i)]);
    for (let j = i; j <= text.length; j++) result.push([text.slice(0, i), text.slice(i, j), text.slice(j)]);
  }
  return result;
}
