// The API's contract as an OpenAPI 3 document, generated from the routes' schemas (@fastify/swagger, zod schemas
// converted by fastify-type-provider-zod) and served at /openapi.json, with Swagger UI at /docs (its files are in
// its package: it works offline). Each route is described from its own options: its access becomes the bearerAuth
// requirement and a "Role:" line, and the error answers every route may give are added from the error catalogue.
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, RouteOptions } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { z } from "zod";
import { VIGIL_VERSION } from "@vigil/shared";
import { COLLECTOR_ERROR_CATALOGUE } from "../errors.js";
import { errorBody } from "./view-schemas.js";

export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PREFIX = "/docs";

/** The error answers of one status class, listing the codes the catalogue gives it. */
function errorAnswers(cls: 4 | 5): z.ZodTypeAny {
  const codes = Object.values(COLLECTOR_ERROR_CATALOGUE).flatMap((e) => ("http" in e && Math.floor(e.http / 100) === cls ? [`${e.code} (${e.http}): ${e.meaning}`] : []));
  return errorBody.describe(`{"error":{"code","message"}}, the message naming the parameter or part at fault. ${codes.join("; ")}.`);
}
const ERRORS = { "4xx": errorAnswers(4), "5xx": errorAnswers(5) };

/** Adds what the document says about a route from its options: who may call it, and its error answers. */
function documentRoute(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema || schema.hide) return;
  const access = route.config?.access;
  const role =
    access === "metrics" ? "Role: viewer when `metrics_auth: true`, else open." : access && access !== "public" ? `Role: ${access}.` : "Role: none (public).";
  schema.description = schema.description ? `${role} ${schema.description}` : role;
  // /metrics takes a key only when configured to: either requirement satisfies it.
  if (access === "metrics") schema.security = [{}, { bearerAuth: [] }];
  else if (access !== "public") schema.security = [{ bearerAuth: [] }];
  schema.response = { ...ERRORS, ...(schema.response ?? {}) };
}

/**
 * Registers the document and Swagger UI; call before the routes are added (and before the check that every route
 * declares its access, which Swagger UI's own routes, made public here, must pass). Routes added in a plugin
 * registered after this are in the document.
 */
export function registerOpenApi(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) route.config = { ...route.config, access: "public" };
    else documentRoute(route);
  });
  void app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "Vigil collector HTTP API", version: VIGIL_VERSION, description: "Every error answer is {\"error\":{\"code\",\"message\"}} (README \"Error codes\")." },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "An API key" } } },
    },
    transform: jsonSchemaTransform,
  });
  void app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  // In a plugin, so that it is added once the document's plugin is loaded, and is in the document itself.
  void app.register(async (scope) => {
    scope.get(
      OPENAPI_PATH,
      { config: { access: "public" }, schema: { summary: "This API's OpenAPI 3 document", tags: ["docs"], response: { 200: z.record(z.string(), z.unknown()) } } },
      async () => app.swagger(),
    );
  });
}
