// GET /api/v1/storage: what the database holds per tier and how soon its volume fills (storage/storage-stats.ts).
// Measuring scans the tiers' block rows, so one measure answers every request for a minute, and requests arriving
// while one is under way wait for it: however often dashboards poll, the database does it at most once a minute.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Clock } from "@vigil/shared";
import type { StorageStatsReader, StorageView } from "./ports.js";
import { storageView } from "./view-schemas.js";

export const STORAGE_STATS_FRESH_MS = 60_000;

export function registerStorageRoutes(app: FastifyInstance, { storageStats, clock }: { storageStats: StorageStatsReader; clock: Clock }): void {
  let last: { atMs: number; view: StorageView } | null = null;
  let reading: Promise<StorageView> | null = null;
  const api = app.withTypeProvider<ZodTypeProvider>();
  const schema = { summary: "What the database holds per tier, and how soon its volume fills", tags: ["storage"], response: { 200: storageView } };
  api.get("/api/v1/storage", { config: { access: "viewer" }, schema }, async () => {
    const now = clock.now();
    if (last && now - last.atMs < STORAGE_STATS_FRESH_MS) return last.view;
    reading ??= storageStats
      .read(now)
      .then((view) => {
        last = { atMs: now, view };
        return view;
      })
      .finally(() => {
        reading = null;
      });
    return reading;
  });
}
