// A synthetic day of one Linux host as the Vigil agent reports it every 10 s, for the block codec benchmark: the
// shapes that decide compression (jiffy ratios, page-aligned byte gauges, bursty counters, 2-decimal load averages,
// constant series), generated from a seeded PRNG so every run measures the same data.

export const STEP_MS = 10_000;
export const DAY_POINTS = 8_640;
const T0 = Date.UTC(2026, 0, 15);
const PAGE = 4096;

export interface SyntheticSeries {
  name: string;
  /** Groups series for the per-category figures. */
  category: string;
  times: Float64Array;
  values: Float64Array;
}

/** Mulberry32: small, fast and good enough to make noise reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The host: 2 cores at 100 Hz, 8 GB of RAM, 2 network interfaces, 2 disks, 2 filesystems, 2 health checks. Network
 * and disk series are cumulative counters here; `toRates` gives them as the agent sends them (delta / 10 s).
 */
export function syntheticHost(seed = 1): SyntheticSeries[] {
  const rnd = prng(seed);
  const n = DAY_POINTS;
  const aligned = Float64Array.from({ length: n }, (_, i) => T0 + i * STEP_MS);
  const out: SyntheticSeries[] = [];
  const add = (category: string, name: string, values: Float64Array, times = aligned) => out.push({ name, category, times, values });
  const series = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const poisson = (mean: number) => {
    let k = 0;
    for (let p = Math.exp(-mean), s = rnd(); s > p && k < 1000; s *= rnd()) k++;
    return k;
  };

  // Activity 0..1: a daily wave, noise, and bursts of a few ticks to a few minutes.
  const activity = new Float64Array(n);
  for (let i = 0, burst = 0, height = 0; i < n; i++) {
    if (burst === 0 && rnd() < 0.01) [burst, height] = [1 + Math.floor(rnd() * 30), 0.3 + 0.5 * rnd()];
    const wave = 0.15 + 0.1 * Math.sin((2 * Math.PI * (i - n / 4)) / n);
    activity[i] = Math.min(0.95, Math.max(0.01, wave + 0.03 * normal() + (burst > 0 ? height : 0)));
    if (burst > 0) burst--;
  }

  // CPU: per core and tick, jiffies by state out of ~1000 (100 Hz × 10 s); the aggregate sums the cores.
  const STATES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
  const cores = [0, 1].map(() => STATES.map(() => new Float64Array(n)));
  const totals = [0, 1].map(() => new Float64Array(n));
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const total = 1000 + (rnd() < 0.1 ? (rnd() < 0.5 ? -1 : 1) : 0);
      const a = activity[i]! * (0.8 + 0.4 * rnd());
      const user = Math.round(total * a * 0.7);
      const system = Math.round(total * a * 0.22 * (0.8 + 0.4 * rnd()));
      const iowait = rnd() < 0.15 ? poisson(4) : 0;
      const softirq = poisson(1.5);
      const d = cores[c]!;
      d[0]![i] = user;
      d[2]![i] = system;
      d[4]![i] = iowait;
      d[6]![i] = softirq;
      d[3]![i] = Math.max(0, total - user - system - iowait - softirq);
      totals[c]![i] = total;
    }
  }
  const cpuLabels = ["", "0", "1"];
  for (const cpu of cpuLabels) {
    STATES.forEach((state, s) => {
      const jiffies = (c: number, i: number) => cores[c]![s]![i]!;
      const values =
        cpu === ""
          ? series((i) => (jiffies(0, i) + jiffies(1, i)) / (totals[0]![i]! + totals[1]![i]!))
          : series((i) => jiffies(Number(cpu), i) / totals[Number(cpu)]![i]!);
      add("cpu.utilization", `system.cpu.utilization{cpu="${cpu}",state="${state}"}`, values);
    });
  }

  // Memory: page counts that move by a few KB-MB a tick, with now and then a big allocation or cache drop.
  const totalPages = 2_037_000;
  const used = new Float64Array(n);
  const cached = new Float64Array(n);
  const buffers = new Float64Array(n);
  for (let i = 0, u = 600_000, ca = 700_000, b = 40_000; i < n; i++) {
    u += Math.round(normal() * 150 * (0.5 + activity[i]!)) + (rnd() < 0.002 ? Math.round((rnd() - 0.5) * 100_000) : 0);
    u = Math.min(1_200_000, Math.max(300_000, u));
    ca += Math.round(Math.abs(normal()) * 60) - (rnd() < 0.001 ? 150_000 : 0);
    ca = Math.min(1_000_000, Math.max(200_000, ca));
    if (rnd() < 0.3) b += Math.round(normal() * 3);
    [used[i], cached[i], buffers[i]] = [u, ca, b];
  }
  const bytes = (pages: Float64Array) => series((i) => pages[i]! * PAGE);
  const free = series((i) => totalPages - used[i]! - cached[i]! - buffers[i]!);
  const available = series((i) => free[i]! + Math.round(cached[i]! * 0.9) + buffers[i]!);
  add("memory.bytes", "system.memory.usage{state=used}", bytes(used));
  add("memory.bytes", "system.memory.usage{state=free}", bytes(free));
  add("memory.bytes", "system.memory.usage{state=cached}", bytes(cached));
  add("memory.bytes", "system.memory.usage{state=buffers}", bytes(buffers));
  add("memory.bytes", "system.memory.usage{state=available}", bytes(available));
  add("constant", "system.memory.limit", series(() => totalPages * PAGE));
  add("ratio", "system.memory.utilization", series((i) => (totalPages - available[i]!) / totalPages));
  const swapTotal = 524_288;
  const swapUsed = new Float64Array(n);
  for (let i = 0, s = 12_000; i < n; i++) swapUsed[i] = s += rnd() < 0.003 ? Math.round(normal() * 200) : 0;
  add("memory.bytes", "system.paging.usage{state=used}", bytes(swapUsed));
  add("memory.bytes", "system.paging.usage{state=free}", series((i) => (swapTotal - swapUsed[i]!) * PAGE));
  add("ratio", "system.paging.utilization", series((i) => swapUsed[i]! / swapTotal));

  // Load averages: the kernel's 5 s exponential averages of runnable tasks, printed with 2 decimals.
  const loads = [60, 300, 900].map(() => new Float64Array(n));
  const avg = [0.3, 0.3, 0.3];
  for (let i = 0; i < n; i++) {
    for (let half = 0; half < 2; half++) {
      const runnable = poisson(activity[i]! * 4);
      [60, 300, 900].forEach((period, k) => (avg[k] = avg[k]! * Math.exp(-5 / period) + runnable * (1 - Math.exp(-5 / period))));
    }
    for (let k = 0; k < 3; k++) loads[k]![i] = Number(avg[k]!.toFixed(2));
  }
  ["1m", "5m", "15m"].forEach((w, k) => add("load", `system.cpu.load_average.${w}`, loads[k]!));

  // Network and disk: cumulative counters with bursty rates; packets follow bytes; errors never and drops rarely move.
  const counter = (start: number, perTick: (i: number) => number) => {
    const c = new Float64Array(n);
    for (let i = 0, v = start; i < n; i++) c[i] = v += perTick(i);
    return c;
  };
  const bursty = (base: number) => (i: number) => Math.round(base * activity[i]! * Math.exp(normal() * 0.8) * (rnd() < 0.02 ? 20 : 1));
  for (const [dev, base] of [["eth0", 2_000_000], ["eth1", 20_000]] as const) {
    for (const dir of ["receive", "transmit"]) {
      const perTick = bursty(dir === "receive" ? base : base / 3);
      const byteDeltas = Float64Array.from({ length: n }, (_, i) => perTick(i));
      const labels = `device=${dev},direction=${dir}`;
      add("net.counter", `system.network.io{${labels}}`, counter(Math.floor(1e11 * rnd()), (i) => byteDeltas[i]!));
      add("net.counter", `system.network.packets{${labels}}`, counter(Math.floor(1e8 * rnd()), (i) => Math.round(byteDeltas[i]! / (300 + 900 * rnd()))));
      add("net.counter", `system.network.errors{${labels}}`, counter(0, () => 0));
      add("net.counter", `system.network.dropped{${labels}}`, counter(Math.floor(100 * rnd()), () => (rnd() < 0.001 ? 1 : 0)));
    }
  }
  for (const [dev, base] of [["sda", 400_000], ["sdb", 30_000]] as const) {
    const ops = { read: bursty(base / 40_000), write: bursty(base / 20_000) };
    for (const dir of ["read", "write"] as const) {
      const opDeltas = Float64Array.from({ length: n }, (_, i) => ops[dir](i));
      const labels = `device=${dev},direction=${dir}`;
      add("disk.counter", `system.disk.io{${labels}}`, counter(512 * Math.floor(1e9 * rnd()), (i) => 512 * opDeltas[i]! * (8 + Math.floor(rnd() * 56))));
      add("disk.counter", `system.disk.operations{${labels}}`, counter(Math.floor(1e7 * rnd()), (i) => opDeltas[i]!));
    }
    // io_time: busy ms out of 10,000, as the agent divides it.
    add("disk.io_time", `system.disk.io_time{device=${dev}}`, series((i) => Math.min(1, Math.round(activity[i]! * (base / 20_000) * rnd() * 40) / 10_000)));
  }

  // Filesystems: used bytes creep up in blocks (logs), now and then a rotation frees some; inodes follow.
  for (const [mount, sizeBlocks] of [["/", 25_000_000], ["/var", 120_000_000]] as const) {
    const usedBlocks = new Float64Array(n);
    const usedInodes = new Float64Array(n);
    for (let i = 0, u = sizeBlocks * 0.4, ino = 300_000; i < n; i++) {
      u += rnd() < 0.4 ? Math.floor(rnd() * 8) : 0;
      if (rnd() < 0.0005) u -= Math.floor(rnd() * 20_000);
      ino += rnd() < 0.05 ? Math.round(normal() * 3) : 0;
      [usedBlocks[i], usedInodes[i]] = [Math.round(u), ino];
    }
    const reserved = Math.round(sizeBlocks * 0.05);
    const freeBlocks = series((i) => sizeBlocks - reserved - usedBlocks[i]!);
    const inodesTotal = 6_553_600;
    const labels = `mountpoint=${mount}`;
    add("fs.bytes", `system.filesystem.usage{${labels},state=used}`, bytes(usedBlocks));
    add("fs.bytes", `system.filesystem.usage{${labels},state=free}`, bytes(freeBlocks));
    add("constant", `system.filesystem.usage{${labels},state=reserved}`, series(() => reserved * PAGE));
    add("ratio", `system.filesystem.utilization{${labels}}`, series((i) => usedBlocks[i]! / (usedBlocks[i]! + freeBlocks[i]!)));
    add("fs.inodes", `system.filesystem.inodes.usage{${labels},state=used}`, usedInodes);
    add("fs.inodes", `system.filesystem.inodes.usage{${labels},state=free}`, series((i) => inodesTotal - usedInodes[i]!));
  }

  // System: /proc/uptime has 2 decimals and the tick fires a few ms late now and then; process counts wander.
  const bootOffset = 86_400 * 37.25;
  add("system", "system.uptime", series((i) => Number((bootOffset + i * 10 + (rnd() < 0.1 ? 0.01 : 0)).toFixed(2))));
  add("system", "system.processes.count{status=running}", series((i) => 1 + poisson(activity[i]! * 3)));
  add("system", "system.processes.count{status=blocked}", series(() => (rnd() < 0.05 ? 1 : 0)));
  const procs = new Float64Array(n);
  for (let i = 0, p = 240; i < n; i++) procs[i] = p = Math.max(150, p + (rnd() < 0.3 ? Math.round(normal() * 2) : 0));
  add("system", "system.processes.count{status=all}", procs);
  add("constant", "system.cpu.logical.count", series(() => 2));

  // The agent's own health: spool empty while connected, one skew measurement per connection (ms / 1000).
  for (const name of ["spool.bytes", "spool.pending_batches", "spool.dropped_batches", "spool.corrupt_records", "rejected_batches"]) {
    add("constant", `vigil.agent.${name}`, series(() => 0));
  }
  const skew = new Float64Array(n);
  for (let i = 0, s = 3; i < n; i++) skew[i] = (s = rnd() < 0.002 ? Math.round(normal() * 20) + 0 : s) / 1000; // + 0: Math.round gives -0 for small negatives
  add("agent.skew", "vigil.agent.clock_skew", skew);

  // Health checks: results arrive when a check ends, so their times are a tick plus a jittered duration (integer ms).
  for (const check of ["http-api", "postgres"]) {
    const durations = series(() => 8 + Math.floor(rnd() * 40 * (rnd() < 0.05 ? 10 : 1)));
    const times = series((i) => aligned[i]! + durations[i]! + Math.floor(rnd() * 3));
    add("check", `vigil.check.status{check=${check}}`, series(() => (rnd() < 0.001 ? 0 : 1)), times);
    add("check", `vigil.check.duration{check=${check}}`, series((i) => durations[i]! / 1000), times);
  }
  // Measured floats, the few series whose doubles are noise and go through the float layout: a disk-writable check's
  // latency from performance.now() differences, and a process check's CPU share over its measured interval.
  const clock = series((i) => 5_000_000 + i * STEP_MS + rnd() * 4);
  add("check.float", "vigil.check.disk_writable.latency", series((i) => (clock[i]! + 0.2 + -Math.log(1 - rnd()) * 0.5 - clock[i]!) / 1000));
  add("check.float", "vigil.check.process.cpu", series((i) => Math.round(activity[i]! * 200 * rnd()) / 100 / ((STEP_MS + Math.floor(rnd() * 5)) / 1000)));
  return out;
}

/** The counter series as the agent sends them: per-second rates over each 10 s tick (the first tick has none). */
export function toRates(host: SyntheticSeries[]): SyntheticSeries[] {
  return host
    .filter((s) => s.category.endsWith(".counter"))
    .map((s) => ({
      name: s.name,
      category: s.category.replace(".counter", ".rate"),
      times: s.times.slice(1),
      values: Float64Array.from({ length: s.values.length - 1 }, (_, i) => (s.values[i + 1]! - s.values[i]!) / (STEP_MS / 1000)),
    }));
}
