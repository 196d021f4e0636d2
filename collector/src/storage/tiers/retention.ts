// Retention per tier, with per-metric overrides. Whole partitions are dropped once every class of metric has expired
// them; a class that keeps a tier shorter than the longest has its expired blocks deleted from the partitions that
// remain: cold rows, one per series and day, never the hot narrow table.
import { sql, type Kysely, type RawBuilder } from "kysely";
import type { PartitionManager } from "../partitions.js";
import type { Database } from "../schema.js";
import { TIERS, TIER_NAMES, type TierName } from "./tier-spec.js";

export type TierDurations = Record<TierName, number>;

export interface RetentionOverride {
  /** A metric name pattern: `*` matches any run of characters. */
  match: string;
  keep: Partial<TierDurations>;
}

export interface RetentionSettings {
  keep: TierDurations;
  /** The first override whose pattern matches a metric applies to it. */
  overrides: readonly RetentionOverride[];
}

/** The metric pattern as a LIKE pattern (linear time, no regex). */
function likePattern(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replaceAll("*", "%");
}

/** A glob as a matcher in JS, for the query side: the same semantics as LIKE above. */
export function globMatcher(glob: string): (metric: string) => boolean {
  const parts = glob.split("*");
  return (m) => {
    if (parts.length === 1) return m === glob;
    const head = parts[0]!;
    const tail = parts[parts.length - 1]!;
    if (!m.startsWith(head) || !m.endsWith(tail) || m.length < head.length + tail.length) return false;
    let at = head.length;
    const stop = m.length - tail.length;
    for (let i = 1; i < parts.length - 1; i++) {
      const j = m.indexOf(parts[i]!, at);
      if (j < 0 || j + parts[i]!.length > stop) return false;
      at = j + parts[i]!.length;
    }
    return true;
  };
}

/** How long a metric's tier is kept. */
export function retentionFor(s: RetentionSettings, metric: string, tier: TierName): number {
  for (const o of s.overrides) if (globMatcher(o.match)(metric)) return o.keep[tier] ?? s.keep[tier];
  return s.keep[tier];
}

export function longestRetention(s: RetentionSettings, tier: TierName): number {
  return Math.max(s.keep[tier], ...s.overrides.map((o) => o.keep[tier] ?? s.keep[tier]));
}

export interface RetentionResult {
  droppedPartitions: string[];
  deletedBlocks: number;
}

export async function applyRetention(
  db: Kysely<Database>,
  s: RetentionSettings,
  managers: { samples: PartitionManager; tiers: Record<TierName, PartitionManager> },
  nowMs: number,
): Promise<RetentionResult> {
  const out: RetentionResult = { droppedPartitions: [], deletedBlocks: 0 };
  out.droppedPartitions.push(...(await managers.samples.dropBefore(nowMs - longestRetention(s, "raw"))));
  for (const tier of TIER_NAMES) {
    const longest = longestRetention(s, tier);
    out.droppedPartitions.push(...(await managers.tiers[tier].dropBefore(nowMs - longest)));
    const patterns = s.overrides.map((o) => sql`s.metric LIKE ${likePattern(o.match)}`);
    const classes: { keep: number; cond: RawBuilder<unknown> }[] = s.overrides.map((o, i) => ({
      keep: o.keep[tier] ?? s.keep[tier],
      cond: i === 0 ? patterns[0]! : sql`${patterns[i]!} AND NOT (${sql.join(patterns.slice(0, i), sql` OR `)})`,
    }));
    classes.push({ keep: s.keep[tier], cond: patterns.length === 0 ? sql`true` : sql`NOT (${sql.join(patterns, sql` OR `)})` });
    for (const c of classes) {
      const cutoff = new Date(nowMs - c.keep).toISOString();
      // Blocks of open days are only this old when maintenance has not run for that long; they go by the same rule.
      const fresh = await sql`
        DELETE FROM fresh_blocks b USING series s
        WHERE b.tier = ${tier} AND b.series_id = s.id AND ${c.cond} AND b.end_time <= ${cutoff}::timestamptz`.execute(db);
      out.deletedBlocks += Number(fresh.numAffectedRows ?? 0n);
      if (c.keep >= longest) continue;
      const r = await sql`
        DELETE FROM ${sql.table(TIERS[tier].table)} b USING series s
        WHERE b.series_id = s.id AND ${c.cond} AND b.end_time <= ${cutoff}::timestamptz`.execute(db);
      out.deletedBlocks += Number(r.numAffectedRows ?? 0n);
    }
  }
  return out;
}
