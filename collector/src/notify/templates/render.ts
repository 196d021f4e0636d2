// Renders title/body templates with Handlebars (logic-less, prototype access off by default, HTML escaping built in).
// A private Handlebars environment keeps our helpers out of any other user of the library in the process.
import Handlebars from "handlebars";
import { z } from "zod";
import type { Notification } from "../types.js";
import { buildContext, formatAgo, formatTime, formatValue, listText, mapStrings, type TemplateContext } from "./context.js";
import { DEFAULT_TITLE } from "./defaults.js";

const hbs = Handlebars.create();
const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));
const rootOf = (opts: unknown): TemplateContext | undefined =>
  (opts as { data?: { root?: TemplateContext } } | undefined)?.data?.root;

// Helpers take the options hash last; `args.slice(0, -1)` drops it where a helper is variadic.
hbs.registerHelper("upper", (s: unknown) => str(s).toUpperCase());
hbs.registerHelper("lower", (s: unknown) => str(s).toLowerCase());
hbs.registerHelper("severity", (s: unknown) => str(s).toUpperCase());
hbs.registerHelper("value", (v: unknown) => formatValue(num(v)));
hbs.registerHelper("percent", (v: unknown) => `${(num(v) * 100).toFixed(1)}%`);
hbs.registerHelper("time", (ms: unknown) => formatTime(num(ms)));
hbs.registerHelper("ago", (ms: unknown, opts: unknown) => formatAgo(num(ms), rootOf(opts)?.createdAt ?? Date.now()));
hbs.registerHelper("label", (alert: unknown, name: unknown) => str((alert as { labels?: Record<string, string> } | null)?.labels?.[str(name)]));
hbs.registerHelper("list", (items: unknown, ...rest: unknown[]) =>
  listText(Array.isArray(items) ? items.map(str) : [], typeof rest[0] === "number" ? rest[0] : 3),
);
hbs.registerHelper("join", (items: unknown, sep: unknown) => (Array.isArray(items) ? items.map(str).join(typeof sep === "string" ? sep : ", ") : ""));
hbs.registerHelper("eq", (a: unknown, b: unknown) => a === b);
hbs.registerHelper("truncate", (s: unknown, n: unknown) => truncate(str(s), num(n)));

export type RenderMode = "text" | "html" | "slack";

type Compiled = (ctx: TemplateContext) => string;
const cache = new Map<string, Compiled>();

function compile(src: string, escapeHtml: boolean): Compiled {
  const key = `${escapeHtml ? "h" : "t"}\u0000${src}`;
  let fn = cache.get(key);
  if (!fn) {
    fn = hbs.compile<TemplateContext>(src, { noEscape: !escapeHtml });
    cache.set(key, fn);
  }
  return fn;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** Slack mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping). */
export const slackEscape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Renders one template; throws on template errors (unknown helper, bad syntax). */
export function renderTemplate(src: string, ctx: TemplateContext, mode: RenderMode): string {
  const data = mode === "slack" ? mapStrings(ctx, slackEscape) : ctx;
  const out = compile(src, mode === "html")(data);
  return out.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
}

export interface RenderedMessage {
  title: string;
  body: string;
  /** Custom templates that failed (the default was used instead): worth showing, never worth losing the page. */
  problems: string[];
}

export interface MessageTemplates {
  title?: string | undefined;
  body?: string | undefined;
  defaultBody: string;
  bodyMode: RenderMode;
}

function renderOr(custom: string | undefined, fallback: string, ctx: TemplateContext, mode: RenderMode, what: string, problems: string[]): string {
  if (custom !== undefined) {
    try {
      return renderTemplate(custom, ctx, mode);
    } catch (err) {
      problems.push(`${what} failed (${(err as Error).message.split("\n")[0]}); used the default`);
    }
  }
  return renderTemplate(fallback, ctx, mode);
}

/** Title (one line, no escaping) and body for a notification, falling back to the defaults on template errors. */
export function renderMessage(n: Notification, t: MessageTemplates, ctx: TemplateContext = buildContext(n)): RenderedMessage {
  const problems: string[] = [];
  const title = renderOr(t.title, DEFAULT_TITLE, ctx, "text", "title_template", problems).replace(/\s+/g, " ");
  const body = renderOr(t.body, t.defaultBody, ctx, t.bodyMode, "body_template", problems);
  return { title, body, problems };
}

const SAMPLE: Notification = {
  id: "sample",
  receiver: "sample",
  groupKey: "{}:{alertname=\"disk-full\"}",
  groupLabels: { alertname: "disk-full" },
  kind: "firing",
  tier: 0,
  url: "https://vigil.example/alerts/1",
  createdAt: Date.UTC(2025, 0, 1, 12),
  alerts: [
    {
      id: "1", rule: "disk-full", state: "firing", severity: "critical", labels: { host: "web-1", mountpoint: "/" },
      summary: "filesystem / is 97% full", value: 0.97, activeSince: Date.UTC(2025, 0, 1, 11), firingSince: Date.UTC(2025, 0, 1, 11, 5),
      resolvedAt: null, acknowledged: { by: "alice", at: Date.UTC(2025, 0, 1, 11, 30), comment: "on it" },
    },
  ],
};

/** Null when the template parses and renders a sample notification; otherwise the error, for the config report. */
export function checkTemplate(src: string): string | null {
  try {
    hbs.parse(src);
    renderTemplate(src, buildContext(SAMPLE), "text");
    return null;
  } catch (err) {
    return (err as Error).message.split("\n").slice(0, 3).join(" ");
  }
}

/** A template setting: validated (syntax and helpers) when the config loads, not when the first alert fires. */
export const zTemplate = z.string().superRefine((src, ctx) => {
  const problem = checkTemplate(src);
  if (problem !== null) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid template: ${problem}` });
});
