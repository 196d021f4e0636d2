// The `vigil` CLI never prints the API key or a password given in --url / VIGIL_URL, whatever fails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { run } from "../src/cli/vigil/run.js";

async function vigil(argv: string[], env: Record<string, string | undefined>): Promise<{ code: number; text: string }> {
  let text = "";
  const code = await run(argv, { stdout: { write: (s: string) => (text += s) }, stderr: { write: (s: string) => (text += s) }, env });
  return { code, text };
}

test("a bad --url with credentials is refused without printing its password", async () => {
  const r = await vigil(["hosts", "--url", "http://ops:cli-pw-1@[not-a-host"], {});
  assert.equal(r.code, 2);
  assert.match(r.text, /--url: expected a URL/);
  assert.ok(!r.text.includes("cli-pw-1"), r.text);
});

test("an API error quoting the API key is printed without it", async () => {
  // A careless proxy in front of the collector that echoes the Authorization header in its error.
  const server = createServer((req, res) => res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "X", message: `bad gateway for ${req.headers.authorization}` } })));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await vigil(["hosts", "--url", url], { VIGIL_API_KEY: "api-key-secret-1" });
    assert.equal(r.code, 1);
    assert.match(r.text, /bad gateway for Bearer \[redacted\]/);
    assert.ok(!r.text.includes("api-key-secret-1"), r.text);
  } finally {
    server.close();
  }
});
