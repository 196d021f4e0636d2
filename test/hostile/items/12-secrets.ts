// 12. Secrets never leak: receivers hold passwords in URLs, tokens in query strings and paths, routing keys, header
// secrets and an SMTP password in a file; every error path (closed port, DNS failure, 4xx/5xx answers and redirects
// that echo what they were sent, an SMTP server echoing the credentials) is driven through `POST
// /api/v1/receivers/:name/test`, then the answers, the collector's logs, the notification log and both check-config
// printouts are searched for every secret.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostileItem } from "../harness.js";
import { runBin } from "../run-bin.js";
import { AGENT_BIN, COLLECTOR_BIN } from "../../support/processes.js";

const S = {
  webhookPassword: "s3cret-pw-12",
  webhookQueryToken: "tok-12-query",
  webhookHeader: "hdr-secret-12",
  slackToken: "slacktoken12xyz",
  slackDnsToken: "dnstoken12xyz",
  routingKey: "rk-secret-12-abcdef",
  amPassword: "am-pw-12",
  amHeader: "am-header-key-12",
  redirectPassword: "redir-pw-12",
  redirectKey: "redir-key-12",
  smtpPassword: "smtp-pw-12",
  dbPassword: "db-pw-12",
  agentToken: "agent-token-12",
  pgPassword: "pg-pw-12",
  redisPassword: "redis-pw-12",
  httpPassword: "http-pw-12",
  agentHeader: "agent-hdr-12",
};
const SECRETS = Object.values(S);

function leaked(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s));
}

// An HTTP server that answers errors echoing what it was sent, as careless servers do.
const echo = createHttpServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const auth = req.headers.authorization ?? "";
    const basic = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : auth;
    const url = req.url ?? "";
    if (url.startsWith("/services/")) return res.writeHead(404).end(`no_service: ${url}`);
    if (url.startsWith("/v2/enqueue")) return res.writeHead(400).end(`Invalid routing key in ${body}`);
    if (url.startsWith("/api/v2/alerts")) return res.writeHead(401).end(`unauthorized: ${basic} ${String(req.headers["x-api-key"])} at ${url}`);
    if (url.startsWith("/redirect")) {
      return res.writeHead(302, { location: `http://someone:${S.redirectPassword}@elsewhere.example${url}` }).end(`moved ${url}`);
    }
    res.writeHead(500).end(`failed ${url} ${auth}`);
  });
});
echo.listen(0, "127.0.0.1");
await new Promise((r) => echo.once("listening", r));
echo.unref();
const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;

// An SMTP server that refuses the login, quoting the credentials back.
const smtp: Server = createTcpServer((sock) => {
  sock.on("error", () => {});
  sock.write("220 fake ESMTP\r\n");
  let stage: "cmd" | "user" | "pass" = "cmd";
  let buf = "";
  sock.on("data", (d: Buffer) => {
    buf += d.toString("utf8");
    for (let i = buf.indexOf("\r\n"); i >= 0; i = buf.indexOf("\r\n")) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const decoded = (b64: string): string => Buffer.from(b64, "base64").toString("utf8").replace(/\0/g, " ");
      if (stage === "user") {
        stage = "pass";
        sock.write("334 UGFzc3dvcmQ6\r\n");
      } else if (stage === "pass") {
        stage = "cmd";
        sock.write(`535 5.7.8 rejected password ${decoded(line)} (${line})\r\n`);
      } else if (/^(EHLO|HELO)/i.test(line)) sock.write("250-fake\r\n250 AUTH PLAIN LOGIN\r\n");
      else if (/^AUTH PLAIN /i.test(line)) sock.write(`535 5.7.8 rejected credentials ${decoded(line.slice(11))} (${line.slice(11)})\r\n`);
      else if (/^AUTH LOGIN/i.test(line)) {
        stage = "user";
        sock.write("334 VXNlcm5hbWU6\r\n");
      } else if (/^QUIT/i.test(line)) sock.end("221 bye\r\n");
      else sock.write("250 ok\r\n");
    }
  });
});
smtp.listen(0, "127.0.0.1");
await new Promise((r) => smtp.once("listening", r));
smtp.unref();

// A loopback port nothing listens on: connection refused.
const closed = createTcpServer().listen(0, "127.0.0.1");
await new Promise((r) => closed.once("listening", r));
const closedPort = (closed.address() as AddressInfo).port;
await new Promise((r) => closed.close(r));

