// Secrets in receiver configs (URL credentials and tokens, header values, routing keys, a Slack webhook URL from the
// environment, a routing key from a file) never reach a delivery's stored error, the log or a test answer, whatever the
// receiver's server echoes back and however the send fails.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pino from "pino";
import { parse as parseYaml } from "yaml";
import { ManualClock } from "@vigil/shared";
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from "../../test/support/postgres.js";
import { configRedactor } from "../src/config-secrets.js";
import type { CollectorConfig } from "../src/config.js";
import { contentHash } from "../src/notify/delivery/content-hash.js";
import { DeliveryWorker } from "../src/notify/delivery/worker.js";
import { createReceiver, receiverConfigSchema, type ReceiverConfig } from "../src/notify/receivers/index.js";
import type { Notification } from "../src/notify/types.js";
import { openDatabase, type OpenDatabase } from "../src/storage/database.js";
import { migrate } from "../src/storage/migrator.js";
import { OutboxStore } from "../src/storage/outbox-store.js";
import { closedPort, startFakeHttp, type FakeHttp } from "./support/fake-http.js";
import { fakeNotification } from "./support/fake-notifications.js";
import { secretFiles } from "./support/fake-receivers.js";

const SECRETS = {
  webhookPassword: "wh-pass-1",
  webhookToken: "wh-token-1",
  webhookHeader: "wh-header-1",
  slackEnvToken: "slack-env-token-1",
  slackDnsToken: "slack-dns-token-1",
  pagerdutyKey: "pd-key-file-1",
  amPassword: "am-pass-1",
  smtpPassword: "smtp-env-pass-1",
};
const leaks = (text: string): string[] => Object.values(SECRETS).filter((s) => text.includes(s));

