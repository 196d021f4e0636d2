import { test } from "node:test";
import assert from "node:assert/strict";
import { channelSetup, dialOptions } from "../src/transport/credentials.js";

const OVERRIDE = "grpc.ssl_target_name_override";
const AUTHORITY = "grpc.default_authority";

test("dial options: over TLS, an address found by DNS is verified against the name, not the IP", () => {
  const o = dialOptions(channelSetup({ enabled: true }), "collector.example");
  assert.equal(o[OVERRIDE], "collector.example");
  assert.equal(o[AUTHORITY], "collector.example");
  assert.deepEqual(dialOptions(channelSetup({ enabled: true }), undefined), {}, "an IP entry is verified as the IP");
});

test("dial options: a configured tls.server_name wins; plaintext sets no name", () => {
  const o = dialOptions(channelSetup({ enabled: true, server_name: "pinned.example" }), "collector.example");
  assert.equal(o[OVERRIDE], "pinned.example");
  assert.equal(o[AUTHORITY], "pinned.example");
  assert.deepEqual(dialOptions(channelSetup({ enabled: false }), "collector.example"), {});
});
