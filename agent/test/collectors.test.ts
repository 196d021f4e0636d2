import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import type { Labels } from "@vigil/shared";
import {
  CpuSource,
  defaultSources,
  DiskSource,
  FilesystemSource,
  MemorySource,
  NetworkSource,
  SystemSource,
  type Sample,
  type StatfsResult,
} from "../src/collectors/index.js";

/** Writes `files` (paths relative to root) into a fresh temp dir, or over an existing one. */
function tree(files: Record<string, string>, root = mkdtempSync(join(tmpdir(), "vigil-proc-"))): string {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return root;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((k) => a[k] === b[k]);
}

/** The value of the single sample matching metric and exact labels. */
function value(samples: Sample[], metric: string, labels: Labels = {}): number {
  const hits = samples.filter((s) => s.metric === metric && sameLabels(s.labels, labels));
  assert.equal(hits.length, 1, `expected one ${metric} ${JSON.stringify(labels)}, got ${hits.length}`);
  return hits[0]?.value ?? NaN;
}

function count(samples: Sample[], metric: string): number {
  return samples.filter((s) => s.metric === metric).length;
}

const statTail = "intr 5 1 2 3\nctxt 100\nbtime 1\nprocesses 50\nprocs_running 3\nprocs_blocked 1\nsoftirq 9 8\n";

test("cpu: utilization fractions of the delta, total and per core, load and core count", (t) => {
  const root = tree({
    "stat": "cpu  100 10 50 800 20 5 5 10 7 0\ncpu0 50 5 25 400 10 2 3 5 0 0\ncpu1 50 5 25 400 10 3 2 5 0 0\n" + statTail,
    "loadavg": "0.50 1.25 2.00 1/100 1234\n",
  });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = new CpuSource({ procRoot: root });

  const first = src.collect(1000);
  assert.equal(count(first, "system.cpu.utilization"), 0);
  assert.equal(value(first, "system.cpu.logical.count"), 2);
  assert.equal(value(first, "system.cpu.load_average.1m"), 0.5);
  assert.equal(value(first, "system.cpu.load_average.5m"), 1.25);
  assert.equal(value(first, "system.cpu.load_average.15m"), 2);

  // total +1000 jiffies (guest +50 is ignored: it is already inside user); cpu0 +100; cpu1 +900.
  tree({ "stat": "cpu  200 10 100 1600 40 15 15 20 57 0\ncpu0 90 5 35 450 10 2 3 5 0 0\ncpu1 110 5 65 1150 30 13 12 15 0 0\n" + statTail }, root);
  const s = src.collect(2000);
  const total = { user: 0.1, nice: 0, system: 0.05, idle: 0.8, iowait: 0.02, irq: 0.01, softirq: 0.01, steal: 0.01 };
  for (const [state, v] of Object.entries(total)) assert.equal(value(s, "system.cpu.utilization", { state }), v, state);
  assert.equal(value(s, "system.cpu.utilization", { cpu: "0", state: "user" }), 0.4);
  assert.equal(value(s, "system.cpu.utilization", { cpu: "0", state: "system" }), 0.1);
  assert.equal(value(s, "system.cpu.utilization", { cpu: "0", state: "idle" }), 0.5);
  assert.equal(value(s, "system.cpu.utilization", { cpu: "0", state: "steal" }), 0);
  assert.equal(value(s, "system.cpu.utilization", { cpu: "1", state: "user" }), 60 / 900);
  assert.equal(value(s, "system.cpu.utilization", { cpu: "1", state: "idle" }), 750 / 900);
  assert.equal(count(s, "system.cpu.utilization"), 3 * 8);

  // cpu1 going backwards is a reset: its point is skipped, the others still report.
  tree({ "stat": "cpu  300 10 150 2400 60 25 25 30 57 0\ncpu0 100 5 45 500 10 2 3 5 0 0\ncpu1 10 5 5 10 0 0 0 0 0 0\n" + statTail }, root);
  const r = src.collect(3000);
  assert.equal(count(r, "system.cpu.utilization"), 2 * 8);
  assert.equal(r.filter((x) => x.labels["cpu"] === "1").length, 0);
});

