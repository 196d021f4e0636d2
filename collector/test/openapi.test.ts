// The OpenAPI document is the API's contract: it must be a valid OpenAPI 3 document, list every route the server has
// (with its method), say who may call each, and be served with Swagger UI without any network.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { OpenAPIV3 } from "openapi-types";
import { DOCS_PREFIX, OPENAPI_PATH } from "../src/api/openapi.js";
import { testApi, type TestApi } from "./support/fake-api.js";

interface Route {
  method: string;
  url: string;
  access: string | undefined;
}

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

describe("OpenAPI document", () => {
  let api: TestApi;
  let doc: OpenAPIV3.Document;
  const routes: Route[] = [];
  before(async () => {
    api = await testApi();
    // The routes are added when the server gets ready, after this hook.
    api.app.addHook("onRoute", (r) => {
      for (const method of [r.method].flat()) routes.push({ method, url: r.url, access: r.config?.access });
    });
    await api.app.ready();
    const r = await api.app.inject({ method: "GET", url: OPENAPI_PATH });
    assert.equal(r.statusCode, 200, r.body);
    doc = JSON.parse(r.body) as OpenAPIV3.Document;
  });
  after(() => api.app.close());

  const operation = (url: string, method: string): OpenAPIV3.OperationObject | undefined => {
    const path = url.replace(/:(\w+)/g, "{$1}");
    return (doc.paths[path] as Record<string, OpenAPIV3.OperationObject> | undefined)?.[method.toLowerCase()];
  };
  // fastify's HEAD twins of GET routes, and Swagger UI's page and files, are not part of the API.
  const apiRoutes = () => routes.filter((r) => r.method !== "HEAD" && !r.url.startsWith(DOCS_PREFIX));

  test("is a valid OpenAPI 3 document", async () => {
    assert.match(doc.openapi, /^3\./);
    await SwaggerParser.validate(structuredClone(doc) as OpenAPIV3.Document);
  });

  test("lists every route the server has, with its method", () => {
    assert.ok(apiRoutes().length >= 20, `only ${apiRoutes().length} routes seen`);
    const missing = apiRoutes().filter((r) => !operation(r.url, r.method));
    assert.deepEqual(missing, [], "routes the document does not list");
    const listed = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item?.[m]).map((m) => `${m.toUpperCase()} ${path}`));
    assert.equal(listed.length, apiRoutes().length, `the document lists routes the server does not have: ${listed.join(", ")}`);
  });

  test("describes each route: a summary, a tag, its role, and the error answers", () => {
    for (const r of apiRoutes()) {
      const op = operation(r.url, r.method)!;
      const what = `${r.method} ${r.url}`;
      assert.ok(op.summary, `${what}: no summary`);
      assert.ok(op.tags?.length, `${what}: no tag`);
      assert.match(op.description ?? "", /^Role: /, what);
      for (const status of ["4XX", "5XX"]) {
        const answer = op.responses[status] as OpenAPIV3.ResponseObject | undefined;
        const schema = answer?.content?.["application/json"]?.schema as OpenAPIV3.SchemaObject | undefined;
        assert.deepEqual(schema?.required, ["error"], `${what}: ${status} is not the error shape`);
      }
    }
  });

  test("marks every route that takes a key with bearerAuth and names its role", () => {
    assert.deepEqual(doc.components?.securitySchemes?.bearerAuth, { type: "http", scheme: "bearer", description: "An API key" });
    for (const r of apiRoutes()) {
      const op = operation(r.url, r.method)!;
      const what = `${r.method} ${r.url}`;
      if (r.access === "public") {
        assert.equal(op.security, undefined, what);
      } else if (r.access === "metrics") {
        assert.deepEqual(op.security, [{}, { bearerAuth: [] }], what);
      } else {
        assert.deepEqual(op.security, [{ bearerAuth: [] }], what);
        assert.ok(op.description?.startsWith(`Role: ${r.access}.`), `${what}: ${op.description}`);
      }
    }
  });

  test("declares the parameters routes read", () => {
    const names = (op: OpenAPIV3.OperationObject | undefined) => (op?.parameters as OpenAPIV3.ParameterObject[] | undefined)?.map((p) => `${p.in}:${p.name}`) ?? [];
    assert.deepEqual(names(operation("/api/v1/hosts", "GET")), ["query:limit"]);
    assert.deepEqual(names(operation("/api/v1/hosts/:host/checks", "GET")), ["path:host"]);
    assert.ok(names(operation("/api/v1/query_range", "GET")).includes("query:metric"));
    const limit = (operation("/api/v1/hosts", "GET")!.parameters as OpenAPIV3.ParameterObject[])[0]!.schema as OpenAPIV3.SchemaObject;
    assert.deepEqual({ type: limit.type, minimum: limit.minimum, maximum: limit.maximum, default: limit.default }, { type: "integer", minimum: 1, maximum: 10000, default: 1000 });
    assert.ok(operation("/api/v1/silences", "POST")?.requestBody, "POST /api/v1/silences: no body");
  });

  test("Swagger UI is served from the collector, with its own files", async () => {
    const page = await api.app.inject({ method: "GET", url: `${DOCS_PREFIX}/` });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    const scripts = [...page.body.matchAll(/src="([^"]+)"/g)].map((m) => m[1]!);
    assert.ok(scripts.length > 0, page.body);
    for (const src of scripts) {
      assert.doesNotMatch(src, /^(https?:)?\/\//, "Swagger UI must not load files from elsewhere");
      const file = await api.app.inject({ method: "GET", url: new URL(src, `http://x${DOCS_PREFIX}/`).pathname });
      assert.equal(file.statusCode, 200, src);
    }
  });
});
