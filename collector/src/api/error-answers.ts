// Every error the HTTP API gives has one shape, {"error":{"code","message"}}, with a stable code and the right status:
// the routes' own errors, fastify's (body, content type, JSON, validation, unknown routes), and what Node's HTTP
// parser refuses before fastify sees a request (oversized headers, malformed requests). An unexpected error is logged
// once with its detail and answered with a generic message: no stack trace or database message reaches a client.
import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CollectorError, CollectorErrors, httpStatusOf, type CollectorErrorCode } from "../errors.js";

/** Seconds a client told to come back (429) should wait. */
const RETRY_AFTER_S = 2;
/** Most characters of a request's path quoted back in a 404. */
const PATH_QUOTE = 200;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

interface Answer {
  code: CollectorErrorCode;
  message: string;
}

/** Fastify's own errors, by their code: what we answer instead (its messages are fine, its codes are not ours). */
function fastifyAnswer(err: FastifyError, req: FastifyRequest, bodyLimit: number): Answer | null {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      // The route's own limit where it sets one (README "HTTP API"), else the server's.
      return { code: CollectorErrors.BODY_TOO_LARGE, message: `body: larger than the limit of ${req.routeOptions.bodyLimit ?? bodyLimit} bytes` };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { code: CollectorErrors.UNSUPPORTED_MEDIA_TYPE, message: `content-type: ${JSON.stringify(req.headers["content-type"] ?? "")} is not accepted; send application/json` };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { code: CollectorErrors.BAD_JSON, message: "body: not valid JSON" };
    case "FST_ERR_VALIDATION": {
      // Route schemas (zod issues, as fastify-type-provider-zod reports them): name the field ("limit",
      // "matchers.host"), else the part of the request ("body").
      const v = err.validation?.[0];
      const field = v?.instancePath.slice(1).replaceAll("/", ".") || (err.validationContext ?? "request");
      return { code: CollectorErrors.BAD_PARAM, message: `${field}: ${v?.message ?? err.message}` };
    }
    case "FST_ERR_MAX_PARAM_LENGTH":
      return { code: CollectorErrors.BAD_PARAM, message: "path: a path parameter is too long" };
  }
  // Any other 4xx fastify raises (bad URL encoding, content length…) is the client's, and its message says why.
  const status = err.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) return { code: CollectorErrors.BAD_REQUEST, message: `request: ${err.message}` };
  return null;
}

// The database is unreachable or going away, not the request wrong: Node's socket errors, and PostgreSQL's connection
// exceptions (SQLSTATE class 08) and shutdowns (57P01–57P03). The caller may retry; the detail goes to the log.
const UNREACHABLE_NET = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]);
function storageUnreachable(err: { code?: unknown; message?: unknown }): boolean {
  const code = typeof err.code === "string" ? err.code : "";
  if (UNREACHABLE_NET.has(code) || code.startsWith("08") || /^57P0[123]$/.test(code)) return true;
  return typeof err.message === "string" && /^Connection terminated/.test(err.message);
}

function send(reply: FastifyReply, a: Answer): FastifyReply {
  if (a.code === CollectorErrors.BUSY) reply.header("retry-after", String(RETRY_AFTER_S));
  return reply
    .status(httpStatusOf(a.code) ?? 500)
    .type("application/json; charset=utf-8")
    .send({ error: { code: a.code, message: a.message } });
}

/** The answer to anything a route or fastify throws; unexpected errors are logged here, once. */
export function answerError(err: FastifyError, req: FastifyRequest, reply: FastifyReply, bodyLimit: number): FastifyReply {
  if (err instanceof CollectorError && httpStatusOf(err.code) !== undefined && err.code !== CollectorErrors.INTERNAL) {
    return send(reply, { code: err.code as CollectorErrorCode, message: err.message });
  }
  const known = err instanceof CollectorError ? null : fastifyAnswer(err, req, bodyLimit);
  if (known) return send(reply, known);
  req.log.error({ err }, "request failed");
  if (storageUnreachable(err)) {
    return send(reply, { code: CollectorErrors.STORAGE_UNAVAILABLE, message: `storage: the database is unreachable (request ${req.id}); retry shortly` });
  }
  return send(reply, { code: CollectorErrors.INTERNAL, message: `internal error (request ${req.id}); the collector's log has the details` });
}

/** Unknown routes: 405 with Allow when the path exists for other methods, else 404. */
export function answerNotFound(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = req.url.split("?")[0]!;
  const allowed = METHODS.filter((m) => m !== req.method && app.findRoute({ method: m, url: path }) !== null);
  const quoted = JSON.stringify(path.length > PATH_QUOTE ? `${path.slice(0, PATH_QUOTE)}…` : path);
  if (allowed.length > 0) {
    reply.header("allow", allowed.join(", "));
    return send(reply, { code: CollectorErrors.METHOD_NOT_ALLOWED, message: `method: ${req.method} is not allowed on ${quoted}; use ${allowed.join(" or ")}` });
  }
  return send(reply, { code: CollectorErrors.NOT_FOUND, message: `path: no API route ${req.method} ${quoted}` });
}

/**
 * What Node's HTTP parser refuses (fastify's clientErrorHandler): written straight to the socket, which is then
 * closed, as Node itself would. Not logged: these are malformed connections, not requests.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const a: Answer =
    err.code === "HPE_HEADER_OVERFLOW"
      ? { code: CollectorErrors.HEADERS_TOO_LARGE, message: `headers: larger than the limit of ${maxHeaderSize} bytes (URL included)` }
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? { code: CollectorErrors.REQUEST_TIMEOUT, message: "request: not received in time" }
        : { code: CollectorErrors.BAD_REQUEST, message: "request: not valid HTTP/1.1" };
  const status = httpStatusOf(a.code) ?? 400;
  const body = JSON.stringify({ error: { code: a.code, message: a.message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
