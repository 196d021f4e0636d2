// After each maintenance run the storage figures reach /metrics and, as the collector's own series, the alert rules:
// the default rule storage-filling fires on them, end to end through the schedule, the watch and alerting; the point
// is no report from its host (an agent there keeps its host-down deadline). Unknown figures send nothing; "never" is
// a number that clears the rule.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, ManualClock } from "@vigil/shared";
import { Registry } from "prom-client";
import type { MaintenanceReport, OwnPoint, StorageFigures } from "../src/maintenance/ports.js";
import { MaintenanceSchedule } from "../src/maintenance/schedule.js";
import { daysValue, NEVER_DAYS, StorageWatch } from "../src/maintenance/storage-watch.js";
import { Alerting } from "../src/rules/alerting.js";
import type { AlertRepository } from "../src/rules/ports.js";
import type { AlertEvent } from "../src/rules/types.js";
import { registerStorageMetrics } from "../src/telemetry/storage-metrics.js";

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const log = createLogger("test", "silent");
const REPORT: MaintenanceReport = { skipped: null, compactedWindows: 0, compactedSamples: 0, blocksWritten: 0, bytesSaved: 0, droppedPartitions: [], deletedBlocks: 0, corruptBlocks: 0, lagMs: 0 };

class MemoryRepo implements AlertRepository {
  saved: AlertEvent[] = [];
  async loadOpen() {
    return [];
  }
  async save(events: readonly AlertEvent[]) {
    this.saved.push(...events);
  }
  async silences() {
    return [];
  }
  async apiRules() {
    return [];
  }
  async claimFence() {}
  async claimHost(host: string) {
    return { lease: `host:${host}`, value: 1 };
  }
  async hostsLastSeen() {
    return [];
  }
}

const figures = (daysUntilFull: number | null, over: Partial<StorageFigures> = {}): StorageFigures => ({
  tiers: [
    { tier: "narrow", bytes: 9_000_000, points: 100_000 },
    { tier: "raw", bytes: 2_000_000, points: 1_000_000 },
  ],
  growth: { bytesPerDay: 4_000_000 },
  volume: { availableBytes: 12_800_000 },
  daysUntilFull,
  ...over,
});

/** A watch over figures the test sets (or a failure), recording what it sends to rules. */
function watchOf(clock: ManualClock, observe: (p: OwnPoint[]) => void = () => {}) {
  const store = { next: figures(3.2) as StorageFigures | Error, reads: 0 };
  const watch = new StorageWatch(
    {
      read: async () => {
        store.reads++;
        if (store.next instanceof Error) throw store.next;
        return store.next;
      },
    },
    { host: "collector-1", clock, log, observe },
  );
  const registry = new Registry();
  registerStorageMetrics(registry, watch.stats);
  return { store, watch, registry };
}

test("a maintenance run ends with the figures on /metrics and the storage-filling alert firing for the collector's host", async () => {
  const clock = new ManualClock(T0);
  const repo = new MemoryRepo();
  const alerting = new Alerting({ repo, clock, log, tickMs: 5 });
  // An agent on the collector's host reported at T0, every 10 s: host-down is due at T0 + 30 s.
  await alerting.start([{ name: "collector-1", lastSeenMs: T0, intervalMs: 10_000 }]);
  try {
    const { store, watch, registry } = watchOf(clock, (points) => alerting.observeOwn(points));
    const schedule = new MaintenanceSchedule({ run: async () => REPORT }, { intervalMs: 600_000, clock, log, afterRun: () => watch.refresh() });
    clock.advance(20_000);
    assert.equal(await schedule.runNow(), REPORT);
    assert.equal(store.reads, 1);
    const text = await registry.metrics();
    assert.match(text, /^vigil_storage_bytes\{tier="raw"\} 2000000$/m);
    assert.match(text, /^vigil_storage_points\{tier="narrow"\} 100000$/m);
    assert.match(text, /^vigil_storage_days_until_full 3\.2$/m);
    const open = alerting.openInstances().find((i) => i.ruleName === "storage-filling");
    assert.ok(open, "storage-filling is open");
    assert.deepEqual([open.state, open.severity, open.value, open.labels.host], ["firing", "warning", 3.2, "collector-1"]);
    await alerting.flushed();
    assert.deepEqual(repo.saved.map((e) => [e.ruleName, e.kind]), [["storage-filling", "firing"]]);
    // The point at T0 + 20 s was not the agent's report: the host is down at T0 + 30 s all the same.
    clock.advance(10_000);
    await sleep(50);
    assert.ok(alerting.openInstances().some((i) => i.ruleName === "host-down" && i.labels.host === "collector-1"), "host-down fired");
    // A volume with room again resolves it.
    store.next = figures(40);
    await schedule.runNow();
    assert.equal(alerting.openInstances().find((i) => i.ruleName === "storage-filling"), undefined);
  } finally {
    await alerting.stop();
  }
});

test("unknown figures send nothing and read NaN; a volume that never fills reads 3650 and is sent", async () => {
  const clock = new ManualClock(T0);
  const sent: OwnPoint[] = [];
  const { store, watch, registry } = watchOf(clock, (p) => sent.push(...p));
  store.next = figures(null, { volume: { availableBytes: null } });
  await watch.refresh();
  assert.equal(watch.stats.daysUntilFull, null);
  // prom-client writes "Nan"; Prometheus reads NaN in any case.
  assert.match(await registry.metrics(), /^vigil_storage_days_until_full nan$/im);
  assert.deepEqual(sent, []);
  store.next = figures(null, { growth: { bytesPerDay: -5 } });
  await watch.refresh();
  assert.deepEqual(sent, [{ host: "collector-1", metric: "vigil.storage.days_until_full", labels: {}, timeMs: T0, value: NEVER_DAYS }]);
  assert.match(await registry.metrics(), /^vigil_storage_days_until_full 3650$/m);
});

test("days: capped at 3650; null without a volume or a growth figure", () => {
  assert.equal(daysValue(figures(12.5)), 12.5);
  assert.equal(daysValue(figures(100_000)), NEVER_DAYS);
  assert.equal(daysValue(figures(null, { growth: { bytesPerDay: null } })), null);
  assert.equal(daysValue(figures(null, { volume: { availableBytes: null } })), null);
  assert.equal(daysValue(figures(null)), NEVER_DAYS, "volume and growth known, no day: not growing");
});

test("a failed measure keeps the last figures, and the maintenance run still completes", async () => {
  const clock = new ManualClock(T0);
  const { store, watch, registry } = watchOf(clock);
  const schedule = new MaintenanceSchedule({ run: async () => REPORT }, { intervalMs: 600_000, clock, log, afterRun: () => watch.refresh() });
  await schedule.runNow();
  store.next = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
  clock.advance(600_000);
  assert.equal(await schedule.runNow(), REPORT);
  assert.equal(store.reads, 2);
  assert.equal(watch.stats.lastMeasureMs, T0);
  assert.match(await registry.metrics(), /^vigil_storage_days_until_full 3\.2$/m);
});
