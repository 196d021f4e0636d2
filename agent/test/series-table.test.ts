import { test } from "node:test";
import assert from "node:assert/strict";
import type { Labels } from "@vigil/shared";
import { SeriesRefCache, SeriesTable } from "../src/series-table.js";

type S = { metric: string; labels: Labels };

/** What the cache must always agree with: a plain lookup per sample. */
function expected(table: SeriesTable, samples: S[]): number[] {
  return samples.map((s) => table.ref(s.metric, s.labels));
}

function resolve(cache: SeriesRefCache, samples: S[]): number[] {
  const out: number[] = [];
  cache.resolve(samples, out);
  return out;
}

test("series ref cache: same refs as the table through repeats, changes, reorders, growth and shrinkage", () => {
  const table = new SeriesTable();
  const cache = new SeriesRefCache(table);
  const ticks: S[][] = [
    [{ metric: "m", labels: { cpu: "0", state: "user" } }, { metric: "m", labels: { cpu: "1", state: "user" } }, { metric: "n", labels: {} }],
    [{ metric: "m", labels: { cpu: "0", state: "user" } }, { metric: "m", labels: { cpu: "1", state: "user" } }, { metric: "n", labels: {} }],
    // A device appears in the middle: everything after it shifts.
    [{ metric: "m", labels: { cpu: "0", state: "user" } }, { metric: "x", labels: { device: "sdb" } }, { metric: "m", labels: { cpu: "1", state: "user" } }, { metric: "n", labels: {} }],
    // Same label set written in another key order is the same series.
    [{ metric: "m", labels: { state: "user", cpu: "0" } }, { metric: "x", labels: { device: "sdb" } }],
    // A label added, a value changed, a metric changed at the same position.
    [{ metric: "m", labels: { state: "user", cpu: "0", extra: "1" } }, { metric: "x", labels: { device: "sdc" } }, { metric: "y", labels: {} }],
    [],
    [{ metric: "n", labels: {} }],
  ];
  for (const samples of ticks) assert.deepEqual(resolve(cache, samples), expected(table, samples));
  assert.equal(table.size, 7);
});

test("series ref cache: a caller mutating its label objects in place still gets the right refs", () => {
  const table = new SeriesTable();
  const cache = new SeriesRefCache(table);
  const labels: Labels = { device: "sda" };
  const samples: S[] = [{ metric: "disk", labels }];
  const first = resolve(cache, samples);
  labels["device"] = "sdb";
  const second = resolve(cache, samples);
  assert.notDeepEqual(second, first);
  assert.deepEqual(second, [table.ref("disk", { device: "sdb" })]);
  delete labels["device"];
  assert.deepEqual(resolve(cache, samples), [table.ref("disk", {})]);
});