const dir = mkdtempSync(join(tmpdir(), "vigil-hostile-12-"));
const smtpPasswordFile = join(dir, "smtp.pass");
writeFileSync(smtpPasswordFile, `${S.smtpPassword}\n`);

const receivers = [
  { name: "h12-webhook", kind: "webhook", url: `http://hook-user:${S.webhookPassword}@127.0.0.1:${closedPort}/hook?token=${S.webhookQueryToken}`, headers: { Authorization: `Bearer ${S.webhookHeader}` } },
  { name: "h12-webhook-echo", kind: "webhook", url: `${echoUrl.replace("://", `://hook-user:${S.webhookPassword}@`)}/hook?token=${S.webhookQueryToken}`, headers: { Authorization: `Bearer ${S.webhookHeader}` } },
  { name: "h12-webhook-redirect", kind: "webhook", url: `${echoUrl}/redirect?api_key=${S.redirectKey}` },
  { name: "h12-slack", kind: "slack", webhook_url: `${echoUrl}/services/T12/B12/${S.slackToken}` },
  { name: "h12-slack-dns", kind: "slack", webhook_url: `http://no-such-host.invalid/services/T12/B12/${S.slackDnsToken}` },
  { name: "h12-pagerduty", kind: "pagerduty", url: `${echoUrl}/v2/enqueue`, routing_key: S.routingKey },
  { name: "h12-alertmanager", kind: "alertmanager", url: echoUrl.replace("://", `://am-user:${S.amPassword}@`), headers: { "X-Api-Key": S.amHeader } },
  { name: "h12-email", kind: "email", host: "127.0.0.1", port: (smtp.address() as AddressInfo).port, user: "mailer", password_file: smtpPasswordFile, from: "vigil@example.com", to: "ops@example.com" },
];

export const item: HostileItem = {
  title: "12. secrets never appear in receiver errors, logs, the notification log or check-config printouts",
  config: { notifications: { receivers } },
  async run(ctx) {
    try {
      for (const r of receivers) {
        const a = await ctx.http("POST", `/api/v1/receivers/${r.name}/test`);
        assert.equal(a.status, 200, `${r.name}: ${a.text}`);
        const result = a.json as { outcome: string; detail: string };
        assert.notEqual(result.outcome, "delivered", `${r.name}: ${a.text}`);
        assert.deepEqual(leaked(a.text), [], `${r.name} answered with a secret: ${a.text}`);
        // Redaction must leave the reason useful.
        assert.match(result.detail, /ECONNREFUSED|ENOTFOUND|HTTP \d{3}|535|network error/, `${r.name}: ${a.text}`);
      }
      const notifications = await ctx.http("GET", "/api/v1/notifications");
      assert.equal(notifications.status, 200);
      assert.deepEqual(leaked(notifications.text), [], `the notification log holds a secret: ${notifications.text}`);

      const printed = await runBin(COLLECTOR_BIN, ["check-config", "--config", ctx.configPath], {
        DATABASE_URL: `postgres://vigil:${S.dbPassword}@db.internal:5432/vigil`,
      });
      assert.equal(printed.code, 0, printed.stderr);
      assert.deepEqual(leaked(printed.stdout + printed.stderr), [], `collector check-config printed a secret:\n${printed.stdout}`);
      assert.match(printed.stdout, /h12-slack/);
      assert.match(printed.stdout, /db\.internal:5432/, "the database's host should still be shown");

      const agentYaml = join(dir, "agent.yaml");
      writeFileSync(
        agentYaml,
        JSON.stringify({
          checks: [
            { name: "db", kind: "postgres", url: `postgres://monitor:${S.pgPassword}@127.0.0.1:5432/app` },
            { name: "cache", kind: "redis", url: `redis://:${S.redisPassword}@127.0.0.1:6379` },
            { name: "web", kind: "http", url: `https://u:${S.httpPassword}@127.0.0.1:8443/health`, headers: { Authorization: `Bearer ${S.agentHeader}` } },
          ],
        }),
      );
      const agent = await runBin(AGENT_BIN, ["--check-config", "--config", agentYaml], { VIGIL_TOKEN: S.agentToken });
      assert.equal(agent.code, 0, agent.stderr);
      assert.deepEqual(leaked(agent.stdout + agent.stderr), [], `agent --check-config printed a secret:\n${agent.stdout}`);
      assert.match(agent.stdout, /127\.0\.0\.1:5432/);

      // Last: everything the collector logged during the suite so far.
      assert.deepEqual(leaked(JSON.stringify(ctx.collector.logs)), [], "the collector logged a secret");
    } finally {
      echo.close();
      smtp.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
