// Transport security of the HTTP API (README "Transport security"): helmet's headers on every answer (routes, errors,
// probes, /docs), HSTS and upgrade-insecure-requests only over HTTPS; CORS answers nobody unless origins are
// configured, then exactly those, preflights included; the http_tls and api.cors settings are checked at load.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { registerTransport } from "../src/api/transport.js";
import { parseCollectorCommand } from "../src/config.js";
import { testApi } from "./support/fake-api.js";

const DASH = "https://dash.example.com";

async function corsApi(origins: string[]) {
  return testApi(undefined, undefined, undefined, undefined, { tls: null, corsOrigins: origins });
}

describe("security headers", () => {
  test("every answer carries helmet's headers; over plain HTTP no HSTS and no upgrade-insecure-requests", async () => {
    const api = await testApi();
    try {
      for (const url of ["/api/v1/hosts", "/healthz", "/api/v1/nope", "/openapi.json", "/docs/"]) {
        const r = await api.app.inject({ method: "GET", url });
        assert.equal(r.headers["x-content-type-options"], "nosniff", url);
        assert.equal(r.headers["x-frame-options"], "SAMEORIGIN", url);
        assert.equal(r.headers["referrer-policy"], "no-referrer", url);
        const csp = String(r.headers["content-security-policy"]);
        assert.match(csp, /default-src 'self'/, url);
        assert.doesNotMatch(csp, /upgrade-insecure-requests/, url);
        assert.equal(r.headers["strict-transport-security"], undefined, url);
      }
    } finally {
      await api.app.close();
    }
  });

  test("over HTTPS browsers are told to keep to it", async () => {
    // The headers depend only on the setting, and inject does not go through TLS: a bare server with the transport
    // plugins shows them (test/api-transport.test.ts serves real HTTPS with the binary).
    const app = Fastify();
    registerTransport(app, { https: true, corsOrigins: [] });
    app.get("/x", async () => ({ ok: true }));
    try {
      const r = await app.inject({ method: "GET", url: "/x" });
      assert.equal(r.headers["strict-transport-security"], "max-age=15552000; includeSubDomains");
      assert.match(String(r.headers["content-security-policy"]), /upgrade-insecure-requests/);
    } finally {
      await app.close();
    }
  });
});

/** A browser's preflight for a POST with a key and a JSON body, from `origin`. */
const preflight = (api: Awaited<ReturnType<typeof testApi>>, origin: string) =>
  api.app.inject({
    method: "OPTIONS",
    url: "/api/v1/silences",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });

describe("CORS", () => {
  test("off by default: no Access-Control headers for any origin, and a preflight is a method not allowed", async () => {
    const api = await testApi();
    try {
      const r = await api.app.inject({ method: "GET", url: "/api/v1/hosts", headers: { origin: DASH } });
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers["access-control-allow-origin"], undefined);
      const pre = await preflight(api, DASH);
      assert.equal(pre.statusCode, 405, pre.body);
      assert.equal(pre.headers["access-control-allow-origin"], undefined);
    } finally {
      await api.app.close();
    }
  });

  test("configured origins, and only they, may call: simple calls and preflights with Authorization", async () => {
    const api = await corsApi([DASH]);
    try {
      const ok = await api.app.inject({ method: "GET", url: "/api/v1/hosts", headers: { origin: DASH } });
      assert.equal(ok.headers["access-control-allow-origin"], DASH);
      assert.match(String(ok.headers.vary), /Origin/);
      assert.match(String(ok.headers["access-control-expose-headers"]), /Retry-After/);

      const other = await api.app.inject({ method: "GET", url: "/api/v1/hosts", headers: { origin: "https://evil.example.net" } });
      assert.equal(other.headers["access-control-allow-origin"], undefined);

      const pre = await preflight(api, DASH);
      assert.equal(pre.statusCode, 204, pre.body);
      assert.equal(pre.headers["access-control-allow-origin"], DASH);
      assert.match(String(pre.headers["access-control-allow-methods"]), /POST/);
      assert.match(String(pre.headers["access-control-allow-headers"]), /Authorization/);
      assert.equal(pre.headers["access-control-max-age"], "600");

      const evilPre = await preflight(api, "https://evil.example.net");
      assert.equal(evilPre.headers["access-control-allow-origin"], undefined);
      // The preflight route is public and documented as such in the route table; no other route was opened.
      const publicRoutes = api.app.routeTable.filter((r) => r.access === "public").map((r) => `${r.method} ${r.url}`);
      assert.ok(publicRoutes.includes("OPTIONS *"), publicRoutes.join(", "));
    } finally {
      await api.app.close();
    }
  });
});

describe("transport settings", () => {
  const load = (env: NodeJS.ProcessEnv, args: string[] = []) => parseCollectorCommand(args, env).load();

  test("http_tls from flags and env; cert and key go together", () => {
    const c = load({}, ["--http-tls-cert", "/etc/vigil/api.pem", "--http-tls-key", "/etc/vigil/api.key"]);
    assert.deepEqual(c.httpTls, { cert: "/etc/vigil/api.pem", key: "/etc/vigil/api.key" });
    assert.deepEqual(load({ VIGIL_HTTP_TLS_CERT: "/a.pem", VIGIL_HTTP_TLS_KEY: "/a.key" }).httpTls, { cert: "/a.pem", key: "/a.key" });
    assert.deepEqual(load({}).httpTls, { cert: undefined, key: undefined });
    assert.throws(() => load({ VIGIL_HTTP_TLS_CERT: "/a.pem" }), /http_tls\.cert: http_tls\.cert and http_tls\.key go together/);
  });

  test("CORS origins are exact origins: no paths, no wildcards, no other schemes", () => {
    assert.deepEqual(load({ VIGIL_API_CORS_ORIGINS: "https://a.example.com,http://localhost:5173" }).api.corsOrigins, [
      "https://a.example.com",
      "http://localhost:5173",
    ]);
    assert.deepEqual(load({}).api.corsOrigins, []);
    for (const bad of ["*", "https://a.example.com/", "https://a.example.com/path", "ftp://a.example.com", "a.example.com"]) {
      assert.throws(() => load({ VIGIL_API_CORS_ORIGINS: bad }), /api\.cors\.origins\.0: expected an origin/, bad);
    }
  });
});
