// What every receiver shares: config building blocks, secrets read at send time, and the HTTP POST whose
// answer is classified into delivered / retry / give_up the same way for every HTTP receiver.
import { readFile } from "node:fs/promises";
import { VIGIL_VERSION } from "@vigil/shared";
import { z } from "zod";
import { zTemplate } from "../templates/index.js";
import type { DeliveryResult } from "../types.js";

export const zReceiverName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "expected a name of letters, digits, '_', '.', '-'");

export const zHttpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), "expected an http:// or https:// URL");

export const zHeaders = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "invalid header name"), z.string());

/** The fields every receiver accepts besides its own. */
export const baseFields = { name: zReceiverName, title_template: zTemplate.optional(), body_template: zTemplate.optional() };

/** Where a secret comes from: inline (where allowed), a file (read at every send, so rotation needs no restart), or an env variable. */
export interface SecretSource {
  inline?: string | undefined;
  file?: string | undefined;
  env?: string | undefined;
}

/** Config-time check: at most one source (exactly one when required); `field` is the YAML key stem. */
export function checkSecret(ctx: z.RefinementCtx, field: string, src: SecretSource, required: boolean, inline: boolean): void {
  const keys = [inline ? field : null, `${field}_file`, `${field}_env`].filter((k): k is string => k !== null);
  const given = [src.inline, src.file, src.env].filter((v) => v !== undefined).length;
  if (given > 1) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `set only one of ${keys.join(", ")}` });
  if (given === 0 && required) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [field], message: `required: set one of ${keys.join(", ")}` });
}

export type SecretRead = { ok: true; value: string | undefined } | { ok: false; reason: string };

/** Reads a secret; a missing file/variable is a configuration problem (give_up), and the value never appears in a reason. */
export async function readSecret(field: string, src: SecretSource): Promise<SecretRead> {
  if (src.inline !== undefined) return { ok: true, value: src.inline };
  if (src.file !== undefined) {
    try {
      const value = (await readFile(src.file, "utf8")).replace(/[\r\n]+$/, "");
      return value === "" ? { ok: false, reason: `${field}_file ${src.file} is empty` } : { ok: true, value };
    } catch (err) {
      return { ok: false, reason: `cannot read ${field}_file ${src.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
  }
  if (src.env !== undefined) {
    const value = process.env[src.env];
    return value ? { ok: true, value } : { ok: false, reason: `${field}_env: environment variable ${src.env} is not set` };
  }
  return { ok: true, value: undefined };
}

/** Retry-After as seconds or an HTTP date → milliseconds from `now`. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const h = header.trim();
  if (/^\d+(\.\d+)?$/.test(h)) return Math.round(Number(h) * 1000);
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function abortText(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r.name === "TimeoutError" ? "timed out" : `aborted (${r.message})`;
  return r === undefined ? "aborted" : `aborted (${String(r)})`;
}

/** "fetch failed: connect ECONNREFUSED 127.0.0.1:9": undici hides the useful part in `cause`. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}

const SNIPPET = 300;

/** Maps an HTTP answer onto the delivery outcome: retry what can succeed later, give up on what cannot. */
export function classifyHttp(status: number, statusText: string, body: string, retryAfter: string | null, location: string | null): DeliveryResult {
  const snippet = body.length > SNIPPET ? `${body.slice(0, SNIPPET)}…` : body;
  const what = `HTTP ${status}${statusText ? ` ${statusText}` : ""}${snippet.trim() ? `: ${snippet.trim()}` : ""}`;
  if (status >= 200 && status < 300) return { outcome: "delivered", detail: `HTTP ${status}` };
  // 408 is the server giving up on a slow request: as transient as a 5xx.
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return retryAfterMs === undefined ? { outcome: "retry", reason: what } : { outcome: "retry", reason: what, retryAfterMs };
  }
  // Redirects are not followed: a POST turned into a GET would silently lose the notification.
  if (status >= 300 && status < 400) return { outcome: "give_up", reason: `${what} (redirect${location ? ` to ${location}` : ""} not followed: fix the URL)` };
  if (status >= 400) return { outcome: "give_up", reason: what };
  return { outcome: "retry", reason: what };
}

/**
 * fetch refuses URLs with credentials (and names the URL in its error): `https://user:pass@host/` is sent as the
 * URL without them and an Authorization: Basic header, as curl and Go's HTTP client do.
 */
export function splitCredentials(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const basic = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`, "utf8").toString("base64");
  u.username = "";
  u.password = "";
  return { url: u.toString(), authorization: `Basic ${basic}` };
}

/** POSTs JSON; never throws: network errors and aborts (timeouts come from the signal) are `retry`. */
export async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<DeliveryResult> {
  if (!URL.canParse(url)) return { outcome: "give_up", reason: "invalid URL (check the receiver's url setting)" };
  if (signal.aborted) return { outcome: "retry", reason: abortText(signal) };
  const target = splitCredentials(url);
  // A configured Authorization header wins over the URL's credentials (two would be merged into one invalid value).
  const ownAuth = Object.keys(headers).some((h) => h.toLowerCase() === "authorization");
  try {
    const res = await fetch(target.url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": `Vigil/${VIGIL_VERSION}`,
        ...(target.authorization && !ownAuth ? { authorization: target.authorization } : {}),
        ...headers,
      },
      signal,
      redirect: "manual",
    });
    const text = await res.text();
    return classifyHttp(res.status, res.statusText, text, res.headers.get("retry-after"), res.headers.get("location"));
  } catch (err) {
    if (signal.aborted) return { outcome: "retry", reason: abortText(signal) };
    return { outcome: "retry", reason: `network error: ${errorText(err)}` };
  }
}
