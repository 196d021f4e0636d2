// Every error answer of the HTTP API has the {"error":{"code","message"}} shape with a catalogued code and the right
// status: the routes' own, fastify's, and Node's HTTP parser's. Unexpected errors are logged once and answered with a
// generic message; client errors are not logged at all.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { CollectorErrors } from "../src/errors.js";
import { wholeNumber } from "../src/api/request-schemas.js";
import { testApi, type TestApi } from "./support/fake-api.js";

const CODES = new Set<string>(Object.values(CollectorErrors));

function errorOf(body: string): { code: string; message: string } {
  const e = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
  assert.ok(e && typeof e.code === "string" && typeof e.message === "string", `not the error shape: ${body}`);
  assert.ok(CODES.has(e.code), `${e.code} is not in the catalogue`);
  return { code: e.code, message: e.message };
}

describe("HTTP error answers", () => {
  let api: TestApi;
  before(async () => {
    api = await testApi();
    // A route with a schema, as routes may have: its validation errors must look like ours.
    api.app.get("/test/schema", { config: { access: "public" }, schema: { querystring: z.object({ n: wholeNumber(10, 1, "n") }) } }, async () => ({ ok: true }));
    await api.app.ready();
  });
  after(() => api.app.close());

  const cases: { what: string; method: "GET" | "POST" | "PUT" | "DELETE"; url: string; body?: string; type?: string; status: number; code: string; message?: RegExp }[] = [
    { what: "unknown route", method: "GET", url: "/api/v1/nope", status: 404, code: "VGL_ERR_NOT_FOUND", message: /^path: no API route GET "\/api\/v1\/nope"$/ },
    { what: "wrong method", method: "DELETE", url: "/api/v1/hosts", status: 405, code: "VGL_ERR_METHOD_NOT_ALLOWED", message: /^method: DELETE is not allowed/ },
    { what: "body too large (a silence)", method: "POST", url: "/api/v1/silences", body: JSON.stringify({ c: "x".repeat(20_000) }), type: "application/json", status: 413, code: "VGL_ERR_BODY_TOO_LARGE", message: /^body: larger than the limit of 16384 bytes$/ },
    { what: "body too large (a rule)", method: "PUT", url: "/api/v1/rules/r", body: JSON.stringify({ c: "x".repeat(300_000) }), type: "application/json", status: 413, code: "VGL_ERR_BODY_TOO_LARGE", message: /^body: larger than the limit of 262144 bytes$/ },
    { what: "body too large (the server's limit)", method: "POST", url: "/api/v1/receivers/r/test", body: JSON.stringify({ c: "x".repeat(1_100_000) }), type: "application/json", status: 413, code: "VGL_ERR_BODY_TOO_LARGE", message: /^body: larger than the limit of 1048576 bytes$/ },
    { what: "unsupported content type", method: "POST", url: "/api/v1/silences", body: "a=b", type: "text/plain", status: 415, code: "VGL_ERR_UNSUPPORTED_MEDIA_TYPE", message: /^content-type: "text\/plain"/ },
    { what: "malformed JSON", method: "POST", url: "/api/v1/silences", body: '{"matchers":', type: "application/json", status: 400, code: "VGL_ERR_BAD_JSON", message: /^body: not valid JSON$/ },
    { what: "empty JSON body", method: "POST", url: "/api/v1/silences", body: "", type: "application/json", status: 400, code: "VGL_ERR_BAD_JSON" },
    { what: "schema validation", method: "GET", url: "/test/schema?n=x", status: 400, code: "VGL_ERR_BAD_PARAM", message: /^n: expected a whole number from 1 to 10, got "x"$/ },
    { what: "a body that is not an object", method: "POST", url: "/api/v1/silences", body: "[1]", type: "application/json", status: 400, code: "VGL_ERR_BAD_PARAM", message: /^body: expected a JSON object$/ },
    { what: "a body field of the wrong type", method: "POST", url: "/api/v1/alerts/a/ack", body: '{"by":5}', type: "application/json", status: 400, code: "VGL_ERR_BAD_PARAM", message: /^by: expected a string$/ },
    { what: "NUL in a query parameter", method: "GET", url: "/api/v1/series?host=a%00b", status: 400, code: "VGL_ERR_BAD_PARAM", message: /^host: contains the control character U\+0000$/ },
    { what: "escape in a path parameter", method: "GET", url: "/api/v1/hosts/a%1Bb/checks", status: 400, code: "VGL_ERR_BAD_PARAM", message: /^host: contains the control character U\+001B$/ },
    { what: "control character in a parameter name", method: "GET", url: "/api/v1/series?a%0Ab=1", status: 400, code: "VGL_ERR_BAD_PARAM", message: /^"a\\nb": not a valid parameter name$/ },
    { what: "a parameter value too long", method: "GET", url: `/api/v1/series?host=${"a".repeat(3000)}`, status: 400, code: "VGL_ERR_BAD_PARAM", message: /^host: longer than 2048 characters$/ },
    { what: "a path parameter too long", method: "GET", url: `/api/v1/hosts/${"a".repeat(300)}/checks`, status: 400, code: "VGL_ERR_BAD_PARAM" },
    { what: "bad URL encoding in the path", method: "GET", url: "/api/v1/hosts/%E0%A4%A/checks", status: 400, code: "VGL_ERR_BAD_REQUEST" },
  ];
  for (const c of cases) {
    test(`${c.what}: ${c.status} ${c.code}`, async () => {
      const before = api.logs.length;
      const r = await api.app.inject({ method: c.method, url: c.url, payload: c.body, headers: c.type ? { "content-type": c.type } : {} });
      assert.equal(r.statusCode, c.status, r.body);
      assert.match(String(r.headers["content-type"]), /^application\/json/);
      const e = errorOf(r.body);
      assert.equal(e.code, c.code);
      if (c.message) assert.match(e.message, c.message);
      assert.deepEqual(api.logs.slice(before), [], "a client error is not logged");
    });
  }

  test("405 names the allowed methods in Allow", async () => {
    const r = await api.app.inject({ method: "PUT", url: "/api/v1/silences" });
    assert.equal(r.statusCode, 405);
    assert.equal(r.headers.allow, "GET, POST");
  });

  test("an unexpected error is logged once with its detail and answered 500 with a generic message", async () => {
    api.reader.failListHosts = Object.assign(new Error('relation "hosts" does not exist'), { code: "42P01" });
    const before = api.logs.length;
    try {
      const r = await api.app.inject({ method: "GET", url: "/api/v1/hosts" });
      assert.equal(r.statusCode, 500);
      const e = errorOf(r.body);
      assert.equal(e.code, "VGL_ERR_INTERNAL");
      assert.match(e.message, /^internal error \(request [\w-]+\); the collector's log has the details$/);
      assert.doesNotMatch(r.body, /relation|42P01|\bat /);
      const lines = api.logs.slice(before);
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.msg, "request failed");
      assert.match(JSON.stringify(lines[0]!.err), /relation \\"hosts\\" does not exist/);
    } finally {
      api.reader.failListHosts = null;
    }
  });

  test("a database that cannot be reached answers 503 VGL_ERR_STORAGE_UNAVAILABLE, its detail only in the log", async () => {
    for (const cause of [
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.5:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      new Error("Connection terminated unexpectedly"),
    ]) {
      api.reader.failListHosts = cause;
      const before = api.logs.length;
      try {
        const r = await api.app.inject({ method: "GET", url: "/api/v1/hosts" });
        assert.equal(r.statusCode, 503, cause.message);
        const e = errorOf(r.body);
        assert.equal(e.code, "VGL_ERR_STORAGE_UNAVAILABLE");
        assert.doesNotMatch(r.body, /10\.0\.0\.5|administrator|terminated/);
        assert.equal(api.logs.slice(before).length, 1, "logged once");
      } finally {
        api.reader.failListHosts = null;
      }
    }
  });
});

