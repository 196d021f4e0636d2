// A real SMTP server (the smtp-server package) on loopback that captures messages, plus just enough MIME parsing
// (headers, multipart/alternative, quoted-printable/base64) to assert on subject, recipients and both bodies.
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ParsedMail {
  headers: Map<string, string>;
  subject: string;
  text: string;
  html: string;
}

export interface CapturedMail extends ParsedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  user: string | undefined;
}

export interface FakeSmtpOptions {
  /** Require this login (plain-text auth allowed: loopback only). */
  auth?: { user: string; pass: string };
  /** Never answer the DATA phase (for abort tests). */
  hang?: boolean;
}

export interface FakeSmtp {
  port: number;
  mails: CapturedMail[];
  /** Every password a client tried, to assert none leaks into results. */
  triedPasswords: string[];
  close(): Promise<void>;
}

function parseHeaders(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) out.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return out;
}

function decodeQp(s: string): Buffer {
  const bytes: number[] = [];
  const t = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < t.length; i++) {
    const hex = t.slice(i + 1, i + 3);
    if (t[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(t[i]!, "utf8"));
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as nodemailer writes non-ASCII subjects. */
function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_m, enc: string, data: string) =>
      enc.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : decodeQp(data.replace(/_/g, " ")).toString("utf8"),
    );
}

export function parseMail(raw: string): ParsedMail {
  const result: ParsedMail = { headers: new Map(), subject: "", text: "", html: "" };
  const walk = (entity: string, top: boolean): void => {
    const split = entity.search(/\r?\n\r?\n/);
    const headers = parseHeaders(split < 0 ? entity : entity.slice(0, split));
    const body = split < 0 ? "" : entity.slice(split).replace(/^\r?\n\r?\n/, "");
    if (top) result.headers = headers;
    const type = headers.get("content-type") ?? "text/plain";
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (type.toLowerCase().startsWith("multipart/") && boundary) {
      for (const part of body.split(`--${boundary}`).slice(1)) if (!part.startsWith("--")) walk(part.replace(/^\r?\n/, ""), false);
      return;
    }
    const cte = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
    const text = cte === "quoted-printable" ? decodeQp(body).toString("utf8") : cte === "base64" ? Buffer.from(body, "base64").toString("utf8") : body;
    if (type.toLowerCase().startsWith("text/html")) result.html = text;
    else if (type.toLowerCase().startsWith("text/plain")) result.text = text;
  };
  walk(raw, true);
  result.subject = decodeWords(result.headers.get("subject") ?? "");
  return result;
}

export async function startFakeSmtp(opts: FakeSmtpOptions = {}): Promise<FakeSmtp> {
  const mails: CapturedMail[] = [];
  const triedPasswords: string[] = [];
  const server = new SMTPServer({
    logger: false,
    secure: false,
    // STARTTLS off: the server offers no TLS, which also lets a test check that `starttls: true` refuses to send.
    disabledCommands: opts.auth ? ["STARTTLS"] : ["STARTTLS", "AUTH"],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      triedPasswords.push(auth.password ?? "");
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error("Authentication failed"), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (opts.hang) return;
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom;
        mails.push({
          ...parseMail(raw),
          raw,
          envelopeFrom: from ? from.address : "",
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          user: typeof session.user === "string" ? session.user : undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    mails,
    triedPasswords,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