test("memory: usage split like free, utilization from MemAvailable, swap", (t) => {
  const meminfo = (swapTotal: number, swapFree: number) =>
    `MemTotal:       16000000 kB\nMemFree:         4000000 kB\nMemAvailable:   10000000 kB\nBuffers:          500000 kB\n` +
    `SwapCached:        11111 kB\nCached:          3000000 kB\nSReclaimable:     500000 kB\n` +
    `SwapTotal:       ${swapTotal} kB\nSwapFree:        ${swapFree} kB\nHugePages_Total:       0\n`;
  const root = tree({ "meminfo": meminfo(2000000, 1500000) });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = new MemorySource({ procRoot: root });

  const s = src.collect(1000);
  const k = 1024;
  assert.equal(value(s, "system.memory.usage", { state: "used" }), 8000000 * k);
  assert.equal(value(s, "system.memory.usage", { state: "free" }), 4000000 * k);
  assert.equal(value(s, "system.memory.usage", { state: "cached" }), 3500000 * k);
  assert.equal(value(s, "system.memory.usage", { state: "buffers" }), 500000 * k);
  assert.equal(value(s, "system.memory.usage", { state: "available" }), 10000000 * k);
  assert.equal(value(s, "system.memory.limit"), 16000000 * k);
  assert.equal(value(s, "system.memory.utilization", { state: "used" }), 0.375);
  assert.equal(value(s, "system.paging.usage", { state: "used" }), 500000 * k);
  assert.equal(value(s, "system.paging.usage", { state: "free" }), 1500000 * k);
  assert.equal(value(s, "system.paging.utilization", { state: "used" }), 0.25);

  tree({ "meminfo": meminfo(0, 0) }, root);
  const noSwap = src.collect(2000);
  assert.equal(value(noSwap, "system.paging.utilization", { state: "used" }), 0);
  assert.equal(value(noSwap, "system.paging.usage", { state: "used" }), 0);
});

test("filesystem: real mounts only, octal unescaped, last mount wins, stale mounts skipped", (t) => {
  const mounts = [
    "sysfs /sys sysfs rw 0 0",
    "proc /proc proc rw 0 0",
    "/dev/sda1 / ext4 rw 0 0",
    "tmpfs /run tmpfs rw 0 0",
    "/dev/sdb1 /mnt/my\\040disk xfs rw 0 0",
    "overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0",
    "/dev/loop3 /snap/core/1 squashfs ro 0 0",
    "gvfsd-fuse /run/user/1000/gvfs fuse.gvfsd-fuse rw 0 0",
    "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0",
    "/dev/sdc1 /data ext4 rw 0 0",
    "tmpfs /data tmpfs rw 0 0",
    "server:/export /stale nfs4 rw 0 0",
    "/dev/sda1 / ext4 rw 0 0",
    "",
  ].join("\n");
  const root = tree({ "self/mounts": mounts });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const fs: StatfsResult = { bsize: 4096, blocks: 1000, bfree: 400, bavail: 300, files: 100, ffree: 40 };
  const statfs = (path: string): StatfsResult => {
    if (path === "/stale") throw new Error("ESTALE");
    return fs;
  };
  const src = new FilesystemSource({ procRoot: root, statfs });

  const s = src.collect(1000);
  const seen = [...new Set(s.map((x) => `${x.labels["device"]}|${x.labels["mountpoint"]}|${x.labels["type"]}`))].sort();
  assert.deepEqual(seen, ["/dev/sda1|/|ext4", "/dev/sdb1|/mnt/my disk|xfs", "overlay|/var/lib/docker/overlay2/x/merged|overlay"]);
  const root1 = { device: "/dev/sda1", mountpoint: "/", type: "ext4" };
  assert.equal(value(s, "system.filesystem.usage", { ...root1, state: "used" }), 600 * 4096);
  assert.equal(value(s, "system.filesystem.usage", { ...root1, state: "free" }), 300 * 4096);
  assert.equal(value(s, "system.filesystem.usage", { ...root1, state: "reserved" }), 100 * 4096);
  assert.equal(value(s, "system.filesystem.utilization", root1), 600 / 900);
  assert.equal(value(s, "system.filesystem.inodes.usage", { ...root1, state: "used" }), 60);
  assert.equal(value(s, "system.filesystem.inodes.usage", { ...root1, state: "free" }), 40);
  assert.equal(s.length, 3 * 6);

  // A changed mount table is picked up on the next tick.
  tree({ "self/mounts": mounts + "/dev/sde1 /backup btrfs rw 0 0\n" }, root);
  const s2 = src.collect(2000);
  assert.equal(value(s2, "system.filesystem.utilization", { device: "/dev/sde1", mountpoint: "/backup", type: "btrfs" }), 600 / 900);
  assert.equal(s2.length, 4 * 6);
});

