import { labelsKey, type Labels } from "@vigil/shared";
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface SeriesKey {
  metric: string;
  labels: Labels;
}

/** Maps (host, metric, labels) to series ids, creating series on first sight; cached, since agents re-declare on every stream. */
export class SeriesRegistry {
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxCached = 1_000_000,
  ) {}

  async resolve(hostId: number, keys: readonly SeriesKey[]): Promise<number[]> {
    const cacheKeys = keys.map((k) => `${hostId}\u0002${k.metric}\u0002${labelsKey(k.labels)}`);
    const missing: number[] = [];
    cacheKeys.forEach((ck, i) => {
      if (!this.cache.has(ck)) missing.push(i);
    });
    if (missing.length > 0) {
      const metrics = missing.map((i) => keys[i]!.metric);
      const labels = missing.map((i) => JSON.stringify(keys[i]!.labels));
      // DO UPDATE (a no-op write) so RETURNING yields existing rows as well as new ones.
      const r = await sql<{ id: number; metric: string; labels: Labels }>`
        INSERT INTO series (host_id, metric, labels)
        SELECT ${hostId}, m, l FROM unnest(${metrics}::text[], ${labels}::jsonb[]) AS u(m, l)
        ON CONFLICT (host_id, metric, labels) DO UPDATE SET metric = excluded.metric
        RETURNING id, metric, labels`.execute(this.db);
      if (this.cache.size + r.rows.length > this.maxCached) this.cache.clear();
      for (const row of r.rows) this.cache.set(`${hostId}\u0002${row.metric}\u0002${labelsKey(row.labels)}`, row.id);
    }
    return cacheKeys.map((ck) => {
      const id = this.cache.get(ck);
      if (id === undefined) throw new Error(`series ${ck} was not created`);
      return id;
    });
  }
}
