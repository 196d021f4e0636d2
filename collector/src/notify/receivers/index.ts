// The receiver registry: one config schema (discriminated on `kind`) and one factory for every receiver kind.
import { z } from "zod";
import type { Receiver } from "../types.js";
import { alertmanagerConfigObject, createAlertmanagerReceiver } from "./alertmanager.js";
import { checkEmailConfig, createEmailReceiver, emailConfigObject } from "./email.js";
import { checkPagerDutyConfig, createPagerDutyReceiver, pagerdutyConfigObject } from "./pagerduty.js";
import { redacting } from "./redacting.js";
import { checkSlackConfig, createSlackReceiver, slackConfigObject } from "./slack.js";
import { checkWebhookConfig, createWebhookReceiver, webhookConfigObject } from "./webhook.js";

// zod's discriminatedUnion takes plain objects only, so the cross-field checks run after it, per kind.
export const receiverConfigSchema = z
  .discriminatedUnion("kind", [emailConfigObject, slackConfigObject, webhookConfigObject, pagerdutyConfigObject, alertmanagerConfigObject])
  .superRefine((cfg, ctx) => {
    switch (cfg.kind) {
      case "email":
        return checkEmailConfig(cfg, ctx);
      case "slack":
        return checkSlackConfig(cfg, ctx);
      case "webhook":
        return checkWebhookConfig(cfg, ctx);
      case "pagerduty":
        return checkPagerDutyConfig(cfg, ctx);
      case "alertmanager":
        return undefined;
    }
  });

export type ReceiverConfig = z.output<typeof receiverConfigSchema>;
export type ReceiverKind = ReceiverConfig["kind"];
export const RECEIVER_KINDS: readonly ReceiverKind[] = ["email", "slack", "webhook", "pagerduty", "alertmanager"];

/** The receiver for a config; its results never carry the config's secrets (see redacting.ts). */
export function createReceiver(cfg: ReceiverConfig): Receiver {
  return redacting(createBareReceiver(cfg), cfg);
}

function createBareReceiver(cfg: ReceiverConfig): Receiver {
  switch (cfg.kind) {
    case "email":
      return createEmailReceiver(cfg);
    case "slack":
      return createSlackReceiver(cfg);
    case "webhook":
      return createWebhookReceiver(cfg);
    case "pagerduty":
      return createPagerDutyReceiver(cfg);
    case "alertmanager":
      return createAlertmanagerReceiver(cfg);
  }
}

export type { AlertmanagerConfig } from "./alertmanager.js";
export type { EmailConfig } from "./email.js";
export type { PagerDutyConfig } from "./pagerduty.js";
export type { SlackConfig } from "./slack.js";
export type { WebhookConfig } from "./webhook.js";
