// The agent must not hang on a peer that accepts TCP and then never answers (e.g. a load balancer with a dead backend).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { startAgent, type Proc } from "./support/processes.js";

const held: net.Socket[] = [];
const silent = net.createServer((s) => held.push(s)); // accepts, reads nothing, answers nothing
let agent: Proc | undefined;

after(async () => {
  await agent?.kill();
  for (const s of held) s.destroy();
  silent.close();
});

test("a collector address that accepts but never welcomes is dropped and retried, with a log line", async () => {
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  const { port } = silent.address() as net.AddressInfo;
  agent = startAgent(["--collector", `127.0.0.1:${port}`, "--interval", "1s", "--hostname", "silent-peer"]);
  const line = await agent.waitForLog((l) => l.msg === "collector stream closed; reconnecting" && l.code === "DEADLINE_EXCEEDED", 40_000);
  assert.match(String(line.reason), /no Welcome from the collector within 15s/);
  // The dead connection was dropped and a fresh one opened.
  const deadline = Date.now() + 40_000;
  while (held.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok(held.length >= 2, `reconnected on a new connection (${held.length} accepted)`);
});
