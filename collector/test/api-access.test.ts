// Access control of the HTTP API against a running collector over real storage (PGlite, and PostgreSQL when
// DATABASE_URL is set): every registered route called with no key, a malformed, unknown, expired and revoked key, and
// a key of each role; the answer is 401 / 403 / allowed exactly as the role table says. The table is checked against
// the routes the server registers, so a new route missing from it fails here.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { systemClock } from "@vigil/shared";
import { ROLES, type Access, type Role } from "../src/api/access.js";
import { runApiKeyCommand } from "../src/cli/apikey-command.js";
import { parseCollectorCommand, type CollectorConfig } from "../src/config.js";
import { startCollector, type CollectorService } from "../src/service.js";
import { openStorage } from "../src/storage/open.js";
import { createTestDatabase, serverUrl, type TestDatabase } from "../../test/support/postgres.js";
import { testApi } from "./support/fake-api.js";

/** Who may call what: the README's role table. `metrics` is public unless `api.metrics_auth`. */
const ROLE_TABLE: Record<string, Access | "metrics"> = {
  "GET /healthz": "public",
  "GET /readyz": "public",
  "GET /metrics": "metrics",
  "GET /api/v1/hosts": "viewer",
  "GET /api/v1/hosts/:host/checks": "viewer",
  "GET /api/v1/series": "viewer",
  "GET /api/v1/query_range": "viewer",
  "GET /api/v1/storage": "viewer",
  "GET /api/v1/alerts": "viewer",
  "GET /api/v1/alerts/:id": "viewer",
  "GET /api/v1/alerts/:id/events": "viewer",
  "POST /api/v1/alerts/:id/ack": "operator",
  "POST /api/v1/alerts/:id/unack": "operator",
  "POST /api/v1/alerts/:id/resolve": "operator",
  "GET /api/v1/silences": "viewer",
  "POST /api/v1/silences": "operator",
  "DELETE /api/v1/silences/:id": "operator",
  "GET /api/v1/rules": "viewer",
  "PUT /api/v1/rules/:name": "admin",
  "DELETE /api/v1/rules/:name": "admin",
  "POST /api/v1/rules/dry-run": "viewer",
  "GET /api/v1/notifications": "viewer",
  "POST /api/v1/receivers/:name/test": "operator",
  "GET /api/v1/apikeys": "admin",
  "POST /api/v1/apikeys": "admin",
  "DELETE /api/v1/apikeys/:id": "admin",
  "GET /api/v1/tokens": "admin",
  "POST /api/v1/tokens": "admin",
  "DELETE /api/v1/tokens/:id": "admin",
  "GET /api/v1/audit": "admin",
};

/** Routes served by plugins (OpenAPI, its UI) are public and listed by prefix. */
const PUBLIC_PREFIXES = ["/openapi.json", "/docs"];

const quiet = pino({ level: "silent" });

interface Setup {
  svc: CollectorService;
  keys: Record<Role | "expired" | "revoked", string>;
  dispose(): Promise<void>;
}

function configFor(dir: string, databaseUrl: string | undefined, extra: string[] = []): CollectorConfig {
  // Rate limits out of reach: the table makes hundreds of calls from one address (api-rate-limit.test.ts tests limits).
  const env: NodeJS.ProcessEnv = { VIGIL_API_RATE_LIMIT_MAX: "1000000000", VIGIL_API_RATE_LIMIT_ANONYMOUS_MAX: "1000000000", ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  return parseCollectorCommand(["--data-dir", dir, "--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", ...extra], env).load();
}

/** Keys made before the collector starts, by the CLI (the admin's) and the store (an expired one cannot be made by hand). */
async function setUp(databaseUrl: string | undefined): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-access-"));
  const config = configFor(dir, databaseUrl);
  const lines: string[] = [];
  assert.equal(await runApiKeyCommand({ config, args: ["create"], flags: { name: "root", role: "admin" }, log: quiet, out: (l) => lines.push(l), note: () => {} }), 0);
  const keys = { admin: lines[0]! } as Setup["keys"];
  assert.match(keys.admin, /^vgk_[0-9a-f]{12}_[\w-]{43}$/);
  const storage = await openStorage(config, quiet, systemClock);
  try {
    const now = Date.now();
    keys.operator = (await storage.apiKeys.create({ name: "olga", role: "operator", expiresAtMs: now + 3_600_000, createdBy: "test" })).key;
    keys.viewer = (await storage.apiKeys.create({ name: "vic", role: "viewer", expiresAtMs: null, createdBy: "test" })).key;
    keys.expired = (await storage.apiKeys.create({ name: "old", role: "admin", expiresAtMs: now - 1000, createdBy: "test" })).key;
    keys.revoked = (await storage.apiKeys.create({ name: "gone", role: "admin", expiresAtMs: null, createdBy: "test" })).key;
    assert.equal(await storage.apiKeys.revoke("gone"), true);
  } finally {
    await storage.close();
  }
  const svc = await startCollector({ config, log: quiet });
  return { svc, keys, dispose: async () => (await svc.stop(), rmSync(dir, { recursive: true, force: true })) };
}

