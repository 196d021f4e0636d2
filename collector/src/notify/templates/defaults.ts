// The templates every receiver uses unless its config sets `title_template` / `body_template` (Handlebars syntax;
// the variables are TemplateContext's, see context.ts). Lines holding only a block tag ({{#each}}, {{/if}}) vanish
// from the output, so the templates can be laid out one statement per line.

/** `[CRITICAL] disk-full on web-1`, `[RESOLVED] …`, `[ACK by alice] …`. */
export const DEFAULT_TITLE = "{{tag}} {{subject}}";

/** Plain text: email's text part, the webhook's `text`, PagerDuty's custom_details.text. */
export const DEFAULT_TEXT_BODY = `{{#if ackBy}}
Acknowledged by {{ackBy}}{{#if ackComment}}: {{ackComment}}{{/if}}

{{/if}}
{{#unless single}}
{{count}} alerts ({{firing.length}} firing, {{resolved.length}} resolved)

{{/unless}}
{{#each alerts}}
[{{stateTag}}] {{rule}}{{#if host}} on {{host}}{{/if}}
  {{summary}}
  value {{valueText}}, since {{sinceText}}
{{#if resolvedText}}
  resolved {{resolvedText}}
{{/if}}
{{#if ack}}
  acknowledged by {{ack.by}} {{ack.atText}}{{#if ack.comment}}: {{ack.comment}}{{/if}}
{{/if}}

{{/each}}
{{#if url}}
Open in Vigil: {{url}}
{{/if}}
`;

/** Email's HTML part; rendered with HTML escaping on, so every value is safe. */
export const DEFAULT_HTML_BODY = `<!doctype html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#222">
<h2 style="margin:0 0 12px">{{emoji}} {{tag}} {{subject}}</h2>
{{#if ackBy}}
<p>Acknowledged by <b>{{ackBy}}</b>{{#if ackComment}}: {{ackComment}}{{/if}}</p>
{{/if}}
<table cellpadding="6" cellspacing="0" style="border-collapse:collapse">
<tr style="background:#f0f0f0;text-align:left"><th>Severity</th><th>Alert</th><th>Host</th><th>Summary</th><th>Value</th><th>Since</th></tr>
{{#each alerts}}
<tr style="border-top:1px solid #ddd"><td>{{stateTag}}</td><td>{{rule}}</td><td>{{host}}</td><td>{{summary}}</td><td>{{valueText}}</td><td>{{sinceText}}</td></tr>
{{/each}}
</table>
{{#if url}}
<p><a href="{{url}}">Open in Vigil</a></p>
{{/if}}
</body></html>
`;

/** Slack mrkdwn (section text); data is pre-escaped for Slack, so literal `<url|text>` links in a template work. */
export const DEFAULT_SLACK_BODY = `{{#each alerts}}
{{emoji}} *{{rule}}*{{#if host}} on \`{{host}}\`{{/if}}: {{summary}}
{{/each}}
{{#if ackBy}}
_Acknowledged by {{ackBy}}{{#if ackComment}}: {{ackComment}}{{/if}}_
{{/if}}
`;
