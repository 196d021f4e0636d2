// Replays the agent recorded by bench/record-agent.ts (1 s ticks) as hosts sampling every 10 s, with drift, computing
// each value the way agent/src/collectors/* does, so the codec sees what it would see from real agents:
// - CPU utilization (cpu.ts): integer jiffy deltas over their total. The recorded fractions give back each 1 s tick's
//   jiffies; a 10 s tick sums 10 of them (moving through the recording with a little random skip) and moves a few
//   jiffies between the states that are busy, then divides as the agent does.
// - Rates (disk.ts, network.ts): the recorded 1 s values are the per-second deltas; a 10 s tick is the sum of 10,
//   scaled by ±10 % (in the counter's unit: 512-byte sectors for disk bytes), divided by 10. io_time likewise in ms.
// - Cumulative counters and uptime keep growing by recorded 10 s increments; the agent's spool size is a sawtooth.
// - Gauges random-walk around the recorded values within their observed range, in steps of recorded 10 s changes, in
//   their own quantum (bytes, integers, 0.01 for load averages).
// - Fractions of gauges (memory, swap and filesystem utilization) are recomputed from the walked gauges as the agent
//   does (used / total), as are the gauges that sum to a fixed total (free = total − used − …).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

/** The recorded agent: bench/fixtures/agent-series.json, made by bench/record-agent.ts. */
export interface AgentFixture {
  note: string;
  recordedAt: string;
  intervalMs: number;
  cpuCount: number;
  ticks: number;
  series: { metric: string; labels: Record<string, string>; values: number[] }[];
}

export const FIXTURE_PATH = resolve(import.meta.dirname, "fixtures/agent-series.json");
export const loadFixture = (path = FIXTURE_PATH): AgentFixture => JSON.parse(readFileSync(path, "utf8")) as AgentFixture;

/** Recorded ticks per replayed tick: the agent's default 10 s over the recording's 1 s. */
const PER_TICK = 10;

/** mulberry32: a seeded generator, so every run replays the same values. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One generator writes some series' values of a tick; `reads` are series it derives from (written before it). */
interface Gen {
  writes: number[];
  reads: number[];
  tick(out: Float64Array): void;
}

/** Lowest-terms denominator of v (continued fraction), or 0 when none up to 10^6. */
function denominator(v: number): number {
  let [h1, h2, k1, k2, x] = [1, 0, 0, 1, v];
  for (let i = 0; i < 40; i++) {
    const a = Math.floor(x);
    const [h, k] = [a * h1 + h2, a * k1 + k2];
    if (k > 1e6) return 0;
    if (h / k === v) return k;
    if (x === a) return 0;
    x = 1 / (x - a);
    [h2, h1, k2, k1] = [h1, h, k1, k];
  }
  return 0;
}
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Decimal digits d (0–6) with every value an exact v × 10^d integer, or -1. */
function decimals(values: readonly number[]): number {
  for (let d = 0; d <= 6; d++) if (values.every((v) => Math.round(v * 10 ** d) / 10 ** d === v)) return d;
  return -1;
}

/** Sums of `PER_TICK` consecutive recorded counts starting at each tick (cyclic). */
function windowSums(counts: readonly number[]): number[] {
  return counts.map((_, s) => Array.from({ length: PER_TICK }, (_, j) => counts[(s + j) % counts.length]!).reduce((a, b) => a + b, 0));
}

/** Moves through the recording about PER_TICK ticks per replayed tick, from a random start, never in a fixed cycle. */
function cursor(n: number, r: () => number): () => number {
  let at = Math.floor(r() * n);
  return () => (at = (at + PER_TICK + Math.floor(r() * 5) - 2 + n) % n);
}

