// The collector's HTTP API as the CLI sees it: base URL, optional API key, errors that say what went wrong where.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { CliError, isRecord, UsageError } from "./io.js";

export const DEFAULT_URL = "http://127.0.0.1:4780";
const TIMEOUT_MS = 15_000;

export type Query = ReadonlyArray<readonly [string, string]>;

/** The base URL from `--url`, else VIGIL_URL, else the default; errors name where a bad value came from. */
export function baseUrl(flag: string | undefined, env: Record<string, string | undefined>): URL {
  const [raw, source] = flag !== undefined ? [flag, "--url"] : env.VIGIL_URL ? [env.VIGIL_URL, "VIGIL_URL"] : [DEFAULT_URL, "default"];
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${source}: expected a URL like ${DEFAULT_URL}, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`${source}: expected an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  return url;
}

interface RawResponse {
  status: number;
  statusText: string;
  body: string;
}

/** One request over node:http(s) (not fetch: fetch refuses some ports, e.g. 6000 or 10080, that a collector may use). */
function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on("error", reject);
    req.end(body);
  });
}

function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Dual-stack connects fail with an AggregateError whose message is empty; its code says why.
  return err.message !== "" ? err.message : ((err as NodeJS.ErrnoException).code ?? err.name);
}

export class ApiClient {
  constructor(
    readonly base: URL,
    private readonly apiKey: string | undefined,
  ) {}

  url(path: string, query: Query = []): URL {
    const u = new URL(this.base.href);
    u.pathname = u.pathname.replace(/\/+$/, "") + path;
    u.search = "";
    for (const [k, v] of query) u.searchParams.append(k, v);
    return u;
  }

  /** Sends a request and returns the parsed JSON body (null for an empty one); non-2xx answers throw CliError. */
  async request(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<unknown> {
    const url = this.url(path, opts.query);
    const what = `${method} ${url.pathname}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    // No content-type without a body: servers refuse an empty JSON body.
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    let res: RawResponse;
    try {
      res = await send(url, method, headers, opts.body === undefined ? undefined : JSON.stringify(opts.body));
    } catch (err) {
      throw new CliError(`cannot reach the collector at ${this.base.origin} (${what}): ${causeOf(err)}; set --url or VIGIL_URL`);
    }
    const raw = res.body;
    let body: unknown = null;
    let parsed = raw.trim() === "";
    if (!parsed) {
      try {
        body = JSON.parse(raw) as unknown;
        parsed = true;
      } catch {
        /* reported below */
      }
    }
    if (res.status < 200 || res.status > 299) {
      const e = isRecord(body) && isRecord(body.error) ? body.error : null;
      const detail = e ? [e.code, e.message].filter((x) => typeof x === "string" && x !== "").join(": ") : raw.trim().slice(0, 200);
      const hint = res.status === 401 || res.status === 403 ? (this.apiKey ? " (check VIGIL_API_KEY)" : " (set VIGIL_API_KEY)") : "";
      throw new CliError(`${what}: ${res.status} ${res.statusText}${detail ? `: ${detail}` : ""}${hint}`);
    }
    if (!parsed) throw new CliError(`${what}: expected a JSON answer, got ${JSON.stringify(raw.slice(0, 80))}`);
    return body;
  }
}

/** `body[key]` when it is a list, else a CliError naming the endpoint and the expected shape. */
export function listField(body: unknown, key: string, what: string): unknown[] {
  const v = isRecord(body) ? body[key] : undefined;
  if (!Array.isArray(v)) throw new CliError(`${what}: unexpected answer, expected { "${key}": [...] }`);
  return v;
}