async function call(base: string, method: string, path: string, key?: string, body?: unknown): Promise<{ status: number; json: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = key.startsWith("Basic") ? key : `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json, headers: r.headers };
}

const errorMessage = (json: unknown) => (json as { error?: { message?: string } }).error?.message ?? "";
const errorCode = (json: unknown) => (json as { error?: { code?: string } }).error?.code ?? "";

test("the role table lists exactly the routes the server registers", async () => {
  const api = await testApi();
  await api.app.ready();
  const registered = api.app.routeTable.filter((r) => !PUBLIC_PREFIXES.some((p) => r.url.startsWith(p)));
  for (const r of api.app.routeTable) if (PUBLIC_PREFIXES.some((p) => r.url.startsWith(p))) assert.equal(r.access, "public", `${r.method} ${r.url}`);
  const names = registered.map((r) => `${r.method} ${r.url}`).sort();
  assert.deepEqual(names, Object.keys(ROLE_TABLE).sort(), "a route is missing from the role table (or the table names one that is gone)");
  for (const r of registered) assert.equal(r.access, ROLE_TABLE[`${r.method} ${r.url}`], `${r.method} ${r.url} declares ${r.access}`);
  await api.app.close();
});

test("README's role table says what the role table says", () => {
  const readme = readFileSync(join(import.meta.dirname, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Access control"), readme.indexOf("## Error codes"));
  const documented: Record<string, string> = {};
  for (const row of section.split("\n").filter((l) => /^\| `/.test(l))) {
    const [routes, role] = row.split(" | ") as [string, string];
    const access = role.startsWith("public;") ? "metrics" : role.replace(/ \|$/, "");
    for (const m of routes.matchAll(/`([A-Z]+ [^`]+)`/g)) documented[m[1]!] = access;
  }
  assert.deepEqual(documented, ROLE_TABLE);
});

for (const kind of ["pglite", "postgres"] as const) {
  describe(`API keys and roles on ${kind}`, { skip: kind === "postgres" && !serverUrl() ? "DATABASE_URL not set" : false }, () => {
    let s: Setup;
    let testDb: TestDatabase | undefined;
    before(async () => {
      testDb = kind === "postgres" ? await createTestDatabase() : undefined;
      s = await setUp(testDb?.url);
    });
    after(async () => {
      await s?.dispose();
      await testDb?.drop();
    });

    const callers: { who: string; key: (s: Setup) => string | undefined; role: Role | null; reason?: RegExp }[] = [
      { who: "no key", key: () => undefined, role: null, reason: /^no API key: send Authorization: Bearer KEY/ },
      { who: "a malformed header", key: () => "Basic dXNlcjpwYXNz", role: null, reason: /^the Authorization header is not Bearer/ },
      { who: "an unknown key", key: () => `vgk_0123456789ab_${"A".repeat(43)}`, role: null, reason: /^unknown API key \(key 0123456789ab\)$/ },
      { who: "an expired key", key: (x) => x.keys.expired, role: null, reason: /^the API key has expired \(key [0-9a-f]{12}, old\)$/ },
      { who: "a revoked key", key: (x) => x.keys.revoked, role: null, reason: /^the API key was revoked \(key [0-9a-f]{12}, gone\)$/ },
      ...ROLES.map((role) => ({ who: `a ${role} key`, key: (x: Setup) => x.keys[role], role })),
    ];

    for (const [route, access] of Object.entries(ROLE_TABLE)) {
      const [method, pattern] = route.split(" ") as [string, string];
      const path = pattern.replace(/:(\w+)/g, "x");
      const needed: Access = access === "metrics" ? "public" : access;
      test(`${route}: ${needed}`, async () => {
        for (const c of callers) {
          const r = await call(s.svc.httpUrl, method, path, c.key(s), method === "GET" ? undefined : {});
          const what = `${route} with ${c.who}: ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`;
          if (needed === "public") assert.ok(r.status !== 401 && r.status !== 403, what);
          else if (c.role === null) {
            assert.equal(r.status, 401, what);
            assert.equal(errorCode(r.json), "VGL_ERR_UNAUTHORIZED", what);
            assert.match(errorMessage(r.json), c.reason!, what);
            assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="vigil"');
          } else if (ROLES.indexOf(c.role) < ROLES.indexOf(needed)) {
            assert.equal(r.status, 403, what);
            assert.equal(errorCode(r.json), "VGL_ERR_FORBIDDEN", what);
            assert.match(errorMessage(r.json), new RegExp(`needs the ${needed} role; the key "\\w+" is an? ${c.role}$`), what);
          } else assert.ok(r.status !== 401 && r.status !== 403, what);
        }
      });
    }

    test("keys over the API: created once with their secret, listed without it, revoked at once", async () => {
      const made = await call(s.svc.httpUrl, "POST", "/api/v1/apikeys", s.keys.admin, { name: "ci-bot", role: "viewer", expires: "30d" });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      const key = (made.json as { key: string }).key;
      assert.equal((await call(s.svc.httpUrl, "GET", "/api/v1/hosts", key)).status, 200);
      const list = await call(s.svc.httpUrl, "GET", "/api/v1/apikeys", s.keys.admin);
      assert.ok(!JSON.stringify(list.json).includes(key.slice(-43)), "a listed key shows its secret");
      const bot = (list.json as { keys: { name: string; role: string; createdBy: string; expiresAt: string | null }[] }).keys.find((k) => k.name === "ci-bot");
      assert.deepEqual({ role: bot?.role, createdBy: bot?.createdBy, expires: bot?.expiresAt !== null }, { role: "viewer", createdBy: "root", expires: true });
      const dup = await call(s.svc.httpUrl, "POST", "/api/v1/apikeys", s.keys.admin, { name: "ci-bot", role: "admin" });
      assert.equal(dup.status, 409);
      const bad = await call(s.svc.httpUrl, "POST", "/api/v1/apikeys", s.keys.admin, { name: "x", role: "root" });
      assert.equal(bad.status, 400);
      assert.match(errorMessage(bad.json), /^role: expected one of viewer, operator, admin/);
      assert.equal((await call(s.svc.httpUrl, "DELETE", "/api/v1/apikeys/ci-bot", s.keys.admin)).status, 200);
      const after = await call(s.svc.httpUrl, "GET", "/api/v1/hosts", key);
      assert.equal(after.status, 401, "a key revoked through the API still works");
      assert.match(errorMessage(after.json), /was revoked/);
    });

    test("the audit log holds each mutating call and each refusal, with the key's name and the address", async () => {
      const made = await call(s.svc.httpUrl, "POST", "/api/v1/silences", s.keys.operator, { matchers: { host: "web-1" }, duration: "1h", createdBy: "someone else" });
      assert.equal(made.status, 201, JSON.stringify(made.json));
      const silenceId = (made.json as { id: string }).id;
      await call(s.svc.httpUrl, "GET", "/api/v1/hosts", `vgk_aaaaaaaaaaaa_${"B".repeat(43)}`);
      await call(s.svc.httpUrl, "DELETE", "/api/v1/silences/x", s.keys.viewer);
      let entries: { actor: string | null; role: string | null; action: string; target: string | null; address: string; outcome: string; status: number; detail: string | null }[] = [];
      for (let i = 0; i < 50; i++) {
        const page = await call(s.svc.httpUrl, "GET", "/api/v1/audit?limit=1000", s.keys.admin);
        assert.equal(page.status, 200);
        entries = (page.json as { entries: typeof entries }).entries;
        if (entries.some((e) => e.action === "DELETE /api/v1/silences/:id" && e.actor === "vic")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const created = entries.find((e) => e.action === "POST /api/v1/silences" && e.status === 201);
      assert.deepEqual(created && { actor: created.actor, role: created.role, target: created.target, outcome: created.outcome }, { actor: "olga", role: "operator", target: silenceId, outcome: "ok" });
      assert.match(created!.address, /^(::ffff:)?127\.0\.0\.1$|^::1$/);
      const unknown = entries.find((e) => e.action === "GET /api/v1/hosts" && e.status === 401 && e.detail?.includes("aaaaaaaaaaaa"));
      assert.ok(unknown, "a refused key is not in the audit log");
      assert.equal(unknown.outcome, "denied");
      assert.equal(unknown.actor, null);
      const forbidden = entries.find((e) => e.action === "DELETE /api/v1/silences/:id" && e.actor === "vic");
      assert.deepEqual(forbidden && { status: forbidden.status, outcome: forbidden.outcome, target: forbidden.target }, { status: 403, outcome: "denied", target: "x" });
      const silences = await call(s.svc.httpUrl, "GET", "/api/v1/silences", s.keys.viewer);
      const mine = (silences.json as { silences: { id: string; createdBy: string }[] }).silences.find((x) => x.id === silenceId);
      assert.equal(mine?.createdBy, "olga", "who silenced is the key's name, not what the client wrote");
    });

    test("/metrics counts refusals by reason", async () => {
      const r = await call(s.svc.httpUrl, "GET", "/metrics");
      assert.equal(r.status, 200);
      for (const reason of ["missing", "malformed", "unknown", "expired", "revoked", "forbidden"]) {
        const m = new RegExp(`^vigil_collector_api_auth_failures_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(String(r.json));
        assert.ok(m && Number(m[1]) > 0, `no ${reason} failures counted`);
      }
    });
  });
}

