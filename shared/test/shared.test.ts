import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff, formatDuration, labelsKey, parseDuration, parseHostPort, parseLabelFlags, VigilError } from "../src/index.js";

test("parseDuration accepts Prometheus forms and names the setting on error", () => {
  assert.equal(parseDuration("10s"), 10_000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5h"), 5_400_000);
  assert.equal(parseDuration("0"), 0);
  assert.throws(() => parseDuration("10 parsecs", "interval"), (e: VigilError) => e.code === "VGL_ERR_BAD_DURATION" && e.message.startsWith("interval:"));
  assert.throws(() => parseDuration("", "step"), /step:/);
  assert.equal(formatDuration(90_000), "1m30s");
});

test("parseHostPort handles IPv4, IPv6 and bare ports", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:4317", "x"), { host: "127.0.0.1", port: 4317 });
  assert.deepEqual(parseHostPort("[::1]:80", "x"), { host: "::1", port: 80 });
  assert.deepEqual(parseHostPort(":9090", "x"), { host: "0.0.0.0", port: 9090 });
  assert.throws(() => parseHostPort("localhost", "--grpc-listen"), /--grpc-listen: expected HOST:PORT/);
  assert.throws(() => parseHostPort("h:70000", "x"), /expected HOST:PORT/);
});

test("backoff grows exponentially with full jitter, capped, and resets", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
  assert.equal(new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 }).next(), 0);
});

test("labelsKey is order independent; label flags parse", () => {
  assert.equal(labelsKey({ a: "1", b: "2" }), labelsKey({ b: "2", a: "1" }));
  assert.notEqual(labelsKey({ a: "1" }), labelsKey({ a: "2" }));
  assert.deepEqual(parseLabelFlags(["env=prod", "role=db=primary"]), { env: "prod", role: "db=primary" });
  assert.throws(() => parseLabelFlags(["oops"]), /--label: expected k=v/);
});