test("disk: whole devices only, rates from deltas, busy fraction clamped, reset skipped", (t) => {
  const line = (maj: number, min: number, name: string, r: number, rs: number, w: number, ws: number, io: number) =>
    `${String(maj).padStart(4)} ${String(min).padStart(7)} ${name} ${r} 0 ${rs} 0 ${w} 0 ${ws} 0 0 ${io} 0 0 0 0 0 0 0\n`;
  const stats = (sda: number[], nvme: number[]) => {
    const [r = 0, rs = 0, w = 0, ws = 0, io = 0] = sda;
    const [nr = 0, nrs = 0, nw = 0, nws = 0, nio = 0] = nvme;
    return line(7, 0, "loop0", 10 * nr, 80 * nr, 0, 0, nio) + line(1, 0, "ram0", nr, nr, 0, 0, 0) +
      line(253, 0, "zram0", 0, 0, 0, 0, 0) + line(8, 0, "sda", r, rs, w, ws, io) +
      line(8, 1, "sda1", r, rs, w, ws, io) + line(259, 0, "nvme0n1", nr, nrs, nw, nws, nio);
  };
  const root = tree({ "proc/diskstats": stats([1000, 20000, 500, 10000, 3000], [1, 8, 1, 8, 0]) });
  for (const dev of ["loop0", "ram0", "zram0", "sda", "nvme0n1"]) mkdirSync(join(root, "sys/block", dev), { recursive: true });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = new DiskSource({ procRoot: join(root, "proc"), sysRoot: join(root, "sys") });

  assert.deepEqual(src.collect(10_000), []);
  tree({ "proc/diskstats": stats([1100, 24000, 550, 12000, 3500], [11, 88, 1, 8, 5000]) }, root);
  const s = src.collect(12_000);
  assert.deepEqual([...new Set(s.map((x) => x.labels["device"]))].sort(), ["nvme0n1", "sda", "zram0"]);
  assert.equal(value(s, "system.disk.io", { device: "sda", direction: "read" }), 1_024_000);
  assert.equal(value(s, "system.disk.io", { device: "sda", direction: "write" }), 512_000);
  assert.equal(value(s, "system.disk.operations", { device: "sda", direction: "read" }), 50);
  assert.equal(value(s, "system.disk.operations", { device: "sda", direction: "write" }), 25);
  assert.equal(value(s, "system.disk.io_time", { device: "sda" }), 0.25);
  assert.equal(value(s, "system.disk.io_time", { device: "nvme0n1" }), 1);
  assert.equal(value(s, "system.disk.io", { device: "zram0", direction: "read" }), 0);

  // sda's counters restart (driver reload): no sda point this tick, then rates resume from there.
  tree({ "proc/diskstats": stats([10, 100, 5, 50, 10], [21, 168, 1, 8, 5000]) }, root);
  const r = src.collect(14_000);
  assert.equal(r.filter((x) => x.labels["device"] === "sda").length, 0);
  assert.equal(value(r, "system.disk.operations", { device: "nvme0n1", direction: "read" }), 5);
  tree({ "proc/diskstats": stats([20, 200, 5, 50, 510], [21, 168, 1, 8, 5000]) }, root);
  const after = src.collect(15_000);
  assert.equal(value(after, "system.disk.io", { device: "sda", direction: "read" }), 100 * 512);
  assert.equal(value(after, "system.disk.io_time", { device: "sda" }), 0.5);
});

