// The parts of storage stats that need no database: which size measure growth counts from, the oldest point of
// blocks taken in start order (bounded, exact or saying it is not), whether a database URL is this machine, and
// which volume the database grows into.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { CodecError } from "../src/storage/codec/index.js";
import { growthPerDay } from "../src/storage/size-history.js";
import { oldestPoint } from "../src/storage/storage-stats.js";
import { isLocalDatabase, measureVolume } from "../src/storage/volume.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12);

test("growth counts from the newest measure a week old, else from the oldest a day old, else says why not", () => {
  const now = { timeMs: NOW, bytes: 10_000 };
  assert.deepEqual(growthPerDay([], now), { bytesPerDay: null, sinceMs: null, reason: "no size history yet; the first storage maintenance run of each day records one" });
  assert.equal(growthPerDay([{ timeMs: NOW - DAY + 1, bytes: 0 }], now).reason, `less than a day of size history (it starts ${new Date(NOW - DAY + 1).toISOString()})`);
  assert.deepEqual(growthPerDay([{ timeMs: NOW - DAY, bytes: 4000 }], now), { bytesPerDay: 6000, sinceMs: NOW - DAY, reason: null });
  const long = [10, 8, 7, 6, 2].map((d) => ({ timeMs: NOW - d * DAY, bytes: 10_000 - d * 100 }));
  assert.deepEqual(growthPerDay(long, now), { bytesPerDay: 100, sinceMs: NOW - 7 * DAY, reason: null });
  const short = [5, 3, 0.5].map((d) => ({ timeMs: NOW - d * DAY, bytes: 10_000 - d * 300 }));
  assert.equal(growthPerDay(short, now).sinceMs, NOW - 5 * DAY);
  assert.equal(growthPerDay(short, now).bytesPerDay, 300);
  assert.equal(growthPerDay([{ timeMs: NOW - 2 * DAY, bytes: 12_000 }], now).bytesPerDay, -1000);
});

test("the oldest point: blocks starting after the best time so far are not decoded; a cap or a bad block makes it inexact", () => {
  const blocks = (starts: number[]) => starts.map((s, i) => ({ s, data: new Uint8Array([i]) }));
  const decoded: number[] = [];
  const firsts = [150, 120, 400, 90];
  const firstTime = (b: Uint8Array) => (decoded.push(b[0]!), firsts[b[0]!]);
  // Block 3 starts at 130, after the best so far (120): it cannot hold an earlier point, nor can any after it.
  assert.deepEqual(oldestPoint(blocks([100, 100, 110, 130]), 10, firstTime), { t: 120, exact: true });
  assert.deepEqual(decoded, [0, 1, 2]);
  assert.deepEqual(oldestPoint(blocks([100, 100, 100, 100]), 10, firstTime), { t: 90, exact: true });
  assert.deepEqual(oldestPoint(blocks([100, 100, 100, 100]), 3, firstTime), { t: 120, exact: false });
  assert.deepEqual(oldestPoint(blocks([100, 100, 100]), 3, firstTime), { t: 120, exact: true }, "the cap reached with no block left");
  assert.deepEqual(oldestPoint([], 3, firstTime), { t: null, exact: true });
  const corrupt = (b: Uint8Array) => {
    if (b[0] === 1) throw new CodecError("bad block");
    return firsts[b[0]!];
  };
  assert.deepEqual(oldestPoint(blocks([100, 100, 100]), 10, corrupt), { t: 150, exact: false });
  assert.throws(() => oldestPoint(blocks([100]), 10, () => { throw new RangeError("a bug"); }), RangeError);
});

test("a database URL is this machine for a socket, loopback, or this host's name", () => {
  for (const url of ["postgres://v@localhost/v", "postgres://v@127.0.0.1:5433/v", "postgres://v@[::1]/v", "postgres:///v?host=/var/run/postgresql", `postgres://v@${hostname()}/v`]) {
    assert.equal(isLocalDatabase(url), true, url);
  }
  for (const url of ["postgres://v@db.example.com/v", "postgres://v@192.0.2.7/v"]) assert.equal(isLocalDatabase(url), false, url);
});

test("the volume: statfs of the directory or the setting, whichever leaves less room; else why neither", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-volume-"));
  try {
    const disk = await measureVolume({ path: dir }, null, 1000);
    assert.equal(disk.volume?.source, "statfs");
    assert.equal(disk.volume.path, dir);
    assert.ok(disk.volume.availableBytes > 0 && disk.volume.availableBytes <= disk.volume.sizeBytes);
    const capped = await measureVolume({ path: dir }, 5000, 1000);
    assert.deepEqual(capped, { volume: { source: "setting", path: null, sizeBytes: 5000, availableBytes: 4000 }, reason: null });
    const huge = await measureVolume({ path: dir }, 2 ** 52, 1000);
    assert.equal(huge.volume?.source, "statfs", "a setting larger than the disk leaves more room than the disk has");
    assert.deepEqual((await measureVolume({ reason: "the database server is on another machine" }, 500, 1000)).volume, { source: "setting", path: null, sizeBytes: 500, availableBytes: 0 });
    assert.deepEqual(await measureVolume({ reason: "the database server is on another machine" }, null, 1000), { volume: null, reason: "the database server is on another machine: set storage.volume_size" });
    const missing = await measureVolume({ path: join(dir, "nope") }, null, 1000);
    assert.equal(missing.volume, null);
    assert.equal(missing.reason, `the data directory ${join(dir, "nope")} cannot be measured here (ENOENT): set storage.volume_size`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
