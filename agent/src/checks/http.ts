// `http` check: one request (node:http/https, no redirects followed, no connection reuse), judged by status code,
// optionally body content, and for HTTPS the certificate's remaining validity.
import type http from "node:http";
import type https from "node:https";
import { TLSSocket } from "node:tls";
import { zBoolean, zDuration } from "@vigil/shared";
import { z } from "zod";
import { abortReason, describeConnectError, elapsedMs, errorCode, errorText, slowWarning, verdict } from "./tcp.js";
import type { Check, CheckCommon, CheckMetric, CheckOutcome } from "./types.js";

const MAX_BODY_BYTES = 1024 * 1024;
const DAY_MS = 86_400_000;

const statusSpec = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^(?:[1-5]xx|[1-5]\d\d(?:-[1-5]\d\d)?)$/, 'expected a status code, a class like "2xx" or a range like "200-299"'),
]);

function isRegex(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

export const httpCheckSchema = z
  .object({
    kind: z.literal("http"),
    url: z.string().url().refine((u) => /^https?:\/\//i.test(u), "expected an http:// or https:// URL"),
    method: z.string().regex(/^[A-Za-z]+$/, "expected an HTTP method like GET").transform((m) => m.toUpperCase()).default("GET"),
    /** Codes (200), classes ("2xx") or ranges ("200-299"); one value or a list. */
    expect_status: z.union([statusSpec, z.array(statusSpec).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])).default(["200-399"]),
    body_contains: z.string().min(1).optional(),
    body_regex: z.string().min(1).refine(isRegex, "not a valid regular expression").optional(),
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "not a valid header name"), z.string()).default({}),
    tls_skip_verify: zBoolean.default(false),
    cert_expiry_warning: zDuration(0, 3650 * DAY_MS).default("14d"),
  })
  .strict();

export type HttpCheckConfig = z.output<typeof httpCheckSchema>;

/** "2xx" → [200, 299], "200-299" → [200, 299], 204 → [204, 204]. */
function statusRange(spec: number | string): [number, number] {
  if (typeof spec === "number") return [spec, spec];
  if (spec.endsWith("xx")) return [Number(spec[0]) * 100, Number(spec[0]) * 100 + 99];
  const [lo, hi = lo] = spec.split("-").map(Number);
  return [lo ?? 0, hi ?? 0];
}

interface Response {
  status: number;
  statusText: string;
  body: string;
  /** The peer certificate's notAfter (ms since epoch), HTTPS only. */
  certValidTo?: number;
}

interface HttpModules {
  http: typeof http;
  https: typeof https;
}

/** node:http and node:https, loaded on first use: agents without an http check never pay for node:https. */
let httpModules: Promise<HttpModules> | undefined;
function loadHttpModules(): Promise<HttpModules> {
  httpModules ??= Promise.all([import("node:http"), import("node:https")]).then(([h, s]) => ({ http: h.default, https: s.default }));
  return httpModules;
}

function request({ http, https }: HttpModules, cfg: HttpCheckConfig, timeoutMs: number, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined, res?: Response): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      req.destroy();
      if (err) reject(err);
      else if (res) resolve(res);
    };
    const onAbort = (): void => settle(abortReason(signal));
    const timer = setTimeout(() => settle(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const url = new URL(cfg.url);
    const options: https.RequestOptions = { method: cfg.method, headers: cfg.headers, agent: false, rejectUnauthorized: !cfg.tls_skip_verify };
    const onResponse = (res: http.IncomingMessage): void => {
      const socket = res.socket;
      let certValidTo: number | undefined;
      if (socket instanceof TLSSocket) {
        const validTo = Date.parse(socket.getPeerCertificate().valid_to);
        if (Number.isFinite(validTo)) certValidTo = validTo;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        const body = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString("utf8");
        settle(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", body, certValidTo });
      };
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) done();
      });
      res.on("end", done);
      res.on("error", (err) => settle(err));
      res.on("close", () => settle(new Error("connection closed before the response was complete")));
    };
    const req = url.protocol === "https:" ? https.request(url, options, onResponse) : http.request(url, options, onResponse);
    req.on("error", (err) => settle(err));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    req.end();
  });
}

/** TLS verification failures (untrusted, expired, wrong name), by OpenSSL/Node error code. */
function isCertError(err: unknown): boolean {
  const code = errorCode(err) ?? "";
  return /^(?:ERR_TLS_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_|INVALID_CA|HOSTNAME_MISMATCH)/.test(code);
}

const days = (ms: number): string => `${Number((ms / DAY_MS).toFixed(ms < DAY_MS ? 2 : 1))} days`;

export function createHttpCheck(common: CheckCommon, cfg: HttpCheckConfig): Check {
  const ranges = cfg.expect_status.map(statusRange);
  const expected = cfg.expect_status.join(", ");
  const bodyRegex = cfg.body_regex === undefined ? undefined : new RegExp(cfg.body_regex);
  const url = new URL(cfg.url);
  const target = `${url.hostname}:${url.port || (url.protocol === "https:" ? 443 : 80)}`;
  return {
    common,
    async run(signal: AbortSignal): Promise<CheckOutcome> {
      const modules = await loadHttpModules(); // before the clock starts: loading is not the target's latency
      const start = performance.now();
      let res: Response;
      try {
        res = await request(modules, cfg, common.timeoutMs, signal);
      } catch (err) {
        if (signal.aborted) throw abortReason(signal);
        if (isCertError(err)) return { status: "unhealthy", message: `certificate verification failed: ${errorText(err)} (${target})` };
        const code = errorCode(err);
        const message = code === "ENOTFOUND" || code === "ECONNRESET" ? describeConnectError(err, target, common.timeoutMs) : errorText(err);
        return { status: "unhealthy", message };
      }
      const ms = elapsedMs(start);
      const metrics: CheckMetric[] = [
        { metric: "vigil.check.http.latency", value: ms / 1000 },
        { metric: "vigil.check.http.status_code", value: res.status },
      ];
      let certWarning: string | undefined;
      if (res.certValidTo !== undefined) {
        const left = res.certValidTo - Date.now();
        metrics.push({ metric: "vigil.check.http.cert_expiry_days", value: Math.round((left / DAY_MS) * 1000) / 1000 });
        if (left <= 0) return { status: "unhealthy", message: `certificate expired ${days(-left)} ago`, metrics };
        if (left < cfg.cert_expiry_warning) certWarning = `certificate expires in ${days(left)} (warning under ${days(cfg.cert_expiry_warning)})`;
      }
      if (!ranges.some(([lo, hi]) => res.status >= lo && res.status <= hi)) {
        return { status: "unhealthy", message: `expected status ${expected}, got ${res.status}`, metrics };
      }
      if (cfg.body_contains !== undefined && !res.body.includes(cfg.body_contains)) {
        return { status: "unhealthy", message: `body does not contain ${JSON.stringify(cfg.body_contains)}`, metrics };
      }
      if (bodyRegex && !bodyRegex.test(res.body)) {
        return { status: "unhealthy", message: `body does not match /${cfg.body_regex}/`, metrics };
      }
      const summary = `${res.status}${res.statusText ? ` ${res.statusText}` : ""} in ${ms} ms`;
      return verdict(summary, [certWarning, slowWarning(common, ms)], metrics);
    },
  };
}
