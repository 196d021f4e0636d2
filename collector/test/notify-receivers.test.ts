// Receivers against real local servers: an SMTP server, HTTP servers standing in for Slack / PagerDuty / a webhook
// consumer, and a real Alertmanager. No mocks: every message goes over a socket and is parsed on the other side.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { fingerprint } from "../src/notify/receivers/am-format.js";
import { DEFAULT_TEXT_BODY, renderMessage } from "../src/notify/templates/index.js";
import type { DeliveryResult, Notification } from "../src/notify/types.js";
import { alertmanagerAvailable, ALERTMANAGER_BIN, startAlertmanager } from "./support/alertmanager.js";
import { closedPort, startFakeHttp, type FakeHttp } from "./support/fake-http.js";
import { acknowledgedOf, fakeAlert, fakeNotification, resolvedOf } from "./support/fake-notifications.js";
import { configError, json, receiver, secretFiles, send } from "./support/fake-receivers.js";
import { startFakeSmtp } from "./support/fake-smtp.js";

const { write: secretFile, cleanup } = secretFiles();
after(cleanup);
const title = (n: Notification): string => renderMessage(n, { defaultBody: DEFAULT_TEXT_BODY, bodyMode: "text" }).title;

describe("templates", () => {
  test("default titles say severity, rule and host; resolved and acknowledged say so", () => {
    const n = fakeNotification();
    assert.equal(title(n), "[CRITICAL] disk-full on web-1");
    assert.equal(title(resolvedOf(n)), "[RESOLVED] disk-full on web-1");
    assert.equal(title(acknowledgedOf(n)), "[ACK by alice] disk-full on web-1");
    const hosts = ["web-1", "web-2", "web-3", "web-4"].map((h, i) => fakeAlert({ id: `a${i}`, severity: "warning", labels: { host: h } }));
    assert.equal(title(fakeNotification({ alerts: hosts })), "[WARNING] disk-full on web-1, web-2, web-3 and 1 more");
    const mixed = [fakeAlert(), fakeAlert({ id: "b", rule: "cpu-high", severity: "warning" })];
    assert.equal(title(fakeNotification({ alerts: mixed })), "[CRITICAL] 2 alerts on web-1: disk-full and cpu-high");
  });

  test("the text body summarises a group; custom templates use the helpers", () => {
    const n = fakeNotification({ alerts: [fakeAlert(), fakeAlert({ id: "b", labels: { host: "web-2" }, state: "resolved", resolvedAt: Date.now() })] });
    const body = renderMessage(n, { defaultBody: DEFAULT_TEXT_BODY, bodyMode: "text" }).body;
    assert.match(body, /^2 alerts \(1 firing, 1 resolved\)/);
    assert.match(body, /\[CRITICAL\] disk-full on web-1\n {2}filesystem \/ on web-1 is 97% full\n {2}value 0\.9731, since 2025-03-01 11:50 UTC \(10m ago\)/);
    const custom = renderMessage(n, { title: "{{severity severity}} {{percent alerts.[0].value}} {{list hosts}}", body: "{{#each alerts}}{{label this 'host'}};{{/each}}", defaultBody: "", bodyMode: "text" });
    assert.deepEqual([custom.title, custom.body], ["CRITICAL 97.3% web-1 and web-2", "web-1;web-2;"]);
  });
});

