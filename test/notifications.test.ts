// Notifications end to end: a threshold crossing reaches a webhook receiver (HMAC-signed) through the outbox;
// acknowledgement and resolution are notified too; the API shows deliveries; a receiver can be tested.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../collector/src/cli/vigil/run.js";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "./support/postgres.js";
import { eventually, getJson, startAgent, startCollector, type CollectorProc, type Proc } from "./support/processes.js";

interface Received {
  kind: string;
  alerts: { rule: string; state: string; labels: Record<string, string> }[];
  signatureOk: boolean;
}

const HOST = `notify-${process.pid}`;
const SECRET = "s3cret-for-tests";

describe("notifications end to end", { skip: skipWithoutPostgres() }, () => {
  let db: TestDatabase;
  let collector: CollectorProc;
  let agent: Proc;
  const got: Received[] = [];
  const hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const expected = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
      const msg = JSON.parse(body.toString("utf8")) as Omit<Received, "signatureOk">;
      got.push({ ...msg, signatureOk: req.headers["x-vigil-signature"] === expected });
      res.writeHead(200).end("ok");
    });
  });
  const dir = mkdtempSync(join(tmpdir(), "vigil-notify-"));
  const gauge = join(dir, "gauge");

  before(async () => {
    hook.listen(0, "127.0.0.1");
    await once(hook, "listening");
    const port = (hook.address() as { port: number }).port;
    db = await createTestDatabase();
    mkdirSync(join(dir, "rules"));
    writeFileSync(join(dir, "rules/g.yaml"), 'rules:\n  - { name: gauge-high, kind: threshold, metric: test.gauge, critical: { op: ">", value: 10 }, for: 0s }\n');
    writeFileSync(join(dir, "hmac"), SECRET);
    writeFileSync(
      join(dir, "collector.yaml"),
      [
        `rules_dir: ${join(dir, "rules")}`,
        "notifications:",
        "  receivers:",
        `    - { name: hook, kind: webhook, url: "http://127.0.0.1:${port}/vigil", hmac_secret_file: "${join(dir, "hmac")}" }`,
        "  route:",
        "    receivers: [hook]",
        "    group_wait: 0s",
        "    group_interval: 1s",
        "    escalation: none",
      ].join("\n"),
    );
    writeFileSync(gauge, "1");
    collector = await startCollector({ databaseUrl: db.url, args: ["--config", join(dir, "collector.yaml")] });
    agent = startAgent(["--collector", collector.grpcAddress, "--interval", "1s", "--hostname", HOST, "--synthetic", `test.gauge=${gauge}`]);
    await agent.waitForLog((l) => l.msg === "connected to collector");
  });
  after(async () => {
    await agent?.kill();
    await collector?.kill();
    await db?.drop();
    hook.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) => fetch(`${collector.httpUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

  test("firing, acknowledged and resolved reach the webhook once each, signed; the API lists the deliveries", async () => {
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(gauge, "50");
    const firing = await eventually(async () => got.find((m) => m.kind === "firing"), 8000, "firing notification");
    assert.equal(firing.signatureOk, true, "HMAC over the body verifies");
    assert.equal(firing.alerts[0]!.rule, "gauge-high");
    assert.equal(firing.alerts[0]!.labels.host, HOST);

    const alerts = await getJson<{ alerts: { id: string }[] }>(`${collector.httpUrl}/api/v1/alerts?state=firing`);
    const id = alerts.alerts[0]!.id;
    assert.equal((await post(`/api/v1/alerts/${id}/ack`, { by: "bob" })).status, 200);
    await eventually(async () => got.find((m) => m.kind === "acknowledged"), 8000, "acknowledged notification");

    writeFileSync(gauge, "0");
    await eventually(async () => got.find((m) => m.kind === "resolved"), 8000, "resolved notification");
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(got.map((m) => m.kind), ["firing", "acknowledged", "resolved"], "each once, in order");

    const list = await getJson<{ notifications: { status: string; attempts: number; receiver: string }[] }>(`${collector.httpUrl}/api/v1/notifications?alert=${id}`);
    assert.equal(list.notifications.length, 3);
    assert.ok(list.notifications.every((n) => n.status === "delivered" && n.attempts === 1 && n.receiver === "hook"));
  });

  test("POST /api/v1/receivers/:name/test sends a test message; unknown receivers answer 404", async () => {
    const before = got.length;
    const r = await post("/api/v1/receivers/hook/test", {});
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { outcome: string }).outcome, "delivered");
    assert.equal(got.length, before + 1);
    assert.equal(got[got.length - 1]!.kind, "test");
    assert.equal((await post("/api/v1/receivers/nope/test", {})).status, 404);
    // The same through the CLI.
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {} };
    assert.equal(await run(["notify", "test", "hook", "--url", collector.httpUrl], io), 0);
    assert.match(out.join(""), /^hook: delivered/);
    assert.equal(got[got.length - 1]!.kind, "test");
  });
});
