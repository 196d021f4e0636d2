// `vigil-collector storage stats`: the storage figures (storage/storage-stats.ts) of the collector's database, read
// with the collector's configuration, as a table or as GET /api/v1/storage's JSON (--json).
import { systemClock, type Logger } from "@vigil/shared";
import type { StorageView } from "../api/ports.js";
import type { CollectorConfig } from "../config.js";
import { CollectorError, CollectorErrors } from "../errors.js";
import { openStorage } from "../storage/open.js";

export interface StorageCommandOptions {
  config: CollectorConfig;
  args: string[];
  json: boolean;
  log: Logger;
  out: (line: string) => void;
}

export async function runStorageCommand({ config, args, json, log, out }: StorageCommandOptions): Promise<number> {
  if (args.length !== 1 || args[0] !== "stats") throw new CollectorError(CollectorErrors.BAD_CONFIG, `storage: expected "stats", got ${JSON.stringify(args.join(" "))}`);
  const storage = await openStorage(config, log, systemClock);
  try {
    const view = await storage.stats.read(systemClock.now());
    for (const line of json ? [JSON.stringify(view, null, 2)] : storageTable(view)) out(line);
    return 0;
  } finally {
    await storage.close();
  }
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.5 KiB". */
export function humanBytes(n: number): string {
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[i]}`;
}

/** The figures for a person: a table of the tiers (`~` an estimate, `≤` an oldest point not exact), then the forecast. */
export function storageTable(v: StorageView): string[] {
  const rows = [
    ["TIER", "TABLE", "PARTITIONS", "SIZE", "POINTS", "BYTES/POINT", "OLDEST POINT"],
    ...v.tiers.map((t) => [
      t.tier,
      t.table,
      String(t.partitions),
      humanBytes(t.bytes),
      `${t.pointsEstimated ? "~" : ""}${t.points.toLocaleString("en-US")}`,
      t.bytesPerPoint === null ? "-" : t.bytesPerPoint.toFixed(1),
      t.oldestPoint === null ? "-" : `${t.oldestPointExact ? "" : "≤ "}${t.oldestPoint}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // Figures right-aligned, names and times left.
  const cell = (c: string, i: number) => (i >= 2 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!));
  const { growth: g, volume: vol } = v;
  return [
    ...rows.map((r) => r.map(cell).join("  ").trimEnd()),
    "",
    `database         ${humanBytes(v.database.bytes)} (${v.database.kind})`,
    `growth           ${g.bytesPerDay === null ? `unknown: ${g.reason}` : `${g.bytesPerDay < 0 ? "-" : "+"}${humanBytes(Math.abs(g.bytesPerDay))}/day since ${g.since}`}`,
    `volume           ${vol.availableBytes === null || vol.sizeBytes === null ? `unknown: ${vol.reason}` : `${humanBytes(vol.availableBytes)} free of ${humanBytes(vol.sizeBytes)} (${vol.source === "statfs" ? `statfs ${vol.path}` : "storage.volume_size"})`}`,
    `days until full  ${v.daysUntilFull === null ? `- (${v.daysUntilFullReason})` : v.daysUntilFull}`,
  ];
}