describe("errors Node's HTTP parser raises before fastify", () => {
  let api: TestApi;
  let port: number;
  before(async () => {
    api = await testApi();
    await api.app.listen({ host: "127.0.0.1", port: 0 });
    port = (api.app.server.address() as AddressInfo).port;
  });
  after(() => api.app.close());

  const raw = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const sock = connect(port, "127.0.0.1");
      let buf = "";
      sock.on("data", (d) => (buf += d.toString()));
      sock.on("error", (err) => (buf ? resolve(buf) : reject(err)));
      sock.on("close", () => resolve(buf));
      sock.write(request);
    });

  for (const [what, request, status, code] of [
    ["headers too large", `GET /api/v1/hosts HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`, 431, "VGL_ERR_HEADERS_TOO_LARGE"],
    ["a URL too long", `GET /api/v1/series?host=${"a".repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, "VGL_ERR_HEADERS_TOO_LARGE"],
    ["a malformed request line", "GARBAGE\r\n\r\n", 400, "VGL_ERR_BAD_REQUEST"],
  ] as const) {
    test(`${what}: ${status} ${code}`, async () => {
      const answer = await raw(request);
      const m = /^HTTP\/1\.1 (\d+) [^\r]*\r\n[^]*?\r\n\r\n([^]*)$/.exec(answer);
      assert.ok(m, answer);
      assert.equal(Number(m[1]), status);
      assert.match(answer, /\r\ncontent-type: application\/json/i);
      assert.equal(errorOf(m[2]!).code, code);
    });
  }

  test("the server still answers after them", async () => {
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(r.status, 200);
  });
});
