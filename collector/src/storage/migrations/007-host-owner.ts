import { sql } from "kysely";
import type { Migration } from "./types.js";

export const hostOwner: Migration = {
  id: "007-host-owner",
  async up(db) {
    // A host first seen with its own (host-bound) token stays bound to it: fleet tokens may not write as it.
    await sql`ALTER TABLE hosts ADD COLUMN token_bound boolean NOT NULL DEFAULT false`.execute(db);
  },
};
