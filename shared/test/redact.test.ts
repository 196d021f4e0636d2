import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { isSecretKey, redactUrls, Redactor, urlSecrets } from "../src/index.js";

test("URL passwords and secret query parameters are removed from any text; the rest stays", () => {
  assert.equal(redactUrls("connect to postgres://vigil:pw%40x@db:5432/v failed"), "connect to postgres://vigil:[redacted]@db:5432/v failed");
  assert.equal(redactUrls("redis://:hunter2@cache:6379"), "redis://:[redacted]@cache:6379");
  assert.equal(redactUrls('"url":"https://h/x?token=abc&page=2&api_key=k"'), '"url":"https://h/x?token=[redacted]&page=2&api_key=[redacted]"');
  assert.equal(redactUrls("http://host:8080/path@x and http://user@host/"), "http://host:8080/path@x and http://user@host/");
});

test("secret keys, in any case style; *_file and *_env are not secrets", () => {
  for (const k of ["password", "token", "routing_key", "routingKey", "webhook_url", "hmac_secret", "Authorization", "X-Api-Key", "X-Auth-Token", "Cookie"]) assert.ok(isSecretKey(k), k);
  for (const k of ["password_file", "routing_key_env", "token_file", "url", "name", "tls", "key", "insecure_no_auth", "host"]) assert.ok(!isSecretKey(k), k);
});

test("urlSecrets finds the password and secret parameters, decoded and as written", () => {
  assert.deepEqual(urlSecrets("https://u:p%21ss@h/?token=t1&x=1"), ["p%21ss", "p!ss", "t1"]);
  assert.deepEqual(urlSecrets("not a url"), []);
});

test("exact secrets are replaced in all the forms servers echo them in", () => {
  const r = new Redactor(["s3cret\"pw", "ab"]);
  const b64 = Buffer.from('s3cret"pw').toString("base64").replace(/=+$/, "");
  const out = r.text(`plain s3cret"pw json ${JSON.stringify('s3cret"pw')} url ${encodeURIComponent('s3cret"pw')} b64 ${b64} short ab`);
  assert.ok(!out.includes("s3cret"), out);
  assert.ok(!out.includes(b64), out);
  assert.match(out, /short ab$/, "values under 4 characters are not treated as secrets");
});

test("collect and value: a config's secrets are learnt, and printed as [redacted]", () => {
  const config = {
    databaseUrl: "postgres://vigil:db-pw-1@db:5432/v",
    receivers: [
      { name: "s", kind: "slack", webhook_url: "https://hooks.slack.com/services/T0/B0/slacktok" },
      { name: "w", kind: "webhook", url: "https://u:wh-pw-1@h/hook?sig=sig-1", headers: { Authorization: "Bearer hdr-1" }, hmac_secret_file: "/etc/h" },
      { name: "p", kind: "pagerduty", routing_key: "rk-1" },
    ],
    insecureNoAuth: false,
    port: 5,
  };
  const r = new Redactor().collect(config);
  const text = r.text("db-pw-1 /services/T0/B0/slacktok wh-pw-1 sig-1 hdr-1 rk-1");
  assert.equal(text.replace(/\[redacted\]/g, "").trim(), "", text);
  const printed = JSON.stringify(r.value(config));
  for (const s of ["db-pw-1", "slacktok", "wh-pw-1", "sig-1", "hdr-1", "rk-1"]) assert.ok(!printed.includes(s), `${s} in ${printed}`);
  const v = r.value(config);
  assert.equal(v.databaseUrl, "postgres://vigil:[redacted]@db:5432/v");
  assert.equal(v.receivers[0]!.webhook_url, "[redacted]");
  assert.equal(v.receivers[1]!.hmac_secret_file, "/etc/h");
  assert.deepEqual([v.insecureNoAuth, v.port], [false, 5]);
});

test("every log line is redacted as written: fields, messages and error text alike", () => {
  const logger = new URL("../src/logger.ts", import.meta.url).pathname;
  const redact = new URL("../src/redact.ts", import.meta.url).pathname;
  const script = `
    const { createLogger } = await import(${JSON.stringify(logger)});
    const { Redactor } = await import(${JSON.stringify(redact)});
    const log = createLogger("t", "info", new Redactor(["exact-secret-7"]));
    log.warn({ target: "postgres://u:url-pw-7@db:5432/x", err: new Error("echo exact-secret-7") }, "sent https://h/x?api_key=q-7 with exact-secret-7");`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stderr.trim();
  for (const s of ["exact-secret-7", "url-pw-7", "q-7"]) assert.ok(!line.includes(s), `${s} in ${line}`);
  assert.match(line, /postgres:\/\/u:\[redacted\]@db:5432/);
  assert.match(line, /"msg":"sent https:\/\/h\/x\?api_key=\[redacted\] with \[redacted\]"/);
});
