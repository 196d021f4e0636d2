import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../src/cli/vigil/run.js";

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const dir = mkdtempSync(join(tmpdir(), "vigil-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

async function vigil(argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env, now: () => NOW });
  return { code, out, err };
}

const DISK_RULES = `
rules:
  - name: disk-full
    kind: threshold
    metric: system.filesystem.utilization
    match: { mountpoint: "/" }
    warning: { op: ">", value: 0.85 }
    critical: { op: ">", value: 0.95 }
    for: 3m
    summary: "{{labels.mountpoint}} on {{host}} is {{value | percent}} full"
`;

describe("vigil rules check", () => {
  test("a valid file: OK with its rule count, exit 0", async () => {
    const file = write("rules/disk.yaml", DISK_RULES);
    const r = await vigil(["rules", "check", file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${file}: OK (1 rule)\n`);
  });

  test("an invalid file: each error names file, rule and field; exit 1; the valid file is still reported OK", async () => {
    const good = write("rules/disk.yaml", DISK_RULES);
    const bad = write("bad/broken.yaml", `rules:\n  - name: cpu-hot\n    kind: threshold\n    metric: system.cpu.utilization\n    warning: { op: ">", value: high }\n    for: 3x\n`);
    const r = await vigil(["rules", "check", good, bad]);
    assert.equal(r.code, 1);
    assert.equal(r.out, `${good}: OK (1 rule)\n`);
    assert.match(r.err, new RegExp(`${bad}: rule "cpu-hot": warning\\.value: expected a number, got "high"`));
    assert.match(r.err, new RegExp(`${bad}: rule "cpu-hot": for: expected a duration`));
    assert.match(r.err, /1 of 2 rule files invalid/);
    const json = await vigil(["rules", "check", "--json", bad]);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.out) as { ok: boolean }).ok, false);
  });

  test("a missing file and a missing argument", async () => {
    const missing = await vigil(["rules", "check", join(dir, "nope.yaml")]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.yaml: cannot read/);
    const usage = await vigil(["rules", "check"]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /vigil rules check: missing a rule FILE/);
  });
});

const TEST_FILE = (at11: string) => `
rule_files: [rules/disk.yaml]
evaluation_interval: 10s
tests:
  - name: disk fills up and a host goes quiet
    interval: 1m
    input_series:
      - series: 'system.filesystem.utilization{host="web-1",mountpoint="/",device="sda1",type="ext4"}'
        values: "0.5 0.9x6 0.99x3"
      - host_seen: { host: web-2, until: 5m, interval: 10s }
    alert_rule_test:
      - at: 1m
        alerts: []
      - at: 3m
        alerts: [ { rule: disk-full, state: pending, severity: warning }, { rule: filesystem-full, state: pending } ]
      - at: 5m
        alerts: [ { rule: disk-full, severity: warning, labels: { host: web-1, mountpoint: "/" } } ]
      - at: 6m
        alerts:
          - { rule: disk-full, severity: warning, summary: "/ on web-1 is 90.0% full" }
          - { rule: filesystem-full, severity: warning }
          - { rule: host-down, severity: critical, labels: { host: web-2 } }
      - at: 11m
        alerts:
${at11}
`;

describe("vigil rules test", () => {
  test("a passing test file: PASS, exit 0 (threshold with for, default rules, host-down)", async () => {
    write("rules/disk.yaml", DISK_RULES);
    const file = write("pass.test.yaml", TEST_FILE("          - { rule: disk-full, severity: critical }\n          - { rule: filesystem-full, severity: warning }\n          - { rule: host-down, labels: { host: web-2 } }"));
    const r = await vigil(["rules", "test", file]);
    assert.equal(r.err, "");
    assert.equal(r.out, `${file}\n  PASS  disk fills up and a host goes quiet\n1 test, 0 failed\n`);
    assert.equal(r.code, 0);
  });

  test("a failing test: FAIL, exit 1, the diff names the missing and the unexpected alert and the field that differs", async () => {
    write("rules/disk.yaml", DISK_RULES);
    const file = write("fail.test.yaml", TEST_FILE("          - { rule: disk-full, severity: critical }\n          - { rule: filesystem-full, severity: critical }\n          - { rule: host-down, labels: { host: web-3 } }"));
    const r = await vigil(["rules", "test", file]);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL {2}disk fills up and a host goes quiet/);
    assert.match(r.out, /at 11m \(comparing firing alerts\):/);
    assert.match(r.out, /missing: {4}filesystem-full critical firing\n/);
    assert.match(r.out, /closest filesystem-full alert differs: severity: expected critical, got warning/);
    assert.match(r.out, /missing: {4}host-down \(any severity\) firing \{host="web-3"\}/);
    assert.match(r.out, /closest host-down alert differs: labels\.host: expected "web-3", got "web-2"/);
    assert.match(r.out, /unexpected: host-down critical firing \{host="web-2"\}/);
    assert.match(r.out, /unexpected: filesystem-full warning firing \{device="sda1", host="web-1", mountpoint="\/", type="ext4"\} value=0\.99/);
    assert.doesNotMatch(r.out, /at 6m/);
    assert.match(r.out, /1 test, 1 failed/);
  });

  test("check runs and default_rules: false", async () => {
    const file = write("check.test.yaml", `
default_rules: false
rule_files: [rules/nginx.yaml]
tests:
  - interval: 30s
    input_series:
      - check: { host: web-1, name: nginx, values: "healthy unhealthyx4" }
    alert_rule_test:
      - { at: 30s, alerts: [ { rule: nginx-down, state: pending } ] }
      - { at: 1m30s, alerts: [ { rule: nginx-down, severity: critical, labels: { check: nginx, host: web-1 } } ] }
`);
    write("rules/nginx.yaml", `rules:\n  - { name: nginx-down, kind: check, check: nginx, severity_for: { unhealthy: critical, degraded: none }, for: 1m }\n`);
    const r = await vigil(["rules", "test", file]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /PASS {2}tests\[0\]/);
  });

  test("an invalid test file: every problem names the field; exit 1", async () => {
    const file = write("bad.test.yaml", `
rule_files: [rules/disk.yaml]
evaluation_interval: 0s
tests:
  - name: broken
    input_series:
      - series: 'system.filesystem.utilization{mountpoint="/"}'
        values: "0.5 0.9y6"
    alert_rule_test:
      - at: soon
        alerts: [ { severity: major } ]
`);
    const r = await vigil(["rules", "test", file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.test\.yaml: evaluation_interval: must be longer than 0s/);
    assert.match(r.err, /tests\[0\]\.input_series\[0\]\.series: needs a host label/);
    assert.match(r.err, /tests\[0\]\.input_series\[0\]\.values: value 2 "0\.9y6": expected a number/);
    assert.match(r.err, /tests\[0\]\.alert_rule_test\[0\]\.at: expected a duration/);
    assert.match(r.err, /tests\[0\]\.alert_rule_test\[0\]\.alerts\[0\]\.rule: required/);
    assert.match(r.err, /tests\[0\]\.alert_rule_test\[0\]\.alerts\[0\]\.severity: expected warning or critical, got "major"/);
  });
});

type Recorded = { method: string; url: string; headers: IncomingHttpHeaders; body: string };

const iso = (ms: number): string => new Date(ms).toISOString();
const ALERT = {
  ...{ id: "a1", rule: "disk-full", state: "firing", severity: "critical", labels: { host: "web-1", mountpoint: "/", alertname: "disk-full" } },
  ...{ summary: "/ on web-1 is 97.0% full", value: 0.97, activeSince: iso(NOW - 600_000), firingSince: iso(NOW - 300_000), resolvedAt: null },
  ...{ acknowledged: { by: "bob", at: iso(NOW - 60_000), comment: "on it" }, silencedBy: [] },
};

describe("vigil against the collector's API (stub server)", () => {
  const requests: Recorded[] = [];
  let server: Server;
  let url = "";
  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        const path = new URL(req.url ?? "/", "http://x").pathname;
        const send = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
        if (path === "/api/v1/alerts") return send(200, { alerts: [ALERT, { ...ALERT, id: "a2", state: "pending", severity: "warning", labels: { host: "web-2" }, acknowledged: null, firingSince: null }] });
        if (path === "/api/v1/alerts/a1/ack" || path === "/api/v1/alerts/a1/unack" || path === "/api/v1/alerts/a1/resolve") return send(200, { alert: ALERT });
        if (path === "/api/v1/silences" && req.method === "POST") return send(201, { silence: { id: "s1", ...(JSON.parse(body) as object) } });
        if (path === "/api/v1/silences") return send(200, { silences: [{ id: "s1", matchers: { host: "web-1" }, startsAt: iso(NOW), endsAt: iso(NOW + 7_200_000), comment: "resize", createdBy: "alice" }], invalid: [{ id: "s9", problem: "matchers.host: invalid regular expression" }] });
        if (path === "/api/v1/silences/s1" && req.method === "DELETE") return res.writeHead(204).end();
        if (path === "/api/v1/hosts") return send(200, { hosts: [{ name: "web-1", up: true, health: "healthy", lastSeen: iso(NOW - 5000), agentVersion: "0.1.0" }] });
        if (path === "/api/v1/query_range") return send(200, { series: [{ metric: "system.cpu.utilization", labels: { host: "web-1", state: "idle" }, points: [[NOW - 60_000, 0.5], [NOW, 0.25]] }] });
        return send(404, { error: { code: "VGL_ERR_NOT_FOUND", message: `alert ${path.split("/")[4]}: no such pending or firing alert` } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const last = (): Recorded => requests[requests.length - 1]!;

  test("alerts: GET with the filters and the API key; a table", async () => {
    const r = await vigil(["alerts", "--state", "firing", "--host", "web-1"], { VIGIL_URL: url, VIGIL_API_KEY: "k3y" });
    assert.equal(r.code, 0, r.err);
    assert.equal(last().method, "GET");
    assert.equal(last().url, "/api/v1/alerts?state=firing&host=web-1");
    assert.equal(last().headers.authorization, "Bearer k3y");
    const lines = r.out.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID +STATE +SEVERITY +RULE +HOST +SINCE +VALUE +ACK +SILENCED +SUMMARY$/);
    assert.equal(lines.length, 2, "the pending alert of web-2 is filtered out");
    assert.match(lines[1]!, /^a1 +firing +critical +disk-full +web-1 +5m ago +0\.97 +bob +- +\/ on web-1 is 97\.0% full$/);
    const all = await vigil(["alerts", "--url", url, "--json"]);
    assert.equal(last().headers.authorization, undefined);
    assert.equal((JSON.parse(all.out) as { alerts: unknown[] }).alerts.length, 2);
  });

  test("ack, unack, resolve: POST with {by, comment}; by defaults to $USER", async () => {
    let r = await vigil(["ack", "a1", "--comment", "looking", "--url", url], { USER: "alice" });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual([last().method, last().url, last().headers["content-type"], JSON.parse(last().body)], ["POST", "/api/v1/alerts/a1/ack", "application/json", { by: "alice", comment: "looking" }]);
    assert.equal(r.out, "alert a1 acknowledged by alice\n");
    r = await vigil(["unack", "a1", "--by", "carol", "--url", url], { USER: "alice" });
    assert.deepEqual([last().url, JSON.parse(last().body)], ["/api/v1/alerts/a1/unack", { by: "carol" }]);
    r = await vigil(["resolve", "a1", "--url", url], { USER: "alice" });
    assert.deepEqual([last().url, JSON.parse(last().body), r.code], ["/api/v1/alerts/a1/resolve", { by: "alice" }, 0]);
    const missing = await vigil(["ack", "zz", "--url", url], { USER: "alice" });
    assert.equal(missing.code, 1);
    assert.equal(missing.err, "vigil ack: POST /api/v1/alerts/zz/ack: 404 Not Found: VGL_ERR_NOT_FOUND: alert zz: no such pending or firing alert\n");
  });

  test("silence: POST {matchers, startsAt, endsAt, comment, createdBy}; silences: a table; unsilence: DELETE", async () => {
    const r = await vigil(["silence", "--match", "host=web-1", "--match", "alertname=~disk.*", "--for", "2h", "--comment", "resize", "--url", url], { USER: "alice" });
    assert.equal(r.code, 0, r.err);
    assert.equal(last().method, "POST");
    assert.equal(last().url, "/api/v1/silences");
    assert.deepEqual(JSON.parse(last().body), {
      matchers: { host: "web-1", alertname: "~disk.*" },
      startsAt: "2026-11-23T12:00:00.000Z",
      endsAt: "2026-11-23T14:00:00.000Z",
      comment: "resize",
      createdBy: "alice",
    });
    assert.match(r.out, /^silence s1 created: \{host="web-1", alertname="~disk\.\*"\} until 2026-11-23T14:00:00\.000Z \(2h\)\n$/);
    const list = await vigil(["silences", "--url", url]);
    assert.equal(last().method, "GET");
    assert.match(list.out, /^ID +STATE +MATCHERS +STARTS +ENDS +BY +COMMENT\ns1 +active +\{host="web-1"\} +0s ago +in 2h +alice +resize\n$/);
    assert.equal(list.err, "warning: stored silence s9 is invalid and ignored (matchers.host: invalid regular expression); expire it: vigil unsilence s9\n");
    const del = await vigil(["unsilence", "s1", "--url", url]);
    assert.equal(del.code, 0, del.err);
    assert.deepEqual([last().method, last().url, last().body, last().headers["content-type"]], ["DELETE", "/api/v1/silences/s1", "", undefined]);
    assert.equal(del.out, "silence s1 deleted\n");
  });

  test("hosts and query", async () => {
    const hosts = await vigil(["hosts", "--url", url]);
    assert.match(hosts.out, /^NAME +UP +HEALTH +LAST SEEN +AGENT\nweb-1 +up +healthy +5s ago +0\.1\.0\n$/);
    const q = await vigil(["query", "system.cpu.utilization", "--host", "web-1", "--match", "state=idle", "--start", "-30m", "--step", "1m", "--url", url]);
    assert.equal(q.code, 0, q.err);
    assert.equal(last().url, "/api/v1/query_range?metric=system.cpu.utilization&host=web-1&match%5Bstate%5D=idle&start=-30m&end=now&step=1m");
    assert.match(q.out, /system\.cpu\.utilization\{host="web-1", state="idle"\} +2 +0\.25 +0\.5 +0\.25 +0s ago/);
  });

  test("usage errors exit 2 and name what is wrong", async () => {
    const cases: [string[], RegExp][] = [
      [["ack"], /vigil ack: missing the alert ID/],
      [["alerts", "--state", "fire"], /vigil alerts: --state: expected firing, pending or resolved, got "fire"/],
      [["alerts", "--bogus"], /vigil alerts: unknown option '--bogus'/],
      [["silence", "--for", "2h"], /vigil silence: --match: at least one k=v matcher is required/],
      [["silence", "--match", "host", "--for", "2h"], /--match: expected k=v, got "host"/],
      [["silence", "--match", "host=web-1", "--for", "soon"], /--for: expected a duration/],
      [["hosts", "--url", "ftp://x"], /--url: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x"/],
      [["frobnicate"], /unknown command "frobnicate"/],
    ];
    for (const [argv, message] of cases) {
      const r = await vigil(argv, { USER: "alice" });
      assert.equal(r.code, 2, argv.join(" "));
      assert.match(r.err, message);
    }
    const help = await vigil(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /rules test +run unit tests/);
  });
});

test("an unreachable --url: a clear error naming the URL, exit 1", async () => {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  const r = await vigil(["hosts", "--url", `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.equal(r.out, "");
  assert.match(r.err, new RegExp(`^vigil hosts: cannot reach the collector at http://127\\.0\\.0\\.1:${port} \\(GET /api/v1/hosts\\): connect ECONNREFUSED .*; set --url or VIGIL_URL\\n$`));
});
