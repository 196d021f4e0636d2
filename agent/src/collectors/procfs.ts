/** Where sources read from; tests point these at fixture trees. */
export interface SourceOptions {
  procRoot?: string;
  sysRoot?: string;
}

const TAB = 9;
const NL = 10;
const SPACE = 32;
const ZERO = 48;
const NINE = 57;

/**
 * Parses whitespace-separated unsigned integers from `pos` to the end of its line into `out`
 * (extra fields ignored, missing ones left 0) and returns where the next line starts.
 * Hand-rolled so the per-tick path allocates no substrings or arrays.
 */
export function parseUints(text: string, pos: number, out: Float64Array): number {
  out.fill(0);
  let field = 0;
  let n = 0;
  let inNum = false;
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      n = n * 10 + (c - ZERO);
      inNum = true;
      continue;
    }
    if (inNum) {
      if (field < out.length) out[field] = n;
      field++;
      n = 0;
      inNum = false;
    }
    if (c === NL) return i + 1;
  }
  if (inNum && field < out.length) out[field] = n;
  return text.length;
}

export function skipSpaces(text: string, pos: number): number {
  let i = pos;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== SPACE && c !== TAB) break;
  }
  return i;
}

/** End of the token starting at `pos` (first space, tab or newline). */
export function tokenEnd(text: string, pos: number): number {
  let i = pos;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === TAB || c === NL) break;
  }
  return i;
}

export function nextLine(text: string, pos: number): number {
  const nl = text.indexOf("\n", pos);
  return nl < 0 ? text.length : nl + 1;
}
