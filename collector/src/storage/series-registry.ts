import { labelsKey, type Labels } from "@vigil/shared";
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface SeriesKey {
  metric: string;
  labels: Labels;
}

export type ResolvedSeries = { ids: number[] } | { overLimit: number };

// Advisory-lock namespace for series creation, one lock per host: the per-host count check and the insert are atomic.
const SERIES_LOCK = 0x76676c73;
// A cached key costs its UTF-16 text plus the Map entry and the id.
const ENTRY_OVERHEAD = 64;

class OverLimit extends Error {
  constructor(readonly total: number) {
    super(`over the series limit: ${total}`);
  }
}

/**
 * Maps (host, metric, labels) to series ids, creating series on first sight (up to a bound per host). Lookups are
 * cached, since agents re-declare on every stream; the cache is an LRU bounded in bytes, whatever the label sizes.
 */
export class SeriesRegistry {
  private readonly cache = new Map<string, number>();
  private cachedBytes = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxCachedBytes = 64 * 1024 * 1024,
  ) {}

  /** Bytes the cache holds now (for tests of its bound). */
  get cacheBytes(): number {
    return this.cachedBytes;
  }

  async resolve(hostId: number, keys: readonly SeriesKey[], maxPerHost = Number.POSITIVE_INFINITY): Promise<ResolvedSeries> {
    const cacheKeys = keys.map((k) => `${hostId}\u0002${k.metric}\u0002${labelsKey(k.labels)}`);
    const found = new Map<string, number>();
    const missing: number[] = [];
    cacheKeys.forEach((ck, i) => {
      const id = this.cache.get(ck);
      if (id === undefined) missing.push(i);
      else {
        found.set(ck, id);
        this.remember(ck, id); // most recently used
      }
    });
    if (missing.length > 0) {
      let rows: { id: number; metric: string; labels: Labels }[];
      try {
        rows = await this.create(hostId, missing.map((i) => keys[i]!), maxPerHost);
      } catch (err) {
        if (err instanceof OverLimit) return { overLimit: err.total };
        throw err;
      }
      for (const row of rows) {
        const ck = `${hostId}\u0002${row.metric}\u0002${labelsKey(row.labels)}`;
        found.set(ck, row.id);
        this.remember(ck, row.id);
      }
    }
    return {
      ids: cacheKeys.map((ck) => {
        const id = found.get(ck);
        if (id === undefined) throw new Error(`series ${ck} was not created`);
        return id;
      }),
    };
  }

  private async create(hostId: number, keys: SeriesKey[], maxPerHost: number): Promise<{ id: number; metric: string; labels: Labels }[]> {
    return this.db.transaction().execute(async (tx) => {
      await sql`SELECT pg_advisory_xact_lock(${SERIES_LOCK}, ${hostId})`.execute(tx);
      const before = await tx.selectFrom("series").select((eb) => eb.fn.countAll<number>().as("n")).where("host_id", "=", hostId).executeTakeFirstOrThrow();
      // DO UPDATE (a no-op write) so RETURNING yields existing rows as well as new ones; xmax = 0 marks the new.
      const r = await sql<{ id: number; metric: string; labels: Labels; created: boolean }>`
        INSERT INTO series (host_id, metric, labels)
        SELECT ${hostId}, m, l FROM unnest(${keys.map((k) => k.metric)}::text[], ${keys.map((k) => JSON.stringify(k.labels))}::jsonb[]) AS u(m, l)
        ON CONFLICT (host_id, metric, labels) DO UPDATE SET metric = excluded.metric
        RETURNING id, metric, labels, (xmax = 0) AS created`.execute(tx);
      const created = r.rows.filter((x) => x.created).length;
      const total = before.n + created;
      if (created > 0 && total > maxPerHost) throw new OverLimit(total); // rolls the inserts back
      return r.rows;
    });
  }

  private remember(key: string, id: number): void {
    const had = this.cache.delete(key);
    if (!had) this.cachedBytes += key.length * 2 + ENTRY_OVERHEAD;
    this.cache.set(key, id);
    for (const oldest of this.cache.keys()) {
      if (this.cachedBytes <= this.maxCachedBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= oldest.length * 2 + ENTRY_OVERHEAD;
    }
  }
}
