// Slack through an incoming webhook: one Block Kit message per notification (firing, acknowledged, resolved alike).
import { z } from "zod";
import { buildContext, DEFAULT_SLACK_BODY, renderMessage, slackEscape, truncate, type TemplateContext } from "../templates/index.js";
import type { Notification, Receiver } from "../types.js";
import { baseFields, checkSecret, postJson, readSecret, zHttpUrl } from "./common.js";

export const slackConfigObject = z
  .object({
    ...baseFields,
    kind: z.literal("slack"),
    /** The webhook URL carries its token, so it can also come from a file or the environment. */
    webhook_url: zHttpUrl.optional(),
    webhook_url_file: z.string().min(1).optional(),
    webhook_url_env: z.string().min(1).optional(),
  })
  .strict();

export type SlackConfig = z.output<typeof slackConfigObject>;

export function checkSlackConfig(cfg: SlackConfig, ctx: z.RefinementCtx): void {
  checkSecret(ctx, "webhook_url", { inline: cfg.webhook_url, file: cfg.webhook_url_file, env: cfg.webhook_url_env }, true, true);
}

export const slackConfigSchema = slackConfigObject.superRefine(checkSlackConfig);

// Block Kit limits (https://api.slack.com/reference/block-kit/blocks): header 150 chars, section text 3000, field 2000.
type TextObject = { type: "plain_text" | "mrkdwn"; text: string; emoji?: boolean };
type Block =
  | { type: "header"; text: TextObject }
  | { type: "section"; text?: TextObject; fields?: TextObject[] }
  | { type: "context"; elements: TextObject[] }
  | { type: "actions"; elements: { type: "button"; text: TextObject; url: string; action_id: string }[] };

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** `<!date^…>` shows the time in each reader's own zone; the fallback text is UTC. */
function slackDate(ms: number, fallback: string): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${slackEscape(fallback)}>`;
}

function fields(ctx: TemplateContext): TextObject[] {
  const first = ctx.alerts[0];
  const field = (label: string, value: string): TextObject => ({ type: "mrkdwn", text: truncate(`*${label}*\n${value}`, 2000) });
  if (!first) return [];
  const since = Math.min(...ctx.alerts.map((a) => a.since));
  const value = ctx.single ? first.valueText : ctx.alerts.map((a) => a.valueText).slice(0, 5).join(", ") + (ctx.count > 5 ? ", …" : "");
  return [
    field("Host", slackEscape(ctx.hostsText || "—")),
    field("Value", slackEscape(value)),
    field("Since", slackDate(since, first.sinceText)),
    field("Severity", ctx.kind === "resolved" ? "resolved" : ctx.severity),
  ];
}

export function buildSlackMessage(n: Notification, cfg: Pick<SlackConfig, "title_template" | "body_template">): SlackMessage {
  const ctx = buildContext(n);
  const msg = renderMessage(n, { title: cfg.title_template, body: cfg.body_template, defaultBody: DEFAULT_SLACK_BODY, bodyMode: "slack" }, ctx);
  const blocks: Block[] = [
    { type: "header", text: { type: "plain_text", text: truncate(`${ctx.emoji} ${msg.title}`, 150), emoji: true } },
    { type: "section", fields: fields(ctx) },
  ];
  if (msg.body) blocks.push({ type: "section", text: { type: "mrkdwn", text: truncate(msg.body, 3000) } });
  const notes = [...msg.problems, ...(ctx.tier > 0 ? [`escalation tier ${ctx.tier}`] : [])];
  if (notes.length) blocks.push({ type: "context", elements: notes.map((t) => ({ type: "mrkdwn", text: slackEscape(t) })) });
  if (n.url) {
    blocks.push({
      type: "actions",
      elements: [{ type: "button", text: { type: "plain_text", text: "Open in Vigil" }, url: n.url, action_id: "vigil-open" }],
    });
  }
  // `text` is what notifications and screen readers show.
  return { text: msg.title, blocks };
}

export function createSlackReceiver(cfg: SlackConfig): Receiver {
  return {
    name: cfg.name,
    kind: "slack",
    supportsAck: true,
    async send(n, signal) {
      const url = await readSecret("webhook_url", { inline: cfg.webhook_url, file: cfg.webhook_url_file, env: cfg.webhook_url_env });
      if (!url.ok) return { outcome: "give_up", reason: url.reason };
      if (url.value === undefined) return { outcome: "give_up", reason: "no webhook_url configured" };
      return postJson(url.value, JSON.stringify(buildSlackMessage(n, cfg)), {}, signal);
    },
  };
}
