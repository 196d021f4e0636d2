export type Labels = Record<string, string>;

/** A canonical string for a label set (keys sorted), used as a map key. */
export function labelsKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let out = "";
  for (const k of keys) out += `${k}\u0000${labels[k]}\u0001`;
  return out;
}

/** Parses repeatable `k=v` flags. */
export function parseLabelFlags(values: readonly string[], what = "--label"): Labels {
  const out: Labels = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new Error(`${what}: expected k=v, got ${JSON.stringify(v)}`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
