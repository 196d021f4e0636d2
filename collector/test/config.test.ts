// The collector's settings as start-up reads them: database waiting, the URL's source, exact booleans, redaction.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configRedactor, printableConfig } from "../src/config-secrets.js";
import { parseCollectorCommand, underSystemd } from "../src/config.js";

const load = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCollectorCommand(argv, env).load();

test("systemd is recognised by its variables, unless a terminal is watching", () => {
  assert.equal(underSystemd({ INVOCATION_ID: "abc" }, false), true);
  assert.equal(underSystemd({ NOTIFY_SOCKET: "/run/systemd/notify" }, false), true);
  assert.equal(underSystemd({ INVOCATION_ID: "abc" }, true), false);
  assert.equal(underSystemd({}, false), false);
});

test("wait_for_db: a duration or forever; the default depends on systemd", () => {
  assert.equal(load(["--wait-for-db", "2m"]).waitForDbMs, 120_000);
  assert.equal(load([], { VIGIL_WAIT_FOR_DB: "Forever" }).waitForDbMs, Number.POSITIVE_INFINITY);
  assert.throws(() => load(["--wait-for-db", "30"]), /wait_for_db: a duration needs a unit.*\(or "forever"\) \(--wait-for-db\)/);
  assert.throws(() => load([], { VIGIL_WAIT_FOR_DB: "soon" }), /wait_for_db: expected a duration/);
  // The test runner's stderr may be a terminal: the default follows underSystemd's own verdict.
  const expected = underSystemd({ INVOCATION_ID: "x" }) ? Number.POSITIVE_INFINITY : 0;
  assert.equal(load([], { INVOCATION_ID: "x" }).waitForDbMs, expected);
  assert.equal(load([], { INVOCATION_ID: "x", VIGIL_WAIT_FOR_DB: "0s" }).waitForDbMs, 0);
  assert.equal(load([]).waitForDbMs, 0);
});