function cpuGen(idx: number[], f: AgentFixture, r: () => number): Gen {
  // Each recorded tick's jiffy total: the lcm of the fractions' denominators, scaled up to the usual total.
  const lcms = Array.from({ length: f.ticks }, (_, t) => idx.reduce((l, i) => {
    const d = denominator(f.series[i]!.values[t]!);
    return d === 0 ? l : (l * d) / gcd(l, d);
  }, 1));
  const usual = median(lcms);
  const jiffies = idx.map((i) => f.series[i]!.values.map((v, t) => Math.round(v * lcms[t]! * Math.max(1, Math.round(usual / lcms[t]!)))));
  const sums = jiffies.map(windowSums);
  const next = cursor(f.ticks, r);
  const d = new Float64Array(idx.length);
  return {
    writes: idx,
    reads: [],
    tick(out) {
      const s = next();
      for (let k = 0; k < idx.length; k++) d[k] = sums[k]![s]!;
      // A few jiffies change state, between states that are busy this tick (an idle irq stays idle).
      for (let moves = Math.floor(r() * 4); moves > 0; moves--) {
        const a = Math.floor(r() * idx.length);
        const b = Math.floor(r() * idx.length);
        if (d[a]! > 0 && d[b]! > 0) d[a]!--, d[b]!++;
      }
      let total = 0;
      for (let k = 0; k < idx.length; k++) total += d[k]!;
      for (let k = 0; k < idx.length; k++) out[idx[k]!] = total > 0 ? d[k]! / total : 0;
    },
  };
}

function rateGen(i: number, f: AgentFixture, r: () => number): Gen {
  const s = f.series[i]!;
  // Per-second rates at 1 s ticks are the counts themselves: bytes of 512-byte sectors, operations, packets, or for
  // io_time the busy fraction of 1000 ms.
  const unit = s.metric === "system.disk.io" ? 512 : 1;
  const ioTime = s.metric === "system.disk.io_time";
  const counts = s.values.map((v) => Math.round(ioTime ? v * 1000 : v / unit));
  const sums = windowSums(counts);
  const next = cursor(f.ticks, r);
  return {
    writes: [i],
    reads: [],
    tick(out) {
      const c = Math.round(sums[next()]! * (0.9 + 0.2 * r()));
      out[i] = ioTime ? Math.min(1, c / (PER_TICK * 1000)) : (c * unit) / PER_TICK;
    },
  };
}

/** A gauge walking within its observed range, a counter growing, or a sawtooth, in the series' own quantum. */
function walkGen(i: number, f: AgentFixture, r: () => number): Gen {
  const vs = f.series[i]!.values;
  const dec = decimals(vs);
  const scale = dec < 0 ? 1 : 10 ** dec;
  const units = vs.map((v) => (dec < 0 ? v : Math.round(v * scale)));
  const steps = units.map((u, t) => units[(t + PER_TICK) % units.length]! - u).slice(0, Math.max(1, units.length - PER_TICK));
  const [lo, hi] = [Math.min(...units), Math.max(...units)];
  const rising = units.every((u, t) => t === 0 || u >= units[t - 1]!) && hi > lo;
  const metric = f.series[i]!.metric;
  let u = units[Math.floor(r() * units.length)]!;
  return {
    writes: [i],
    reads: [],
    tick(out) {
      const step = steps[Math.floor(r() * steps.length)]!;
      if (rising) {
        u += step;
        // The spool's size falls back when its acked segments are deleted.
        if (metric === "vigil.agent.spool.bytes" && u > hi) u = lo;
      } else if (hi > lo) {
        u += r() < 0.5 ? step : -step;
        if (u > hi) u = 2 * hi - u;
        if (u < lo) u = 2 * lo - u;
        u = Math.min(hi, Math.max(lo, u));
      }
      out[i] = dec < 0 ? u : u / scale;
    },
  };
}

