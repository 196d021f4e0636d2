import { VigilError } from "@vigil/shared";

/** The collector's error catalogue. Codes are stable: scripts and dashboards may match on them. */
export const CollectorErrors = {
  BAD_CONFIG: "VGL_ERR_BAD_CONFIG",
  BAD_PARAM: "VGL_ERR_BAD_PARAM",
  NOT_FOUND: "VGL_ERR_NOT_FOUND",
  CONFLICT: "VGL_ERR_CONFLICT",
  PROTOCOL: "VGL_ERR_PROTOCOL",
  UNAUTHORIZED_HOST: "VGL_ERR_UNAUTHORIZED_HOST",
  INVALID_FIELD: "VGL_ERR_INVALID_FIELD",
  INGEST_LIMIT: "VGL_ERR_INGEST_LIMIT",
  AGENT_IDENTITY: "VGL_ERR_AGENT_IDENTITY",
  HELLO_TIMEOUT: "VGL_ERR_HELLO_TIMEOUT",
  STORAGE_UNAVAILABLE: "VGL_ERR_STORAGE_UNAVAILABLE",
  /** The database cannot be reached at start (refused, DNS, timeout, authentication, missing database). */
  STORAGE_UNREACHABLE: "VGL_ERR_STORAGE_UNREACHABLE",
  WRITE_QUEUE_CLOSED: "VGL_ERR_WRITE_QUEUE_CLOSED",
  // HTTP API answers (README "Error codes" has the status of each).
  INTERNAL: "VGL_ERR_INTERNAL",
  BAD_REQUEST: "VGL_ERR_BAD_REQUEST",
  BAD_JSON: "VGL_ERR_BAD_JSON",
  BODY_TOO_LARGE: "VGL_ERR_BODY_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "VGL_ERR_UNSUPPORTED_MEDIA_TYPE",
  HEADERS_TOO_LARGE: "VGL_ERR_HEADERS_TOO_LARGE",
  REQUEST_TIMEOUT: "VGL_ERR_REQUEST_TIMEOUT",
  METHOD_NOT_ALLOWED: "VGL_ERR_METHOD_NOT_ALLOWED",
  QUERY_TIMEOUT: "VGL_ERR_QUERY_TIMEOUT",
  LIMIT_EXCEEDED: "VGL_ERR_LIMIT_EXCEEDED",
  BUSY: "VGL_ERR_BUSY",
  UNAUTHORIZED: "VGL_ERR_UNAUTHORIZED",
  FORBIDDEN: "VGL_ERR_FORBIDDEN",
} as const;

export type CollectorErrorCode = (typeof CollectorErrors)[keyof typeof CollectorErrors];

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