describe("receiver secrets", { skip: skipWithoutPostgres() }, () => {
  const files = secretFiles();
  let echo: FakeHttp;
  let testDb: TestDatabase;
  let db: OpenDatabase;
  let receivers: ReceiverConfig[];

  before(async () => {
    // A careless server: every error quotes the request line, its headers and its body.
    echo = await startFakeHttp((req) => ({ status: req.path.startsWith("/v2/") ? 400 : 500, body: `${req.path} ${JSON.stringify(req.headers)} ${req.body}` }));
    process.env.VIGIL_TEST_SLACK_URL = `${echo.url}/services/T1/B1/${SECRETS.slackEnvToken}`;
    process.env.VIGIL_TEST_SMTP_PASSWORD = SECRETS.smtpPassword;
    const base = echo.url.replace("://", `://user:${SECRETS.webhookPassword}@`);
    const yaml = [
      `{name: hook, kind: webhook, url: "${base}/hook?token=${SECRETS.webhookToken}", headers: {Authorization: "Bearer ${SECRETS.webhookHeader}"}}`,
      `{name: hook-closed, kind: webhook, url: "http://user:${SECRETS.webhookPassword}@127.0.0.1:${await closedPort()}/hook?token=${SECRETS.webhookToken}"}`,
      `{name: slack, kind: slack, webhook_url_env: VIGIL_TEST_SLACK_URL}`,
      `{name: slack-dns, kind: slack, webhook_url: "https://no-such-host.invalid/services/T/B/${SECRETS.slackDnsToken}"}`,
      `{name: pd, kind: pagerduty, url: "${echo.url}/v2/enqueue", routing_key_file: "${files.write("pd.key", SECRETS.pagerdutyKey)}"}`,
      `{name: am, kind: alertmanager, url: "${echo.url.replace("://", `://am:${SECRETS.amPassword}@`)}"}`,
      `{name: mail, kind: email, host: 127.0.0.1, port: ${await closedPort()}, user: u, password_env: VIGIL_TEST_SMTP_PASSWORD, from: a@example.com, to: b@example.com}`,
    ];
    receivers = yaml.map((y) => receiverConfigSchema.parse(parseYaml(y)));
    testDb = await createTestDatabase();
    db = await openDatabase({ databaseUrl: testDb.url, dataDir: "" });
    await migrate(db.db);
  });
  after(async () => {
    delete process.env.VIGIL_TEST_SLACK_URL;
    delete process.env.VIGIL_TEST_SMTP_PASSWORD;
    await echo?.close();
    await db?.close();
    await testDb?.drop();
    files.cleanup();
  });

  test("every receiver's failure reason is redacted, and still says what went wrong", async () => {
    const want: Record<string, RegExp> = {
      hook: /HTTP 500/,
      "hook-closed": /ECONNREFUSED/,
      slack: /HTTP 500/,
      "slack-dns": /ENOTFOUND|EAI_AGAIN/,
      pd: /HTTP 400/,
      am: /HTTP 500/,
      mail: /ECONNREFUSED/,
    };
    for (const cfg of receivers) {
      const r = await createReceiver(cfg).send(fakeNotification({ receiver: cfg.name }), AbortSignal.timeout(10_000));
      assert.notEqual(r.outcome, "delivered", cfg.name);
      const reason = r.outcome === "delivered" ? "" : r.reason;
      assert.deepEqual(leaks(reason), [], `${cfg.name}: ${reason}`);
      assert.match(reason, want[cfg.name]!, `${cfg.name}: ${reason}`);
    }
    // The echo server did get the secrets (the test would prove nothing otherwise).
    assert.ok(echo.requests.some((q) => q.body.includes(SECRETS.pagerdutyKey)));
    assert.ok(echo.requests.some((q) => q.path.includes(SECRETS.slackEnvToken)));
  });

  test("the delivery worker stores and logs only redacted errors", async () => {
    const store = new OutboxStore(db.db);
    const clock = new ManualClock(Date.now());
    const lines: string[] = [];
    const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(s) });
    const config = { receivers } as unknown as CollectorConfig;
    const redactor = configRedactor(config);
    const notes: Notification[] = receivers.map((r) => fakeNotification({ id: randomUUID(), receiver: r.name, groupKey: `g-${r.name}`, createdAt: clock.now() }));
    await store.enqueue(db.db, notes.map((n) => ({ notification: n, contentHash: contentHash(n) })));
    const worker = new DeliveryWorker({
      store,
      receivers: new Map(receivers.map((r) => [r.name, createReceiver(r)])),
      clock,
      log,
      workerId: "w1",
      pollMs: 20,
      batchSize: 50,
      backoff: { initialMs: 1000, maxMs: 60_000 },
      breaker: { failureThreshold: 1, openMs: 30_000 },
      timeoutMs: 10_000,
      redact: (t) => redactor.text(t),
    });
    assert.equal(await worker.runOnce(), notes.length);
    const rows = await store.list({ limit: 100 });
    assert.equal(rows.length, notes.length);
    for (const row of rows) {
      assert.ok(row.lastError, `${row.receiver} has no last_error`);
      assert.deepEqual(leaks(row.lastError), [], `${row.receiver}: ${row.lastError}`);
    }
    assert.ok(lines.some((l) => /circuit opened|dead-lettered/.test(l)), "the failures were logged");
    assert.deepEqual(leaks(lines.join("\n")), [], lines.join("\n"));
  });

  test("the config's secrets, including those its *_env keys name, are known to the redactor", () => {
    const redactor = configRedactor({ receivers, databaseUrl: "postgres://vigil:db-secret-1@db:5432/v" } as unknown as CollectorConfig);
    const text = `${process.env.VIGIL_TEST_SLACK_URL} ${SECRETS.webhookHeader} postgres://vigil:db-secret-1@db:5432/v`;
    const out = redactor.text(text);
    assert.deepEqual(leaks(out), []);
    assert.ok(!out.includes("db-secret-1"), out);
    assert.match(out, /db:5432/);
  });
});

test("credentials in a receiver URL are sent as Basic auth (fetch refuses them in the URL); a configured header wins", async () => {
  const server = await startFakeHttp({ status: 200, body: "ok" });
  try {
    const url = server.url.replace("://", "://alice:p%40ss@");
    const plain = createReceiver(receiverConfigSchema.parse({ name: "w", kind: "webhook", url: `${url}/hook` }));
    assert.equal((await plain.send(fakeNotification(), AbortSignal.timeout(5000))).outcome, "delivered");
    assert.equal(server.requests[0]!.headers.authorization, `Basic ${Buffer.from("alice:p@ss").toString("base64")}`);
    assert.equal(server.requests[0]!.path, "/hook");
    const own = createReceiver(receiverConfigSchema.parse({ name: "w", kind: "webhook", url: `${url}/hook`, headers: { Authorization: "Bearer t0ken" } }));
    assert.equal((await own.send(fakeNotification(), AbortSignal.timeout(5000))).outcome, "delivered");
    assert.equal(server.requests[1]!.headers.authorization, "Bearer t0ken");
  } finally {
    await server.close();
  }
});