/** Series that the agent derives from others: recomputed from the walked values. */
function derivedGen(f: AgentFixture, find: (metric: string, labels: Record<string, string>) => number): Gen[] {
  const gens: Gen[] = [];
  const at = (metric: string, labels: Record<string, string>) => find(metric, labels);
  const mem = (state: string) => at("system.memory.usage", { state });
  const [total, used, free, cached, buffers, available, util] = [at("system.memory.limit", {}), mem("used"), mem("free"), mem("cached"), mem("buffers"), mem("available"), at("system.memory.utilization", { state: "used" })];
  if ([total, used, free, cached, buffers, available, util].every((x) => x >= 0)) {
    const v = (k: number) => f.series[k]!.values[0]!;
    // MemAvailable moves with free + cache; the kernel's offset between them stays.
    const offset = v(free) + v(cached) + v(buffers) - v(available);
    gens.push({
      writes: [free, available, util],
      reads: [total, used, cached, buffers],
      tick(out) {
        out[free] = Math.max(0, out[total]! - out[used]! - out[cached]! - out[buffers]!);
        out[available] = Math.max(0, out[free]! + out[cached]! + out[buffers]! - offset);
        const ratio = (out[total]! - out[available]!) / out[total]!;
        out[util] = ratio < 0 ? 0 : ratio > 1 ? 1 : ratio;
      },
    });
  }
  // used + free stays each filesystem's size (and swap's), the utilization is used / (used + free).
  for (const s of f.series) {
    if (s.labels.state !== "used") continue;
    const rest = Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== "state"));
    const fr = at(s.metric, { ...rest, state: "free" });
    const u = at(s.metric, s.labels);
    if (fr < 0) continue;
    const size = f.series[u]!.values[0]! + f.series[fr]!.values[0]!;
    const ut = s.metric === "system.filesystem.usage" ? at("system.filesystem.utilization", rest) : s.metric === "system.paging.usage" ? at("system.paging.utilization", { state: "used" }) : -1;
    gens.push({
      writes: ut >= 0 ? [fr, ut] : [fr],
      reads: [u],
      tick(out) {
        out[fr] = Math.max(0, size - out[u]!);
        if (ut >= 0) out[ut] = out[u]! + out[fr]! > 0 ? out[u]! / (out[u]! + out[fr]!) : 0;
      },
    });
  }
  return gens;
}

const isRate = (metric: string) => metric.startsWith("system.disk.") || metric.startsWith("system.network.");

/** One replayed host: `tick()` gives the next 10 s tick's value of every series (fixture order; NaN when not wanted). */
export class ReplayHost {
  private readonly gens: Gen[];
  private readonly out: Float64Array;

  /** `wanted`: fixture indexes to produce (default all); only their generators and what they read from run. */
  constructor(f: AgentFixture, seed: number, wanted?: readonly number[]) {
    const r = rng(seed);
    const key = (metric: string, labels: Record<string, string>) => `${metric} ${JSON.stringify(Object.entries(labels).sort())}`;
    const index = new Map(f.series.map((s, i) => [key(s.metric, s.labels), i]));
    const find = (metric: string, labels: Record<string, string>) => index.get(key(metric, labels)) ?? -1;
    const cpuGroups = new Map<string, number[]>();
    const base: Gen[] = [];
    f.series.forEach((s, i) => {
      if (s.metric === "system.cpu.utilization") {
        const g = s.labels.cpu ?? "";
        (cpuGroups.get(g) ?? cpuGroups.set(g, []).get(g)!).push(i);
      } else base.push(isRate(s.metric) ? rateGen(i, f, r) : walkGen(i, f, r));
    });
    for (const idx of cpuGroups.values()) base.push(cpuGen(idx, f, r));
    const derived = derivedGen(f, find);
    // A derived value replaces the walk of the same series: the walk of what it writes is dropped.
    const overwritten = new Set(derived.flatMap((g) => g.writes));
    const all = [...base.filter((g) => !g.writes.every((w) => overwritten.has(w))), ...derived];
    const need = new Set(wanted ?? f.series.map((_, i) => i));
    for (const g of [...all].reverse()) if (g.writes.some((w) => need.has(w))) for (const x of g.reads) need.add(x);
    this.gens = all.filter((g) => g.writes.some((w) => need.has(w)));
    this.out = new Float64Array(f.series.length).fill(NaN);
  }

  tick(): Float64Array {
    for (const g of this.gens) g.tick(this.out);
    return this.out;
  }
}
