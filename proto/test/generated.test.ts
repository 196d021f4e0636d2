import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

test("committed generated protobuf code matches what buf generates now", () => {
  const out = mkdtempSync(join(tmpdir(), "vigil-gen-"));
  try {
    execFileSync(process.execPath, [join(root, "scripts/gen-proto.mjs"), out], { stdio: "pipe" });
    const committed = join(root, "proto/gen");
    const gen = join(out, "gen");
    const fresh = listFiles(gen).map((f) => relative(gen, f)).sort();
    assert.deepEqual(listFiles(committed).map((f) => relative(committed, f)).sort(), fresh);
    for (const f of fresh) {
      assert.equal(readFileSync(join(committed, f), "utf8"), readFileSync(join(gen, f), "utf8"), `proto/gen/${f} is stale: run pnpm gen`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
