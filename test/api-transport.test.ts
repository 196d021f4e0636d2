// HTTPS for the HTTP API with the shipped binaries (README "Transport security"): the collector serves the API over
// TLS with http_tls.cert/key, `vigil` reaches it trusting the CA through NODE_EXTRA_CA_CERTS, answers carry HSTS,
// plain HTTP gets no answer; a key that is not the certificate's, or a missing file, stops the start naming the
// setting; plain HTTP off loopback is warned about.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { makeTestPki, type TestPki } from "./support/certs.js";
import { COLLECTOR_BIN, ROOT, startCollector, type CollectorProc } from "./support/processes.js";

const VIGIL_BIN = resolve(ROOT, "collector/bin/vigil.mjs");

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { env: { ...process.env, DATABASE_URL: "", ...env }, encoding: "utf8", timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolveAnswer, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the HTTP API over HTTPS", () => {
  let pki: TestPki;
  let dir: string;
  let collector: CollectorProc;
  let key: string;

  before(async () => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), "vigil-https-e2e-"));
    const made = run(COLLECTOR_BIN, ["apikey", "create", "--name", "root", "--role", "admin", "--data-dir", join(dir, "data")], {});
    assert.equal(made.status, 0, made.stderr);
    key = made.stdout.trim();
    collector = await startCollector({
      dataDir: join(dir, "data"),
      auth: true,
      args: ["--http-listen", "0.0.0.0:0", "--http-tls-cert", pki.serverCert, "--http-tls-key", pki.serverKey],
    });
  });

  after(async () => {
    await collector?.kill();
    rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  });

  test("it listens on https:// and says so, with no plaintext warning", () => {
    assert.match(collector.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const listening = collector.logs.find((l) => l.msg === "collector listening");
    assert.equal(listening?.httpTls, "on");
    assert.ok(!collector.logs.some((l) => String(l.msg).startsWith("HTTP API is plaintext")));
  });

  test("vigil reaches it trusting the CA; without the CA it refuses the certificate", () => {
    const ok = run(VIGIL_BIN, ["--url", collector.httpUrl, "hosts"], { VIGIL_API_KEY: key, NODE_EXTRA_CA_CERTS: pki.ca });
    assert.equal(ok.status, 0, ok.stderr);
    const untrusted = run(VIGIL_BIN, ["--url", collector.httpUrl, "hosts"], { VIGIL_API_KEY: key, NODE_EXTRA_CA_CERTS: "" });
    assert.notEqual(untrusted.status, 0);
    assert.ok(!untrusted.stderr.includes(key.slice(-43)), "the key's secret is printed in the error");
  });

  test("answers tell browsers to keep to HTTPS", async () => {
    const r = await httpsGet(`${collector.httpUrl}/healthz`, readFileSync(pki.ca));
    assert.equal(r.status, 200);
    assert.equal(r.headers["strict-transport-security"], "max-age=15552000; includeSubDomains");
    assert.match(String(r.headers["content-security-policy"]), /upgrade-insecure-requests/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
  });

  test("plain HTTP to the HTTPS port gets no API answer", async () => {
    const plain = collector.httpUrl.replace(/^https:/, "http:");
    const r = await fetch(`${plain}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      (res) => res.status,
      () => "refused",
    );
    assert.ok(r === "refused" || r === 400, `plain HTTP answered ${String(r)}`);
  });
});

describe("HTTPS settings that cannot work stop the start", () => {
  let pki: TestPki;
  let dir: string;
  before(() => {
    pki = makeTestPki();
    dir = mkdtempSync(join(tmpdir(), "vigil-https-bad-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    pki?.remove();
  });

  test("a key that is not the certificate's, and a missing file, each name the setting", () => {
    const serve = (cert: string, k: string) =>
      run(COLLECTOR_BIN, ["--insecure-no-auth", "--data-dir", join(dir, "data"), "--http-listen", "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--http-tls-cert", cert, "--http-tls-key", k], {});
    const mismatch = serve(pki.serverCert, pki.otherClientKey);
    assert.notEqual(mismatch.status, 0);
    assert.match(mismatch.stderr + mismatch.stdout, /http_tls\.key: not the private key of http_tls\.cert/);
    assert.ok(!(mismatch.stderr + mismatch.stdout).includes("PRIVATE KEY"), "key material in the error");
    const missing = serve(join(dir, "nope.pem"), pki.serverKey);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr + missing.stdout, /http_tls\.cert: cannot read .*nope\.pem \(ENOENT\)/);
  });

  test("plain HTTP off loopback is warned about at start", async () => {
    const c = await startCollector({ dataDir: join(dir, "plain"), auth: true, args: ["--http-listen", "0.0.0.0:0"] });
    try {
      assert.ok(c.logs.some((l) => l.level === 40 && String(l.msg).startsWith("HTTP API is plaintext off loopback")));
    } finally {
      await c.kill();
    }
  });
});