describe("config schemas", () => {
  test("every kind parses from YAML and builds its receiver", () => {
    const kinds = [
      ["email", "host: smtp.example.com\nfrom: vigil@example.com\nto: ops@example.com", true],
      ["slack", "webhook_url: https://hooks.slack.com/services/T/B/X", true],
      ["webhook", "url: https://hooks.example.com/vigil\nformat: alertmanager", false],
      ["pagerduty", "routing_key_env: PD_KEY", true],
      ["alertmanager", "url: http://127.0.0.1:9093\nfiring_ends_after: 1h", false],
    ] as const;
    for (const [kind, rest, ack] of kinds) {
      const r = receiver(`name: r-${kind}\nkind: ${kind}\n${rest}`);
      assert.deepEqual([r.name, r.kind, r.supportsAck], [`r-${kind}`, kind, ack]);
    }
  });

  test("mistakes are named by key", () => {
    assert.match(configError("name: x\nkind: slack\nwebhook_url: https://a.example/\nchannel: '#ops'"), /unrecognized key.*channel/i);
    assert.match(configError("name: x\nkind: slack"), /webhook_url: required: set one of webhook_url, webhook_url_file, webhook_url_env/);
    assert.match(configError("name: x\nkind: email\nhost: h\nfrom: a@b\nto: [c@d]\nsecure: true\nstarttls: true"), /starttls: choose one/);
    assert.match(configError("name: x\nkind: email\nhost: h\nfrom: a@b\nto: c@d\nuser: bob"), /password: required/);
    assert.match(configError("name: x\nkind: webhook\nurl: http://h/\nheaders: {X-Vigil-Signature: forged}"), /headers\.X-Vigil-Signature: set by Vigil/);
    assert.match(configError("name: x\nkind: webhook\nurl: http://h/\ntitle_template: '{{#each}}'"), /title_template: invalid template/);
    assert.match(configError("name: x\nkind: pager"), /kind: Invalid discriminator value/);
  });
});

describe("email", () => {
  test("sends subject, recipients, a text and an escaped HTML part", async () => {
    const smtp = await startFakeSmtp();
    after(() => smtp.close());
    const r = receiver(`{name: mail, kind: email, host: 127.0.0.1, port: ${smtp.port}, from: vigil@example.com, to: [ops@example.com, dba@example.com]}`);
    const n = fakeNotification({ alerts: [fakeAlert({ summary: "disk <b>full</b> & more" })] });
    const res = await send(r, n);
    assert.equal(res.outcome, "delivered", JSON.stringify(res));
    const mail = smtp.mails[0]!;
    assert.equal(mail.subject, "[CRITICAL] disk-full on web-1");
    assert.deepEqual(mail.envelopeTo, ["ops@example.com", "dba@example.com"]);
    assert.match(mail.headers.get("to") ?? "", /ops@example\.com, dba@example\.com/);
    assert.match(mail.text, /disk <b>full<\/b> & more/);
    assert.match(mail.html, /disk &lt;b&gt;full&lt;\/b&gt; &amp; more/);
    assert.doesNotMatch(mail.html, /<b>full/);
    assert.match(mail.html, /href="https:\/\/vigil\.example\.com\/alerts\/a1"/);
  });

  test("authenticates with password_file; a wrong password gives up without revealing it", async () => {
    const smtp = await startFakeSmtp({ auth: { user: "vigil", pass: "s3cret-pw" } });
    after(() => smtp.close());
    const cfg = (pw: string): string => `{name: m, kind: email, host: 127.0.0.1, port: ${smtp.port}, user: vigil, password_file: ${secretFile(`pw-${pw}`, pw)}, from: a@example.com, to: b@example.com}`;
    assert.equal((await send(receiver(cfg("s3cret-pw")), fakeNotification())).outcome, "delivered");
    assert.equal(smtp.mails[0]?.user, "vigil");
    const bad = await send(receiver(cfg("wrong-pw-123")), fakeNotification());
    assert.equal(bad.outcome, "give_up");
    assert.ok(bad.outcome === "give_up" && /EAUTH|535/.test(bad.reason) && !bad.reason.includes("wrong-pw-123"), JSON.stringify(bad));
    assert.ok(smtp.triedPasswords.includes("wrong-pw-123"), "the server saw the attempt");
  });

  test("starttls refuses a server without STARTTLS; a closed port and an abort are retried", async () => {
    const smtp = await startFakeSmtp({ hang: true });
    after(() => smtp.close());
    const base = `name: m\nkind: email\nhost: 127.0.0.1\nfrom: a@example.com\nto: b@example.com\n`;
    const tls = await send(receiver(`${base}port: ${smtp.port}\nstarttls: true`), fakeNotification());
    assert.equal(tls.outcome, "give_up", JSON.stringify(tls));
    const closed = await send(receiver(`${base}port: ${await closedPort()}`), fakeNotification());
    assert.ok(closed.outcome === "retry" && /ECONNREFUSED/.test(closed.reason), JSON.stringify(closed));
    const started = Date.now();
    const hung = await send(receiver(`${base}port: ${smtp.port}`), fakeNotification(), AbortSignal.timeout(300));
    assert.deepEqual(hung, { outcome: "retry", reason: "timed out" });
    assert.ok(Date.now() - started < 3000, "the abort ended the SMTP conversation");
  });
});