test("network: per-interface rates, lo skipped, old no-space format, reset skipped", (t) => {
  const header = "Inter-|   Receive                                                |  Transmit\n" +
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";
  const dev = (eth: string, wlan: string) =>
    header + "    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n" + `  eth0: ${eth}\n` + ` wlan0:${wlan}\n`;
  const root = tree({ "net/dev": dev("100000 1000 1 2 0 0 0 0 50000 500 3 4 0 0 0 0", "9000 90 0 0 0 0 0 0 900 9 0 0 0 0 0 0") });
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const src = new NetworkSource({ procRoot: root });

  assert.deepEqual(src.collect(1000), []);
  tree({ "net/dev": dev("500000 5000 5 10 0 0 0 0 250000 2500 3 8 0 0 0 0", "200 2 0 0 0 0 0 0 100 1 0 0 0 0 0 0") }, root);
  const s = src.collect(5000);
  assert.deepEqual([...new Set(s.map((x) => x.labels["device"]))], ["eth0"]);
  const eth = (direction: string) => ({ device: "eth0", direction });
  assert.equal(value(s, "system.network.io", eth("receive")), 100_000);
  assert.equal(value(s, "system.network.io", eth("transmit")), 50_000);
  assert.equal(value(s, "system.network.packets", eth("receive")), 1000);
  assert.equal(value(s, "system.network.packets", eth("transmit")), 500);
  assert.equal(value(s, "system.network.errors", eth("receive")), 1);
  assert.equal(value(s, "system.network.errors", eth("transmit")), 0);
  assert.equal(value(s, "system.network.dropped", eth("receive")), 2);
  assert.equal(value(s, "system.network.dropped", eth("transmit")), 1);
  assert.equal(s.length, 8);

  // wlan0 was reset above; from that reading on it reports again.
  tree({ "net/dev": dev("500000 5000 5 10 0 0 0 0 250000 2500 3 8 0 0 0 0", "2200 22 0 0 0 0 0 0 1100 11 0 0 0 0 0 0") }, root);
  const next = src.collect(7000);
  assert.equal(value(next, "system.network.io", { device: "wlan0", direction: "receive" }), 1000);
  assert.equal(value(next, "system.network.packets", { device: "wlan0", direction: "transmit" }), 5);
  assert.equal(value(next, "system.network.io", eth("receive")), 0);
});

test("system: uptime, running/blocked from /proc/stat, all = numeric /proc entries", (t) => {
  const root = tree({ "uptime": "12345.67 9999.00\n", "stat": "cpu  1 2 3 4 5 6 7 8 0 0\n" + statTail, "self/mounts": "", "net/dev": "" });
  for (const pid of ["1", "42", "1337"]) mkdirSync(join(root, pid));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const s = new SystemSource({ procRoot: root }).collect(1000);
  assert.equal(value(s, "system.uptime"), 12345.67);
  assert.equal(value(s, "system.processes.count", { status: "running" }), 3);
  assert.equal(value(s, "system.processes.count", { status: "blocked" }), 1);
  assert.equal(value(s, "system.processes.count", { status: "all" }), 3);
});

test("real host: every source gives plausible finite values on the second tick", { skip: process.platform !== "linux" }, async () => {
  const sources = defaultSources();
  for (const src of sources) src.collect(Date.now());
  await new Promise((resolve) => setTimeout(resolve, 200));
  const now = Date.now();
  const s = sources.flatMap((src) => src.collect(now));

  for (const x of s) {
    assert.ok(Number.isFinite(x.value), `${x.metric} ${JSON.stringify(x.labels)} = ${x.value}`);
    assert.ok(x.value >= 0, `${x.metric} ${JSON.stringify(x.labels)} = ${x.value}`);
    for (const v of Object.values(x.labels)) assert.equal(typeof v, "string");
    if (x.metric.endsWith(".utilization") || x.metric === "system.disk.io_time") assert.ok(x.value <= 1, `${x.metric} = ${x.value}`);
  }
  const idleCores = s.filter((x) => x.metric === "system.cpu.utilization" && x.labels["state"] === "idle" && "cpu" in x.labels);
  assert.equal(idleCores.length, cpus().length);
  assert.equal(value(s, "system.cpu.logical.count"), cpus().length);
  assert.equal(s.filter((x) => x.metric === "system.cpu.utilization" && !("cpu" in x.labels)).length, 8);
  const limit = value(s, "system.memory.limit");
  assert.ok(Math.abs(limit - totalmem()) / totalmem() < 0.01, `limit ${limit} vs ${totalmem()}`);
  assert.ok(count(s, "system.filesystem.utilization") >= 1);
  assert.ok(value(s, "system.uptime") > 0);
  assert.ok(value(s, "system.processes.count", { status: "all" }) >= 1);
});
