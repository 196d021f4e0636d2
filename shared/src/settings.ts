// Layered settings: a YAML file, overridden by environment variables, overridden by flags; validated once
// with a zod schema, so every error names the key, where its value came from, and what is wrong.
import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { parseDuration, formatDuration } from "./duration.js";
import { VigilError } from "./errors.js";

export const SETTINGS_ERROR = "VGL_ERR_BAD_CONFIG";

export interface SettingSpec {
  /** Dotted key in the file, e.g. "spool.max_bytes". */
  key: string;
  /** Flag name without dashes. */
  flag?: string;
  env?: string;
  /** How flag and env text is read: "list" is a repeatable flag or a comma-separated variable. */
  type: "string" | "boolean" | "list";
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface SettingsInput {
  /** The file's path; a missing file is an error only when `fileRequired`. */
  file?: string;
  fileRequired?: boolean;
  env: NodeJS.ProcessEnv;
  flags: FlagValues;
}

type Obj = Record<string, unknown>;

function setPath(obj: Obj, key: string, value: unknown): void {
  const parts = key.split(".");
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    const next = cur[p];
    if (typeof next !== "object" || next === null || Array.isArray(next)) cur[p] = {};
    cur = cur[p] as Obj;
  }
  cur[parts[parts.length - 1]!] = value;
}

function readFile(path: string, required: boolean): Obj {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new VigilError(SETTINGS_ERROR, `${path}: cannot read config file: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : "";
    throw new VigilError(SETTINGS_ERROR, `${path}: invalid YAML${where}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new VigilError(SETTINGS_ERROR, `${path}: expected a mapping of settings at the top level`);
  return doc as Obj;
}

const TRUE = new Set(["1", "true", "yes", "on"]);

export function loadSettings<S extends z.ZodTypeAny>(schema: S, specs: readonly SettingSpec[], input: SettingsInput): z.output<S> {
  const raw = input.file ? readFile(input.file, input.fileRequired ?? false) : {};
  const origin = new Map<string, string>();
  for (const s of specs) {
    const e = s.env ? input.env[s.env] : undefined;
    if (s.env && e !== undefined && e !== "") {
      setPath(raw, s.key, s.type === "list" ? e.split(",").map((x) => x.trim()).filter(Boolean) : s.type === "boolean" ? TRUE.has(e.toLowerCase()) : e);
      origin.set(s.key, `env ${s.env}`);
    }
    const f = s.flag ? input.flags[s.flag] : undefined;
    if (f !== undefined && !(Array.isArray(f) && f.length === 0)) {
      setPath(raw, s.key, f);
      origin.set(s.key, `--${s.flag}`);
    }
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data as z.output<S>;
  const lines = r.error.issues.map((issue) => {
    const key = issue.path.join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `${key ? `${key}.` : ""}${k}: unknown setting${input.file ? ` (in ${input.file})` : ""}`).join("\n");
    }
    const from = origin.get(key) ?? (input.file ? `in ${input.file}` : undefined);
    return `${key || "(top level)"}: ${issue.message}${from ? ` (${from})` : ""}`;
  });
  throw new VigilError(SETTINGS_ERROR, lines.join("\n"));
}

/** A duration setting ("10s", "1m30s"), bounded. */
export function zDuration(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const text = typeof v === "number" ? `${v}s` : v;
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a duration like "10s" or "1m30s", got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be between ${formatDuration(min)} and ${formatDuration(max)}, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return ms;
  });
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A byte size ("256MiB", "1G", or a number of bytes), bounded. */
export function zBytes(min: number, max: number) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(v));
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected a size like "256MiB" or "1G", got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    const n = Math.round(Number(m[1]) * unit);
    if (n < min || n > max) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be between ${min} and ${max} bytes, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** HOST:PORT. */
export const zHostPort = z.string().regex(/^(?:\[[^\]]+\]|[^:\s]*):\d{1,5}$/, 'expected HOST:PORT, e.g. "127.0.0.1:4770"');

export const zLogLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

/** `k=v` list (flags, env) or a mapping (file) → labels. */
export const zLabels = z
  .union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])), z.array(z.string())])
  .transform((v, ctx) => {
    const out: Record<string, string> = {};
    if (Array.isArray(v)) {
      for (const item of v) {
        const i = item.indexOf("=");
        if (i <= 0) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected k=v, got ${JSON.stringify(item)}` });
          return z.NEVER;
        }
        out[item.slice(0, i)] = item.slice(i + 1);
      }
    } else for (const [k, x] of Object.entries(v)) out[k] = String(x);
    return out;
  });