describe("slack", () => {
  let slack: FakeHttp;
  before(async () => (slack = await startFakeHttp({ status: 200, body: "ok" })));
  after(() => slack.close());
  type Block = { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url?: string }[] };

  test("Block Kit: header with severity, host/value/since fields, a link button; resolved and acknowledged too", async () => {
    process.env.VIGIL_TEST_SLACK_URL = `${slack.url}/services/T0/B0/xyz`;
    const r = receiver("{name: chat, kind: slack, webhook_url_env: VIGIL_TEST_SLACK_URL}");
    const n = fakeNotification({ alerts: [fakeAlert({ summary: "a <script> & b" })] });
    for (const m of [n, acknowledgedOf(n), resolvedOf(n)]) assert.equal((await send(r, m)).outcome, "delivered");
    assert.deepEqual(slack.requests.map((q) => q.path), Array(3).fill("/services/T0/B0/xyz"));
    const [firing, ack, resolved] = slack.requests.map((q) => json(q.body) as { text: string; blocks: Block[] });
    assert.equal(firing!.text, "[CRITICAL] disk-full on web-1");
    assert.equal(firing!.blocks[0]!.text!.text, "🔴 [CRITICAL] disk-full on web-1");
    const fields = firing!.blocks[1]!.fields!.map((f) => f.text);
    assert.deepEqual(fields.slice(0, 2), ["*Host*\nweb-1", "*Value*\n0.9731"]);
    assert.match(fields[2]!, /^\*Since\*\n<!date\^\d+\^/);
    assert.match(firing!.blocks[2]!.text!.text, /a &lt;script&gt; &amp; b/);
    assert.equal(firing!.blocks.find((b) => b.type === "actions")?.elements?.[0]?.url, "https://vigil.example.com/alerts/a1");
    assert.equal(ack!.blocks[0]!.text!.text, "👀 [ACK by alice] disk-full on web-1");
    assert.match(ack!.blocks[2]!.text!.text, /_Acknowledged by alice: looking into it_/);
    assert.equal(resolved!.blocks[0]!.text!.text, "✅ [RESOLVED] disk-full on web-1");
  });
});

