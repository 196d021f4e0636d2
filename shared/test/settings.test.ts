import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { loadSettings, zBoolean, zBytes, zDuration, zHostname, zHostPort, zInteger, zLabels, type SettingSpec } from "../src/index.js";

const ok = <T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, v: unknown): T => schema.parse(v);
const err = (schema: z.ZodTypeAny, v: unknown): string => {
  const r = schema.safeParse(v);
  assert.equal(r.success, false, `${JSON.stringify(v)} was accepted`);
  return r.success ? "" : r.error.issues[0]!.message;
};

test("booleans: true/false, yes/no, on/off, 1/0 in any case; anything else refused", () => {
  for (const v of [true, "true", "YES", "On", "1", 1, " yes "]) assert.equal(ok(zBoolean, v), true, String(v));
  for (const v of [false, "false", "No", "OFF", "0", 0]) assert.equal(ok(zBoolean, v), false, String(v));
  for (const v of ["enabled", "ture", "", "2", 2, "y", "t"]) assert.match(err(zBoolean, v), /expected true\/false, yes\/no, on\/off or 1\/0/);
});

test("durations need a unit; bounds are shown as durations", () => {
  const d = zDuration(1000, 3_600_000);
  assert.equal(ok(d, "1m30s"), 90_000);
  assert.match(err(d, 5000), /needs a unit: write e\.g\. "5000s" or "5000ms"/);
  assert.match(err(d, "5000"), /needs a unit/);
  assert.match(err(d, "1.5"), /needs a unit/);
  assert.match(err(d, "soon"), /expected a duration like "10s"/);
  assert.match(err(d, "0"), /must be between 1s and 1h, got "0"/);
  assert.match(err(d, "99999999999999999999h"), /must be between/);
  assert.equal(ok(zDuration(0, 1000), 0), 0);
});

test("sizes: units or whole bytes, bounded, a bare small number hints at units", () => {
  const b = zBytes(1024 * 1024, 1024 ** 4);
  assert.equal(ok(b, "256MiB"), 256 * 1024 ** 2);
  assert.equal(ok(b, "1.5GB"), 1.5e9);
  assert.equal(ok(b, 2 * 1024 * 1024), 2 * 1024 * 1024);
  assert.match(err(b, "256"), /between 1MiB and 1TiB.*a bare number is bytes/);
  assert.match(err(b, "lots"), /expected a size/);
  assert.match(err(b, "-5MiB"), /expected a size/);
  assert.match(err(zBytes(0, 100), "1.5"), /whole number of bytes/);
  assert.match(err(b, Infinity), /expected a size/);
});

test("integers: plain digits only, bounded", () => {
  const n = zInteger(1, 100);
  assert.equal(ok(n, "42"), 42);
  assert.equal(ok(n, 42), 42);
  for (const v of ["1e2", "4.2", "0x10", "", "ten", 4.2]) assert.match(err(n, v), /expected a whole number/);
  assert.match(err(n, "101"), /between 1 and 100/);
});

test("HOST:PORT: the port is bounded", () => {
  assert.equal(ok(zHostPort, "[::1]:65535"), "[::1]:65535");
  assert.match(err(zHostPort, "127.0.0.1:99999"), /at most 65535/);
  assert.match(err(zHostPort, "localhost"), /expected HOST:PORT/);
});

test("host names and labels refuse control characters, empties and oversize", () => {
  assert.match(err(zHostname, "a\nb"), /control character/);
  assert.match(err(zHostname, "x".repeat(254)), /longer than 253/);
  assert.deepEqual(ok(zLabels, ["env=prod", "role=db=primary"]), { env: "prod", role: "db=primary" });
  assert.deepEqual(ok(zLabels, { rack: 5 }), { rack: "5" });
  assert.match(err(zLabels, ["env"]), /expected k=v/);
  assert.match(err(zLabels, ["env=a\u0000b"]), /"env": label value contains a control character/);
  assert.match(err(zLabels, { env: "" }), /label value is empty/);
});

test("loadSettings names the key and the source: env, flag or file", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-settings-"));
  try {
    const schema = z
      .object({ tls: z.object({ enabled: zBoolean.default(false) }).strict().default({}), interval: zDuration(1000, 60_000).default("10s"), tags: z.array(z.string()).default([]) })
      .strict();
    const specs: SettingSpec[] = [
      { key: "tls.enabled", flag: "tls", env: "X_TLS", type: "boolean" },
      { key: "interval", flag: "interval", env: "X_INTERVAL", type: "string" },
      { key: "tags", env: "X_TAGS", type: "list" },
    ];
    const load = (env: NodeJS.ProcessEnv, flags = {}, file?: string) => loadSettings(schema, specs, { env, flags, file, fileRequired: file !== undefined });
    assert.throws(() => load({ X_TLS: "enabled" }), /tls\.enabled: expected true\/false, yes\/no, on\/off or 1\/0, got "enabled" \(env X_TLS\)/);
    assert.equal(load({ X_TLS: "on" }).tls.enabled, true);
    assert.equal(load({ X_TLS: "" }).tls.enabled, false, "an empty variable is unset");
    assert.equal(load({ X_TLS: "no" }, { tls: true }).tls.enabled, true, "a flag wins over env");
    assert.throws(() => load({}, { interval: "5000" }), /interval: a duration needs a unit.*\(--interval\)/);
    assert.throws(() => load({ X_TAGS: "a,,b" }), /tags: empty item in the comma-separated list "a,,b" \(env X_TAGS\)/);
    assert.throws(() => load({ X_TAGS: "a," }), /tags: empty item/);
    assert.deepEqual(load({ X_TAGS: " a , b " }).tags, ["a", "b"]);
    const file = join(dir, "x.yaml");
    writeFileSync(file, "interval: 5000\ntls: { enabled: maybe }\n");
    const e = (() => {
      try {
        load({}, {}, file);
      } catch (x) {
        return (x as Error).message;
      }
      return "";
    })();
    assert.match(e, new RegExp(`interval: a duration needs a unit.*\\(in ${file.replace(/[.]/g, "\\.")}\\)`));
    assert.match(e, /tls\.enabled: expected true\/false.*got "maybe"/);
    writeFileSync(file, "tls: { enabled: yes }\n");
    assert.equal(load({}, {}, file).tls.enabled, true, "YAML 1.2 reads yes as text; the boolean type accepts it");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("agent host names and labels are held to the collector's wire bounds", async () => {
  const { zHostname, zLabels, FIELD_LIMITS } = await import("../src/index.js");
  assert.equal(zHostname.safeParse("web 1").success, false, "a space is refused by the collector's Hello check");
  assert.equal(zHostname.safeParse("web-1.example.com").success, true);
  const longName = "n".repeat(FIELD_LIMITS.labelNameBytes + 1);
  assert.match(String(zLabels.safeParse({ [longName]: "x" }).error?.issues[0]?.message), /longer than 100 (characters|bytes)/);
  assert.match(String(zLabels.safeParse({ k: "é".repeat(FIELD_LIMITS.labelValueBytes / 2 + 1) }).error?.issues[0]?.message), /longer than 1024 bytes/);
  const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, "v"]));
  assert.match(String(zLabels.safeParse(many).error?.issues[0]?.message), /at most 56 labels/);
});
