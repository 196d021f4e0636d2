// Email through SMTP (nodemailer): subject from the title template, a plain-text and an HTML part.
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import { zBoolean, zInteger } from "@vigil/shared";
import { z } from "zod";
import { buildContext, DEFAULT_HTML_BODY, DEFAULT_TEXT_BODY, renderMessage, renderTemplate, zTemplate } from "../templates/index.js";
import type { DeliveryResult, Notification, Receiver } from "../types.js";
import { abortText, baseFields, checkSecret, readSecret } from "./common.js";

const zAddress = z.string().min(3).refine((s) => s.includes("@"), "expected an email address");

export const emailConfigObject = z
  .object({
    ...baseFields,
    kind: z.literal("email"),
    host: z.string().min(1),
    /** Defaults to 465 with `secure`, else 587 (submission). */
    port: zInteger(1, 65535).optional(),
    /** TLS from the first byte (port 465). */
    secure: zBoolean.default(false),
    /** Refuse to send unless the server upgrades with STARTTLS (otherwise STARTTLS is used when offered). */
    starttls: zBoolean.default(false),
    insecure_skip_verify: zBoolean.default(false),
    user: z.string().min(1).optional(),
    password_file: z.string().min(1).optional(),
    password_env: z.string().min(1).optional(),
    from: zAddress,
    to: z.union([zAddress, z.array(zAddress).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    /** The HTML part; without it, a custom body_template is shown preformatted, else the default table. */
    html_template: zTemplate.optional(),
  })
  .strict();

export type EmailConfig = z.output<typeof emailConfigObject>;

export function checkEmailConfig(cfg: EmailConfig, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
  if (cfg.secure && cfg.starttls) issue("starttls", "choose one: secure (TLS from the start) or starttls (upgrade a plain connection)");
  checkSecret(ctx, "password", { file: cfg.password_file, env: cfg.password_env }, cfg.user !== undefined, false);
  if (cfg.user === undefined && (cfg.password_file ?? cfg.password_env) !== undefined) issue("user", "required with a password");
}

export const emailConfigSchema = emailConfigObject.superRefine(checkEmailConfig);

const escapeHtml = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

export function buildEmailMessage(n: Notification, cfg: Pick<EmailConfig, "title_template" | "body_template" | "html_template">): EmailMessage {
  const ctx = buildContext(n);
  const msg = renderMessage(n, { title: cfg.title_template, body: cfg.body_template, defaultBody: DEFAULT_TEXT_BODY, bodyMode: "text" }, ctx);
  let html: string;
  if (cfg.html_template !== undefined) {
    try {
      html = renderTemplate(cfg.html_template, ctx, "html");
    } catch (err) {
      msg.problems.push(`html_template failed (${(err as Error).message.split("\n")[0]}); used the default`);
      html = renderTemplate(DEFAULT_HTML_BODY, ctx, "html");
    }
  } else if (cfg.body_template !== undefined) {
    html = `<!doctype html>\n<html><body><pre style="font-family:ui-monospace,Menlo,Consolas,monospace">${escapeHtml(msg.body)}</pre></body></html>`;
  } else html = renderTemplate(DEFAULT_HTML_BODY, ctx, "html");
  const text = msg.problems.length ? `${msg.body}\n\n(${msg.problems.join("; ")})` : msg.body;
  return { subject: msg.title, text, html };
}

type SmtpError = Error & { code?: string; responseCode?: number; response?: string };

/** SMTP's own classes: 5xx is permanent, 4xx transient; bad credentials or certificates are configuration. */
export function classifySmtpError(err: unknown): DeliveryResult {
  const e = (err instanceof Error ? err : new Error(String(err))) as SmtpError;
  const reason = `${e.code ? `${e.code}: ` : ""}${e.message}`.slice(0, 400);
  if (e.responseCode !== undefined && e.responseCode >= 500) return { outcome: "give_up", reason };
  if (e.responseCode !== undefined && e.responseCode >= 400) return { outcome: "retry", reason };
  if (e.code === "EAUTH" || e.code === "EENVELOPE" || e.code === "EMESSAGE" || e.code === "ECONFIG") return { outcome: "give_up", reason };
  if (e.code === "ETLS" && /certificate|self[- ]signed|altname|unable to verify/i.test(e.message)) return { outcome: "give_up", reason };
  return { outcome: "retry", reason };
}

export function createEmailReceiver(cfg: EmailConfig): Receiver {
  const port = cfg.port ?? (cfg.secure ? 465 : 587);
  return {
    name: cfg.name,
    kind: "email",
    supportsAck: true,
    async send(n, signal) {
      if (signal.aborted) return { outcome: "retry", reason: abortText(signal) };
      // Read per send so a rotated password needs no restart; it goes to nodemailer only, never into a reason.
      const pw = await readSecret("password", { file: cfg.password_file, env: cfg.password_env });
      if (!pw.ok) return { outcome: "give_up", reason: pw.reason };
      const msg = buildEmailMessage(n, cfg);
      // nodemailer takes no AbortSignal: we open the socket ourselves so an abort can destroy it mid-conversation.
      let socket: Socket | undefined;
      let onAbort = (): void => {};
      const aborted = new Promise<DeliveryResult>((resolve) => {
        onAbort = () => {
          socket?.destroy();
          resolve({ outcome: "retry", reason: abortText(signal) });
        };
      });
      signal.addEventListener("abort", onAbort, { once: true });
      const options: SMTPTransport.Options = {
        host: cfg.host,
        port,
        secure: cfg.secure,
        requireTLS: cfg.starttls,
        tls: { rejectUnauthorized: !cfg.insecure_skip_verify, servername: cfg.host },
        ...(cfg.user !== undefined && pw.value !== undefined ? { auth: { user: cfg.user, pass: pw.value } } : {}),
        logger: false,
        debug: false,
        disableFileAccess: true,
        disableUrlAccess: true,
        getSocket: (_opts, done) => {
          let called = false;
          const once = (err: Error | null, value: { connection: Socket } | false): void => {
            if (called) return;
            called = true;
            done(err, value);
          };
          const s = connect({ host: cfg.host, port });
          socket = s;
          s.once("connect", () => once(null, { connection: s }));
          s.once("error", (err) => once(err, false));
          s.once("close", () => once(new Error(signal.aborted ? abortText(signal) : "connection closed"), false));
        },
      };
      const transport = nodemailer.createTransport(options);
      const sending = transport
        .sendMail({
          from: cfg.from,
          to: cfg.to,
          subject: msg.subject,
          text: msg.text,
          html: msg.html,
          // One thread per alert group in mail clients that follow References.
          references: `<vigil-${createHash("sha256").update(n.groupKey).digest("hex").slice(0, 32)}@vigil>`,
          headers: { "X-Vigil-Notification": n.id, "X-Vigil-Kind": n.kind },
        })
        .then(
          (info): DeliveryResult => {
            const rejected = info.rejected.map((r) => (typeof r === "string" ? r : r.address));
            return { outcome: "delivered", detail: `${info.response}${rejected.length ? `; rejected: ${rejected.join(", ")}` : ""}` };
          },
          (err: unknown): DeliveryResult => (signal.aborted ? { outcome: "retry", reason: abortText(signal) } : classifySmtpError(err)),
        );
      try {
        return await Promise.race([sending, aborted]);
      } finally {
        // On success nodemailer closes the connection with QUIT itself.
        signal.removeEventListener("abort", onAbort);
        transport.close();
      }
    },
  };
}