describe("webhook", () => {
  let hook: FakeHttp;
  before(async () => (hook = await startFakeHttp({ status: 204 })));
  after(() => hook.close());

  test("Vigil payload, HMAC-signed over the exact body, with custom headers", async () => {
    const secret = "hmac-key-123";
    const r = receiver(`{name: hook, kind: webhook, url: "${hook.url}/in", hmac_secret_file: ${secretFile("hmac", secret)}, headers: {Authorization: Bearer t0k}}`);
    assert.equal((await send(r, fakeNotification())).outcome, "delivered");
    const req = hook.requests.at(-1)!;
    const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(req.body).digest("hex")}`);
    const got = Buffer.from(String(req.headers["x-vigil-signature"]));
    assert.ok(got.length === expected.length && timingSafeEqual(got, expected), "signature verifies over the raw body");
    assert.ok(Math.abs(Number(req.headers["x-vigil-timestamp"]) - Date.now() / 1000) < 30);
    assert.deepEqual([req.headers.authorization, req.headers["content-type"], req.headers["x-vigil-delivery"]], ["Bearer t0k", "application/json", "n-1"]);
    const body = json(req.body);
    assert.deepEqual([body.version, body.kind, body.status, body.title, body.url], ["1", "firing", "firing", "[CRITICAL] disk-full on web-1", "https://vigil.example.com/alerts/a1"]);
    assert.equal(body.groupKey, fakeNotification().groupKey);
    assert.deepEqual((body.alerts as { labels: unknown; firingSince: unknown }[])[0], { ...(body.alerts as object[])[0], labels: { host: "web-1", mountpoint: "/" }, firingSince: "2025-03-01T11:50:00.000Z" });
  });

  test("format: alertmanager sends Alertmanager's webhook payload", async () => {
    const r = receiver(`{name: am-hook, kind: webhook, url: "${hook.url}/am", format: alertmanager}`);
    const n = fakeNotification({ alerts: [fakeAlert(), fakeAlert({ id: "a2", labels: { host: "web-2", mountpoint: "/" }, state: "resolved", resolvedAt: Date.UTC(2025, 2, 1, 12) })] });
    assert.equal((await send(r, n)).outcome, "delivered");
    const p = json(hook.requests.at(-1)!.body);
    assert.deepEqual([p.version, p.status, p.receiver, p.groupKey, p.externalURL], ["4", "firing", "am-hook", n.groupKey, "https://vigil.example.com"]);
    assert.deepEqual(p.commonLabels, { alertname: "disk-full", mountpoint: "/", severity: "critical" });
    const [a1, a2] = p.alerts as Record<string, unknown>[];
    const labels = { host: "web-1", mountpoint: "/", alertname: "disk-full", severity: "critical" };
    const annotations = { summary: "filesystem / on web-1 is 97% full", value: "0.9731" };
    const times = { startsAt: "2025-03-01T11:50:00.000Z", endsAt: "0001-01-01T00:00:00Z" };
    assert.deepEqual(a1, { status: "firing", labels, annotations, ...times, generatorURL: n.url, fingerprint: fingerprint(labels) });
    assert.deepEqual([a2!.status, a2!.endsAt], ["resolved", "2025-03-01T12:00:00.000Z"]);
  });

  test("answers are classified: 5xx and 429 retry (with Retry-After), other 4xx and redirects give up", async () => {
    const r = receiver(`{name: h, kind: webhook, url: "${hook.url}/x"}`);
    const cases: [Parameters<FakeHttp["respond"]>[0], (d: DeliveryResult) => boolean][] = [
      [{ status: 500, body: "boom" }, (d) => d.outcome === "retry" && /HTTP 500/.test(d.reason) && d.retryAfterMs === undefined],
      [{ status: 503, headers: { "retry-after": "2" } }, (d) => d.outcome === "retry" && d.retryAfterMs === 2000],
      [{ status: 429, headers: { "retry-after": "7" }, body: "slow down" }, (d) => d.outcome === "retry" && d.retryAfterMs === 7000 && /429/.test(d.reason)],
      [{ status: 400, body: "invalid_payload: missing text" }, (d) => d.outcome === "give_up" && /HTTP 400 Bad Request: invalid_payload: missing text/.test(d.reason)],
      [{ status: 404, body: "x".repeat(5000) }, (d) => d.outcome === "give_up" && /404/.test(d.reason) && d.reason.length < 400],
      [{ status: 301, headers: { location: "https://elsewhere.example/" } }, (d) => d.outcome === "give_up" && /elsewhere/.test(d.reason)],
    ];
    for (const [reply, ok] of cases) {
      hook.respond(reply);
      const d = await send(r, fakeNotification());
      assert.ok(ok(d), `${JSON.stringify(reply).slice(0, 80)} → ${JSON.stringify(d).slice(0, 300)}`);
    }
  });

  test("a closed port retries; an abort (timeout) ends the request and retries", async () => {
    const closed = await send(receiver(`{name: h, kind: webhook, url: "http://127.0.0.1:${await closedPort()}/"}`), fakeNotification());
    assert.ok(closed.outcome === "retry" && /network error: .*ECONNREFUSED/.test(closed.reason), JSON.stringify(closed));
    hook.respond({ status: 200, delayMs: 5000 });
    const started = Date.now();
    const slow = await send(receiver(`{name: h, kind: webhook, url: "${hook.url}/slow"}`), fakeNotification(), AbortSignal.timeout(200));
    assert.deepEqual(slow, { outcome: "retry", reason: "timed out" });
    assert.ok(Date.now() - started < 2000);
    const ctl = new AbortController();
    ctl.abort(new Error("shutting down"));
    assert.deepEqual(await send(receiver(`{name: h, kind: webhook, url: "${hook.url}/"}`), fakeNotification(), ctl.signal), { outcome: "retry", reason: "aborted (shutting down)" });
    hook.respond({ status: 204 });
  });
});

describe("pagerduty", () => {
  test("trigger, acknowledge and resolve one incident per group (stable dedup_key)", async () => {
    const pd = await startFakeHttp({ status: 202, body: '{"status":"success","message":"Event processed"}' });
    after(() => pd.close());
    const r = receiver(`{name: pager, kind: pagerduty, url: "${pd.url}/v2/enqueue", routing_key_file: ${secretFile("pd", "R0UTINGKEY0123456789012345678901")}}`);
    const n = fakeNotification();
    for (const m of [n, acknowledgedOf(n), resolvedOf(n)]) assert.equal((await send(r, m)).outcome, "delivered");
    const events = pd.requests.map((q) => json(q.body) as { routing_key: string; event_action: string; dedup_key: string; payload?: Record<string, unknown> });
    assert.deepEqual(events.map((e) => e.event_action), ["trigger", "acknowledge", "resolve"]);
    assert.equal(new Set(events.map((e) => e.dedup_key)).size, 1);
    assert.match(events[0]!.dedup_key, /^vigil-[0-9a-f]{40}$/);
    assert.equal(events[0]!.routing_key, "R0UTINGKEY0123456789012345678901");
    const p = events[0]!.payload!;
    assert.deepEqual([p.summary, p.severity, p.source, p.class], ["[CRITICAL] disk-full on web-1", "critical", "web-1", "disk-full"]);
    assert.match(String((p.custom_details as { text: string }).text), /97% full/);
    assert.equal(events[1]!.payload, undefined);
    pd.respond({ status: 400, body: '{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}' });
    const bad = await send(r, n);
    assert.ok(bad.outcome === "give_up" && /400.*Invalid routing key/.test(bad.reason), JSON.stringify(bad));
  });
});

describe("alertmanager (real)", () => {
  // Skipped with a notice on a machine without it; under CI=true a missing binary fails the test instead.
  const skip = !alertmanagerAvailable() && process.env.CI !== "true" && `${ALERTMANAGER_BIN} not found: apt-get install prometheus-alertmanager`;
  test("forwarded alerts appear in Alertmanager's own API, and resolving them ends them", { skip }, async () => {
    const am = await startAlertmanager();
    after(() => am.stop());
    const r = receiver(`{name: upstream, kind: alertmanager, url: "${am.url}/"}`);
    const n = fakeNotification({ alerts: [fakeAlert({ labels: { host: "web-1", "mount.point": "/" } })] });
    const res = await send(r, n);
    assert.equal(res.outcome, "delivered", `${JSON.stringify(res)}\n${am.output()}`);
    type AmAlert = { labels: Record<string, string>; annotations: Record<string, string>; fingerprint: string; generatorURL: string; status: { state: string } };
    const active = async (): Promise<AmAlert[]> => (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AmAlert[];
    const [a, ...others] = await active();
    assert.ok(a && others.length === 0 && a.status.state === "active", JSON.stringify(a));
    assert.deepEqual(a.labels, { alertname: "disk-full", host: "web-1", mount_point: "/", severity: "critical" });
    assert.equal(a.annotations.summary, "filesystem / on web-1 is 97% full");
    assert.equal(a.generatorURL, "https://vigil.example.com/alerts/a1");
    assert.equal(a.fingerprint, fingerprint(a.labels), "our fingerprint is Alertmanager's");
    assert.equal((await send(r, resolvedOf(n, Date.now() - 1000))).outcome, "delivered");
    assert.deepEqual(await active(), [], "a resolved alert is no longer active");
  });
});
