// Alerting end to end: a synthetic gauge crosses a critical level, the alert fires through the real processes within
// 2 s of the sample's send; ack, silence, resolve; the host-down alert names the host and resolves when it returns.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { eventually, getJson, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

interface Alert {
  id: string;
  rule: string;
  state: string;
  severity: string;
  labels: Record<string, string>;
  summary: string;
  acknowledged: { by: string; comment: string } | null;
  silencedBy: string[];
}

const HOST = `alerts-${process.pid}`;

describe("alerts end to end", { skip: skipWithoutPostgres() }, () => {
  let db: TestDatabase;
  let collector: CollectorProc;
  let agent: Proc | undefined;
  const dir = mkdtempSync(join(tmpdir(), "vigil-alerts-"));
  const gauge = join(dir, "gauge");
  const rules = join(dir, "rules");

  before(async () => {
    db = await createTestDatabase();
    mkdirSync(rules);
    writeFileSync(
      join(rules, "test.yaml"),
      ["rules:", "  - name: gauge-high", "    kind: threshold", "    metric: test.gauge", "    critical: { op: \">\", value: 10 }", "    for: 0s", '    summary: "gauge on {{host}} is {{value}}"'].join("\n"),
    );
    writeFileSync(gauge, "1");
    collector = await startCollector({ databaseUrl: db.url, args: ["--rules-dir", rules] });
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST, "--synthetic", `test.gauge=${gauge}`]);
    await agent.waitForLog((l) => l.msg === "connected to collector");
  });
  after(async () => {
    await agent?.kill();
    await collector?.kill();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const alerts = async (q = "") => (await getJson<{ alerts: Alert[] }>(`${collector.httpUrl}/api/v1/alerts${q}`)).alerts;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${collector.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };

  test("a threshold crossing fires within 2 s of the sample being sent; ack, silence and resolve work", async () => {
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(gauge, "42");
    const sentBy = Math.ceil(Date.now() / 1000) * 1000; // the agent's next tick sends it
    const firing = await eventually(async () => (await alerts("?state=firing")).find((a) => a.rule === "gauge-high"), 5000, "alert firing");
    const seenAfterSend = Date.now() - sentBy;
    assert.ok(seenAfterSend < 2000, `firing in the API ${seenAfterSend} ms after the sample's send`);
    assert.equal(firing.severity, "critical");
    assert.equal(firing.labels.host, HOST);
    assert.equal(firing.summary, `gauge on ${HOST} is 42`);

    const acked = await post(`/api/v1/alerts/${firing.id}/ack`, { by: "alice", comment: "looking" });
    assert.equal(acked.status, 200);
    assert.deepEqual((acked.body.acknowledged as { by: string; comment: string }).by, "alice");

    const silence = await post("/api/v1/silences", { matchers: { alertname: "gauge-high" }, duration: "1h", comment: "maintenance", createdBy: "alice" });
    assert.equal(silence.status, 201);
    const silenced = await eventually(async () => {
      const a = (await alerts("?state=firing")).find((x) => x.id === firing.id);
      return a && a.silencedBy.length === 1 ? a : undefined;
    }, 5000, "silenced flag");
    assert.equal(silenced.silencedBy[0], silence.body.id);

    writeFileSync(gauge, "0");
    await eventually(async () => ((await alerts("?state=resolved")).some((a) => a.id === firing.id) ? true : undefined), 5000, "resolved");
    const detail = await getJson<{ events: { kind: string }[] }>(`${collector.httpUrl}/api/v1/alerts/${firing.id}`);
    assert.deepEqual(
      detail.events.map((e) => e.kind),
      ["firing", "acknowledged", "silenced", "resolved"],
    );
    assert.equal((await post(`/api/v1/alerts/${firing.id}/ack`, {})).status, 409, "a resolved alert cannot be acked");
  });

  test("bad requests name the parameter", async () => {
    const r = await post("/api/v1/silences", { matchers: {}, duration: "1h" });
    assert.equal(r.status, 400);
    assert.match(String((r.body.error as { message: string }).message), /^matchers:/);
    const bad = await fetch(`${collector.httpUrl}/api/v1/rules/bad`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "threshold", metric: "x", critical: { op: ">", value: "high" } }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /critical\.value/);
  });

  test("rules reload on file change and on API change; a dry run replays stored history", async () => {
    type Rules = { rules: { name: string; source: string }[] };
    const names = async () => (await getJson<Rules>(`${collector.httpUrl}/api/v1/rules`)).rules;
    assert.ok((await names()).some((r) => r.name === "host-down" && r.source === "default"));
    writeFileSync(join(rules, "more.yaml"), 'rules:\n  - { name: gauge-low, kind: threshold, metric: test.gauge, warning: { op: "<", value: -5 } }\n');
    await eventually(async () => ((await names()).some((r) => r.name === "gauge-low" && r.source === "file") ? true : undefined), 5000, "file rule loaded");

    const put = await fetch(`${collector.httpUrl}/api/v1/rules/api-gauge`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "threshold", metric: "test.gauge", warning: { op: ">", value: 1000 } }),
    });
    assert.equal(put.status, 200);
    assert.ok((await names()).some((r) => r.name === "api-gauge" && r.source === "api"));
    assert.equal((await fetch(`${collector.httpUrl}/api/v1/rules/api-gauge`, { method: "DELETE" })).status, 200);
    assert.ok(!(await names()).some((r) => r.name === "api-gauge"));

    // The gauge went 1 → 42 → 0 in the first test: the dry run finds that firing and its resolution.
    const dry = await post("/api/v1/rules/dry-run", { rule: { name: "dry", kind: "threshold", metric: "test.gauge", critical: { op: ">", value: 10 } }, start: "-10m" });
    assert.equal(dry.status, 200);
    const kinds = (dry.body.events as { kind: string; labels: Record<string, string> }[]).filter((e) => e.labels.host === HOST).map((e) => e.kind);
    assert.deepEqual(kinds, ["firing", "resolved"]);
  });

  test("the agent stops: host down fires naming the host; it comes back: resolved", async () => {
    await agent!.kill("SIGKILL");
    const down = await eventually(async () => (await alerts("?state=firing")).find((a) => a.rule === "host-down" && a.labels.host === HOST), 50_000, "host-down firing");
    assert.match(down.summary, new RegExp(HOST));
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST]);
    await eventually(async () => ((await alerts("?state=resolved")).some((a) => a.id === down.id) ? true : undefined), 20_000, "host-down resolved");
  });
});
