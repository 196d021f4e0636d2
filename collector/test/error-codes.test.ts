// The error catalogue and README's "Error codes" table must agree: scripts match on these codes, and a code only one
// side knows is either undocumented or a promise nothing keeps.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SharedErrors } from "@vigil/shared";
import { AgentErrors } from "../../agent/src/errors.js";
import { CollectorErrors } from "../src/errors.js";

function readmeCodes(): string[] {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const section = /^## Error codes\n([^]*?)(?=^## )/m.exec(readme);
  assert.ok(section, 'README has no "## Error codes" section');
  return [...section[1]!.matchAll(/^\| `(VGL_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]!);
}

test("every collector error code is in README's table, once", () => {
  const documented = readmeCodes();
  assert.deepEqual(documented.filter((c, i) => documented.indexOf(c) !== i), [], "listed twice");
  const missing = Object.values(CollectorErrors).filter((c) => !documented.includes(c));
  assert.deepEqual(missing, [], "in collector/src/errors.ts but not in README's Error codes table");
});

test("every code in README's table exists in a catalogue", () => {
  const known = new Set<string>([...Object.values(CollectorErrors), ...Object.values(AgentErrors), ...Object.values(SharedErrors)]);
  const unknown = readmeCodes().filter((c) => !known.has(c));
  assert.deepEqual(unknown, [], "in README's Error codes table but in no catalogue");
});
