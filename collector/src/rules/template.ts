// Summary templates: plain `{{name}}` substitution, compiled once per rule.
//   {{host}} {{value}} {{severity}} {{rule}} {{metric}} {{labels.NAME}}
//   checks: {{check}} {{status}} {{message}}; absence: {{last_seen}} (RFC 3339)
//   `{{value | percent}}` renders 0.934 as "93.4%".
import type { Labels } from "@vigil/shared";

export interface TemplateContext {
  rule: string;
  metric: string;
  value: number;
  severity: string;
  labels: Labels;
  /** status, message, last_seen. */
  extra: Readonly<Record<string, string>>;
}

export type CompiledTemplate = (ctx: TemplateContext) => string;

const VARS = new Set(["host", "value", "severity", "rule", "metric", "check", "status", "message", "last_seen"]);
const FILTERS = new Set(["percent"]);
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*(?:\|\s*([a-z_]+)\s*)?\}\}/g;

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/** The first unknown variable or filter, or null. */
export function templateProblem(text: string): string | null {
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!VARS.has(name) && !name.startsWith("labels.")) return `unknown variable {{${name}}} (known: ${[...VARS].join(", ")}, labels.NAME)`;
    if (m[2] !== undefined && !FILTERS.has(m[2])) return `unknown filter "${m[2]}" in {{${name} | ${m[2]}}} (known: percent)`;
  }
  return null;
}

function lookup(ctx: TemplateContext, name: string, filter: string | undefined): string {
  if (name === "value") return filter === "percent" ? `${(ctx.value * 100).toFixed(1)}%` : formatValue(ctx.value);
  if (name.startsWith("labels.")) return ctx.labels[name.slice(7)] ?? "";
  switch (name) {
    case "host":
      return ctx.labels.host ?? "";
    case "check":
      return ctx.labels.check ?? "";
    case "severity":
      return ctx.severity;
    case "rule":
      return ctx.rule;
    case "metric":
      return ctx.metric;
    default:
      return ctx.extra[name] ?? "";
  }
}

export function compileTemplate(text: string): CompiledTemplate {
  const parts: (string | { name: string; filter: string | undefined })[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    parts.push({ name: m[1]!, filter: m[2] });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return (ctx) => {
    let out = "";
    for (const p of parts) out += typeof p === "string" ? p : lookup(ctx, p.name, p.filter);
    return out;
  };
}
