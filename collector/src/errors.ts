import { codesOf, SHARED_ERROR_CATALOGUE, VigilError, type ErrorCatalogue } from "@vigil/shared";

/**
 * The collector's error catalogue: each code, what it means, and the status the HTTP API (`http`) or the ingest stream
 * (`grpc`) answers it with. Codes are stable: scripts and dashboards may match on them. README's "Error codes" table
 * agrees with it (test/error-codes.test.ts).
 */
export const COLLECTOR_ERROR_CATALOGUE = {
  // The collector's settings are read by the shared loader, whose code this is.
  BAD_CONFIG: SHARED_ERROR_CATALOGUE.BAD_CONFIG,
  BAD_PARAM: { code: "VGL_ERR_BAD_PARAM", http: 400, meaning: "a query, path or body parameter is wrong" },
  BAD_REQUEST: { code: "VGL_ERR_BAD_REQUEST", http: 400, meaning: "the request is malformed: not HTTP, bad URL encoding" },
  BAD_JSON: { code: "VGL_ERR_BAD_JSON", http: 400, meaning: "the body is not valid JSON" },
  NOT_FOUND: { code: "VGL_ERR_NOT_FOUND", http: 404, meaning: "no such route, host, alert, silence, receiver or API rule" },
  METHOD_NOT_ALLOWED: { code: "VGL_ERR_METHOD_NOT_ALLOWED", http: 405, meaning: "the path exists for other methods, listed in Allow" },
  REQUEST_TIMEOUT: { code: "VGL_ERR_REQUEST_TIMEOUT", http: 408, meaning: "the request was not received in time" },
  CONFLICT: { code: "VGL_ERR_CONFLICT", http: 409, meaning: "the change does not fit the current state, e.g. acknowledging a resolved alert" },
  BODY_TOO_LARGE: { code: "VGL_ERR_BODY_TOO_LARGE", http: 413, meaning: "the body is over the route's limit" },
  UNSUPPORTED_MEDIA_TYPE: { code: "VGL_ERR_UNSUPPORTED_MEDIA_TYPE", http: 415, meaning: "the body is not application/json" },
  LIMIT_EXCEEDED: { code: "VGL_ERR_LIMIT_EXCEEDED", http: 422, meaning: "the request is over a documented bound, named in the message" },
  RATE_LIMITED: { code: "VGL_ERR_RATE_LIMITED", http: 429, meaning: "more calls than api.rate_limit allows, per API key (or per address without one); retry after Retry-After seconds" },
  BUSY: { code: "VGL_ERR_BUSY", http: 429, meaning: "too many expensive requests at once; retry after Retry-After seconds" },
  HEADERS_TOO_LARGE: { code: "VGL_ERR_HEADERS_TOO_LARGE", http: 431, meaning: "the request's headers and URL are over 16 KiB" },
  INTERNAL: { code: "VGL_ERR_INTERNAL", http: 500, meaning: "an unexpected failure, logged with the request id" },
  STORAGE_UNAVAILABLE: { code: "VGL_ERR_STORAGE_UNAVAILABLE", http: 503, grpc: "UNAVAILABLE", meaning: "the database failed or is unreachable; nothing changed" },
  QUERY_TIMEOUT: { code: "VGL_ERR_QUERY_TIMEOUT", http: 503, meaning: "a query ran past api.query_timeout and was cancelled" },
  ALERT_HOLDER_UNAVAILABLE: { code: "VGL_ERR_ALERT_HOLDER_UNAVAILABLE", http: 503, meaning: "no collector of the cluster that evaluates the alert answered in time; retry" },
  WRITE_QUEUE_CLOSED: { code: "VGL_ERR_WRITE_QUEUE_CLOSED", http: 503, grpc: "UNAVAILABLE", meaning: "the collector is shutting down; the agent reconnects and resends" },
  PROTOCOL: { code: "VGL_ERR_PROTOCOL", grpc: "INVALID_ARGUMENT", meaning: "the agent's stream is malformed" },
  UNAUTHORIZED_HOST: { code: "VGL_ERR_UNAUTHORIZED_HOST", grpc: "PERMISSION_DENIED", meaning: "the token belongs to another host" },
  INVALID_FIELD: { code: "VGL_ERR_INVALID_FIELD", grpc: "INVALID_ARGUMENT", meaning: "a Hello or batch field is out of bounds" },
  INGEST_LIMIT: { code: "VGL_ERR_INGEST_LIMIT", grpc: "INVALID_ARGUMENT", meaning: "a stream or host would pass its series limit" },
  AGENT_IDENTITY: { code: "VGL_ERR_AGENT_IDENTITY", grpc: "PERMISSION_DENIED", meaning: "another agent identity owns the host" },
  HELLO_TIMEOUT: { code: "VGL_ERR_HELLO_TIMEOUT", grpc: "DEADLINE_EXCEEDED", meaning: "no Hello within ingest.hello_timeout" },
  /** The database cannot be reached at start (refused, DNS, timeout, authentication, missing database). */
  UNAUTHORIZED: { code: "VGL_ERR_UNAUTHORIZED", http: 401, meaning: "no API key, or one that is malformed, unknown, expired or revoked; the message says which" },
  FORBIDDEN: { code: "VGL_ERR_FORBIDDEN", http: 403, meaning: "the API key's role is too low for the call; the message names the role needed" },
  STORAGE_UNREACHABLE: { code: "VGL_ERR_STORAGE_UNREACHABLE", meaning: "the database cannot be reached at start" },
} as const satisfies ErrorCatalogue;

export const CollectorErrors = codesOf(COLLECTOR_ERROR_CATALOGUE);

export type CollectorErrorCode = (typeof CollectorErrors)[keyof typeof CollectorErrors];

const HTTP_STATUS: ReadonlyMap<string, number> = new Map(
  Object.values(COLLECTOR_ERROR_CATALOGUE).flatMap((e): [string, number][] => ("http" in e ? [[e.code, e.http]] : [])),
);

/** The HTTP status the API answers a code with; undefined for codes the API never answers. */
export function httpStatusOf(code: string): number | undefined {
  return HTTP_STATUS.get(code);
}

export class CollectorError extends VigilError {
  constructor(code: CollectorErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "CollectorError";
  }
}

/** A request parameter is wrong; the API answers 400 naming it. */
export function badParam(param: string, problem: string): CollectorError {
  return new CollectorError(CollectorErrors.BAD_PARAM, `${param}: ${problem}`);
}
