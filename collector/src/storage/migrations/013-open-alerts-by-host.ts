import { sql } from "kysely";
import type { Migration } from "./types.js";

/**
 * A host's open alerts are read each time its stream opens on a collector (the collector takes them over): by host,
 * not by scanning every open alert of the fleet, as many times as hosts reconnect after a collector restart.
 */
export const openAlertsByHost: Migration = {
  id: "013-open-alerts-by-host",
  async up(db) {
    await sql`CREATE INDEX alerts_open_host_idx ON alerts ((labels->>'host')) WHERE state IN ('pending', 'firing')`.execute(db);
  },
};
