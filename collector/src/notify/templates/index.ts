// Notification templates: context (what templates see), defaults, and rendering.
export { buildContext, formatAgo, formatTime, formatValue, listText, type AlertView, type TemplateContext } from "./context.js";
export { DEFAULT_HTML_BODY, DEFAULT_SLACK_BODY, DEFAULT_TEXT_BODY, DEFAULT_TITLE } from "./defaults.js";
export { checkTemplate, renderMessage, renderTemplate, slackEscape, truncate, zTemplate, type MessageTemplates, type RenderedMessage, type RenderMode } from "./render.js";