test("the database URL's source is named; an unparsable URL is refused without echoing it", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
  try {
    const file = join(dir, "c.yaml");
    writeFileSync(file, "database_url: postgres://v:pw@db/v\n");
    assert.equal(load(["--config", file]).databaseUrlFrom, `database_url in ${file}`);
    assert.equal(load(["--config", file], { DATABASE_URL: "postgres://v@other/v" }).databaseUrlFrom, "DATABASE_URL");
    assert.throws(() => load([], { DATABASE_URL: "postgres://v:p@ss@db:x/v" }), (e: Error) => /database_url: not a valid URL/.test(e.message) && !e.message.includes("p@ss"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("booleans are exact: insecure_no_auth refuses what it cannot read", () => {
  assert.equal(load([], { VIGIL_INSECURE_NO_AUTH: "yes" }).insecureNoAuth, true);
  assert.throws(() => load([], { VIGIL_INSECURE_NO_AUTH: "enabled" }), /insecure_no_auth: expected true\/false.*\(env VIGIL_INSECURE_NO_AUTH\)/);
});

test("ingest.writer_connections: 2 by default, 1 to 8 accepted", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
  try {
    const file = join(dir, "c.yaml");
    const withConnections = (n: number) => (writeFileSync(file, `ingest:\n  writer_connections: ${n}\n`), load(["--config", file]));
    assert.equal(load([]).ingest.writerConnections, 2);
    assert.equal(withConnections(1).ingest.writerConnections, 1);
    assert.equal(withConnections(8).ingest.writerConnections, 8);
    assert.throws(() => withConnections(0), /ingest\.writer_connections/);
    assert.throws(() => withConnections(9), /ingest\.writer_connections/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("check-config prints every secret as [redacted], including values *_env keys name", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
  try {
    const file = join(dir, "c.yaml");
    writeFileSync(
      file,
      JSON.stringify({
        notifications: {
          receivers: [
            { name: "s", kind: "slack", webhook_url: "https://hooks.slack.com/services/T/B/slack-secret-9" },
            { name: "p", kind: "pagerduty", routing_key_env: "PD_KEY_9" },
            { name: "w", kind: "webhook", url: "https://u:wh-secret-9@h/x?token=q-secret-9", headers: { Authorization: "Bearer hdr-secret-9" } },
          ],
        },
      }),
    );
    const env = { DATABASE_URL: "postgres://vigil:db-secret-9@db:5432/v", REDIS_URL: "redis://:redis-secret-9@cache:6379/0", PD_KEY_9: "pd-secret-9", VIGIL_WAIT_FOR_DB: "forever" };
    const config = load(["--config", file], env);
    const redactor = configRedactor(config, env);
    const printed = JSON.stringify(printableConfig(config, redactor));
    for (const s of ["slack-secret-9", "wh-secret-9", "q-secret-9", "hdr-secret-9", "db-secret-9", "redis-secret-9"]) assert.ok(!printed.includes(s), `${s}: ${printed}`);
    assert.match(printed, /"waitForDbMs":"forever"/);
    assert.match(printed, /postgres:\/\/vigil:\[redacted\]@db:5432\/v/);
    assert.equal(redactor.text("key pd-secret-9"), "key [redacted]");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("storage.volume_size: a size with a unit, bounded; unset when not given", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
  try {
    const file = join(dir, "c.yaml");
    const withSize = (v: string) => {
      writeFileSync(file, `storage:\n  volume_size: ${v}\n`);
      return load(["--config", file]).storage.volumeSizeBytes;
    };
    assert.equal(load([]).storage.volumeSizeBytes, null);
    assert.equal(withSize("500GiB"), 500 * 1024 ** 3);
    assert.equal(withSize("1.5TB"), 1.5e12);
    assert.throws(() => withSize("500"), /storage\.volume_size: must be between 1MiB and 4096TiB, got 500 \(a bare number is bytes: add a unit, e\.g\. "500MiB"\)/);
    assert.throws(() => withSize("lots"), /storage\.volume_size: expected a size like "256MiB"/);
    assert.throws(() => withSize("9PiB"), /storage\.volume_size: expected a size/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("storage lifecycle settings: retention per tier with overrides, each checked and named when wrong", () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
  try {
    const file = join(dir, "c.yaml");
    const withStorage = (yaml: string) => {
      writeFileSync(file, `storage:\n${yaml}\n`);
      return load(["--config", file]).storage;
    };
    const d = load([]).storage;
    assert.deepEqual(d.retention, { keep: { raw: 15 * 86_400_000, "1m": 90 * 86_400_000, "1h": 730 * 86_400_000 }, overrides: [] });
    assert.deepEqual([d.compactAfterMs, d.maintenanceIntervalMs, d.mantissaBits], [3_600_000, 600_000, 52]);
    const s = withStorage(`  retention: { raw: 7d, 1h: 1y }\n  retention_overrides:\n    - { match: "vigil.check.*", raw: 2d }\n  value_bits: 24`);
    assert.deepEqual(s.retention, { keep: { raw: 7 * 86_400_000, "1m": 90 * 86_400_000, "1h": 365 * 86_400_000 }, overrides: [{ match: "vigil.check.*", keep: { raw: 2 * 86_400_000 } }] });
    assert.equal(s.mantissaBits, 24);
    assert.throws(() => withStorage(`  retention_overrides:\n    - { match: "vigil.check.*" }`), /storage\.retention_overrides\.0: names no tier: give raw, 1m or 1h/);
    assert.throws(() => withStorage(`  retention_overrides:\n    - { match: "a(b|c)", raw: 1d }`), /storage\.retention_overrides\.0\.match: expected a metric name pattern/);
    assert.throws(() => withStorage(`  retention: { raw: 10m }`), /storage\.retention\.raw: must be between 1h and/);
    assert.throws(() => withStorage(`  retention: { 5m: 1d }`), /storage\.retention\.5m: unknown setting/);
    assert.throws(() => withStorage(`  value_bits: 60`), /storage\.value_bits: must be between 8 and 52, got 60/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("api.rate_limit: per key and per address, bounded; redis_url must be a redis URL", () => {
  const c = load([]);
  assert.deepEqual(c.api.rateLimit, { max: 600, anonymousMax: 120, windowMs: 60_000 });
  assert.equal(c.redisUrl, undefined);
  assert.equal(load([], { REDIS_URL: "" }).redisUrl, undefined, "an empty REDIS_URL is unset");
  assert.deepEqual(load([], { VIGIL_API_RATE_LIMIT_MAX: "50", VIGIL_API_RATE_LIMIT_ANONYMOUS_MAX: "5" }).api.rateLimit, { max: 50, anonymousMax: 5, windowMs: 60_000 });
  assert.throws(() => load([], { VIGIL_API_RATE_LIMIT_MAX: "0" }), /api\.rate_limit\.max: must be between 1 and/);
  assert.throws(() => load([], { REDIS_URL: "http://cache:6379" }), /redis_url: expected a redis:\/\/ or rediss:\/\/ URL/);
  const dir = mkdtempSync(join(tmpdir(), "vigil-config-"));
  try {
    const file = join(dir, "c.yaml");
    writeFileSync(file, "api:\n  rate_limit: { window: 10s, burst: 3 }\n");
    assert.throws(() => load(["--config", file]), /api\.rate_limit.*burst/);
    writeFileSync(file, "api:\n  rate_limit: { window: 0s }\n");
    assert.throws(() => load(["--config", file]), /api\.rate_limit\.window/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
