// The error catalogues and README's "Error codes" table must agree: scripts match on these codes, and a code only one
// side knows is either undocumented or a promise nothing keeps. A code is spelled out in one place, its catalogue
// entry (like fastify's test/internals/errors.test.js): code elsewhere names the constant, so a typo cannot invent one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { SHARED_ERROR_CATALOGUE, type ErrorEntry } from "@vigil/shared";
import { AGENT_ERROR_CATALOGUE } from "../../agent/src/errors.js";
import { COLLECTOR_ERROR_CATALOGUE } from "../src/errors.js";

const ROOT = join(import.meta.dirname, "../..");
const CATALOGUES: Record<string, Record<string, ErrorEntry>> = {
  "collector/src/errors.ts": COLLECTOR_ERROR_CATALOGUE,
  "agent/src/errors.ts": AGENT_ERROR_CATALOGUE,
  "shared/src/errors.ts": SHARED_ERROR_CATALOGUE,
};
const ENTRIES = new Map<string, ErrorEntry>(Object.values(CATALOGUES).flatMap((c) => Object.values(c).map((e): [string, ErrorEntry] => [e.code, e])));

interface Row {
  code: string;
  meaning: string;
}

function readmeRows(): Row[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = /^## Error codes\n([^]*?)(?=^## )/m.exec(readme);
  assert.ok(section, 'README has no "## Error codes" section');
  return [...section[1]!.matchAll(/^\| `(VGL_ERR_[A-Z_]+)` \|[^|\n]*\|(.*)\|$/gm)].map((m) => ({ code: m[1]!, meaning: m[2]! }));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

test("every catalogued code is in README's table, once", () => {
  const documented = readmeRows().map((r) => r.code);
  assert.deepEqual(documented.filter((c, i) => documented.indexOf(c) !== i), [], "listed twice");
  const missing = [...ENTRIES.keys()].filter((c) => !documented.includes(c));
  assert.deepEqual(missing, [], "in a catalogue but not in README's Error codes table");
});

test("every code in README's table exists in a catalogue", () => {
  const unknown = readmeRows().filter((r) => !ENTRIES.has(r.code)).map((r) => r.code);
  assert.deepEqual(unknown, [], "in README's Error codes table but in no catalogue");
});

test("README gives each code the HTTP and gRPC status its catalogue has", () => {
  for (const { code, meaning } of readmeRows()) {
    const e = ENTRIES.get(code);
    if (!e) continue;
    // "(400)", "(API: 503, …)": the only three-digit 4xx/5xx figures a row has are its status.
    assert.deepEqual([...meaning.matchAll(/\b[45]\d\d\b/g)].map((m) => Number(m[0])), e.http === undefined ? [] : [e.http], `${code}: HTTP status`);
    assert.deepEqual([...meaning.matchAll(/gRPC `([A-Z_]+)`/g)].map((m) => m[1]), e.grpc === undefined ? [] : [e.grpc], `${code}: gRPC status`);
  }
});

test("a code is spelled out only in its catalogue entry", () => {
  const seen = new Map<string, string[]>();
  for (const dir of ["collector/src", "agent/src", "shared/src"]) {
    for (const file of sourceFiles(join(ROOT, dir))) {
      const text = readFileSync(file, "utf8");
      // String literals only ("…", '…', `…`): a comment may name a code.
      for (const m of text.matchAll(/["'`](VGL_ERR_[A-Z_]+)/g)) {
        const where = relative(ROOT, file);
        seen.set(m[1]!, [...(seen.get(m[1]!) ?? []), where]);
      }
    }
  }
  const uncatalogued = [...seen.keys()].filter((c) => !ENTRIES.has(c));
  assert.deepEqual(uncatalogued, [], "codes in the source that no catalogue has");
  for (const [code, files] of seen) {
    assert.equal(files.length, 1, `${code} is spelled out in ${files.join(", ")}: use its catalogue's constant`);
    assert.ok(CATALOGUES[files[0]!], `${code} is spelled out in ${files[0]}, not in a catalogue`);
  }
  assert.deepEqual([...ENTRIES.keys()].filter((c) => !seen.has(c)), [], "catalogue entries the scan did not find");
});
