// Layered settings: a YAML file, overridden by environment variables, overridden by flags; validated once
// with a zod schema, so every error names the key, where its value came from, and what is wrong.
import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { SharedErrors, VigilError } from "./errors.js";

export interface SettingSpec {
  /** Dotted key in the file, e.g. "spool.max_bytes". */
  key: string;
  /** Flag name without dashes. */
  flag?: string;
  env?: string;
  /**
   * How flag and env text is read: "list" is a repeatable flag or a comma-separated variable; everything else is
   * passed as text to the schema, whose value types (setting-values.ts) read text and YAML values alike.
   */
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
    throw new VigilError(SharedErrors.BAD_CONFIG, `${path}: cannot read config file: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : "";
    throw new VigilError(SharedErrors.BAD_CONFIG, `${path}: invalid YAML${where}: ${(err as Error).message.split("\n")[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new VigilError(SharedErrors.BAD_CONFIG, `${path}: expected a mapping of settings at the top level`);
  return doc as Obj;
}

/** A comma-separated variable's items; an empty one ("a,,b", a trailing comma) is a mistake, not nothing. */
function splitList(text: string): string[] | null {
  const items = text.split(",").map((x) => x.trim());
  return items.some((x) => x === "") ? null : items;
}

/** Where the value at `path` came from: its own key's source, or that of the nearest enclosing key (a list item). */
function originOf(origin: Map<string, string>, path: readonly (string | number)[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const o = origin.get(path.slice(0, n).join("."));
    if (o) return o;
  }
  return undefined;
}

export function loadSettings<S extends z.ZodTypeAny>(schema: S, specs: readonly SettingSpec[], input: SettingsInput): z.output<S> {
  const raw = input.file ? readFile(input.file, input.fileRequired ?? false) : {};
  const origin = new Map<string, string>();
  const problems: string[] = [];
  for (const s of specs) {
    const e = s.env ? input.env[s.env] : undefined;
    if (s.env && e !== undefined && e !== "") {
      const list = s.type === "list" ? splitList(e) : undefined;
      if (list === null) problems.push(`${s.key}: empty item in the comma-separated list ${JSON.stringify(e)} (env ${s.env})`);
      else setPath(raw, s.key, list ?? e);
      origin.set(s.key, `env ${s.env}`);
    }
    const f = s.flag ? input.flags[s.flag] : undefined;
    if (f !== undefined && !(Array.isArray(f) && f.length === 0)) {
      setPath(raw, s.key, f);
      origin.set(s.key, `--${s.flag}`);
    }
  }
  const r = schema.safeParse(raw);
  if (r.success && problems.length === 0) return r.data as z.output<S>;
  const lines = (r.success ? [] : r.error.issues).map((issue) => {
    const key = issue.path.join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `${key ? `${key}.` : ""}${k}: unknown setting${input.file ? ` (in ${input.file})` : ""}`).join("\n");
    }
    const from = originOf(origin, issue.path) ?? (input.file ? `in ${input.file}` : undefined);
    return `${key || "(top level)"}: ${issue.message}${from ? ` (${from})` : ""}`;
  });
  throw new VigilError(SharedErrors.BAD_CONFIG, [...problems, ...lines].join("\n"));
}