describe("default access", () => {
  const dirs: string[] = [];
  const services: CollectorService[] = [];
  after(async () => {
    for (const svc of services) await svc.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const start = async (extra: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-access-"));
    dirs.push(dir);
    const svc = await startCollector({ config: configFor(dir, undefined, extra), log: quiet });
    services.push(svc);
    return svc;
  };

  test("on loopback with no key, open; the first key created ends it at once", async () => {
    const svc = await start([]);
    assert.equal((await call(svc.httpUrl, "GET", "/api/v1/hosts")).status, 200);
    const made = await call(svc.httpUrl, "POST", "/api/v1/apikeys", undefined, { name: "first-admin", role: "admin" });
    assert.equal(made.status, 201);
    assert.equal((await call(svc.httpUrl, "GET", "/api/v1/hosts")).status, 401);
    assert.equal((await call(svc.httpUrl, "GET", "/api/v1/hosts", (made.json as { key: string }).key)).status, 200);
  });

  test("on any other address keys are required, even before one exists; /healthz stays open", async () => {
    const svc = await start(["--http-listen", "0.0.0.0:0"]);
    const r = await call(svc.httpUrl, "GET", "/api/v1/hosts");
    assert.equal(r.status, 401);
    assert.match(errorMessage(r.json), /^no API key/);
    assert.equal((await call(svc.httpUrl, "GET", "/healthz")).status, 200);
  });

  test("--insecure-no-auth opens the API on any address", async () => {
    const svc = await start(["--http-listen", "0.0.0.0:0", "--insecure-no-auth"]);
    assert.equal((await call(svc.httpUrl, "GET", "/api/v1/hosts")).status, 200);
  });

  test("api.metrics_auth: /metrics needs a viewer key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-access-"));
    dirs.push(dir);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "collector.yaml"), "api:\n  metrics_auth: true\n");
    const config = configFor(dir, undefined, ["--config", join(dir, "collector.yaml")]);
    const lines: string[] = [];
    await runApiKeyCommand({ config, args: ["create"], flags: { name: "prom", role: "viewer" }, log: quiet, out: (l) => lines.push(l), note: () => {} });
    const svc = await startCollector({ config, log: quiet });
    services.push(svc);
    assert.equal((await call(svc.httpUrl, "GET", "/metrics")).status, 401);
    const ok = await call(svc.httpUrl, "GET", "/metrics", lines[0]);
    assert.equal(ok.status, 200);
    assert.match(String(ok.json), /vigil_collector_api_auth_failures_total\{reason="missing"\} 1/);
  });
});
