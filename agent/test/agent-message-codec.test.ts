import { test } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { AgentMessageSchema, BatchSchema, CheckStatus } from "@vigil/proto";
import { encodeAgentMessage } from "../src/transport/agent-message-codec.js";

type BatchInit = MessageInitShape<typeof BatchSchema>;

/** The hand encoder must produce protobuf-es's bytes exactly, so the collector cannot tell them apart. */
function same(init: BatchInit): void {
  const m = create(AgentMessageSchema, { msg: { case: "batch", value: init } });
  const want = Buffer.from(toBinary(AgentMessageSchema, m));
  assert.deepEqual(encodeAgentMessage(m), want);
  assert.deepEqual(fromBinary(AgentMessageSchema, encodeAgentMessage(m)), fromBinary(AgentMessageSchema, want));
}

test("agent message codec: a batch encodes byte for byte as protobuf-es does", () => {
  same({});
  same({ seq: 1n, timeMs: 1_795_000_000_000n, refs: [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1], values: [0, -0, 1.5, -2, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE] });
  same({ seq: BigInt(Number.MAX_SAFE_INTEGER), timeMs: -1n });
  same({ seq: (1n << 64n) - 1n, timeMs: -(1n << 63n) });
  same({ seq: 1n << 53n, timeMs: (1n << 63n) - 1n });
  same({
    seq: 42n,
    timeMs: 1000n,
    declare: [
      { ref: 0, metric: "system.cpu.utilization", labels: { cpu: "0", state: "user" } },
      { ref: 300, metric: "", labels: {} },
      { ref: 7, metric: "m\u00e9trique \u2192 \u{1F600}", labels: { "": "", "cl\u00e9": "v\u00e4lue", lone: "\ud800x" } },
      {},
    ],
    refs: [0, 300, 7],
    values: [1, 2, 3],
  });
  same({
    seq: 9n,
    checks: [
      { name: "web", kind: "http", status: CheckStatus.HEALTHY, durationSeconds: 0.012, message: "200 OK in 12 ms", timeMs: 1_795_000_000_001n },
      { name: "db", kind: "postgres", status: CheckStatus.UNHEALTHY, durationSeconds: -0, message: "" },
      { name: "", kind: "", status: CheckStatus.UNSPECIFIED, durationSeconds: 0, message: "x".repeat(300), timeMs: 0n },
      { durationSeconds: NaN },
      {},
    ],
  });
  // A long batch: length prefixes of several bytes.
  const n = 5000;
  same({ seq: 3n, timeMs: 3n, refs: Array.from({ length: n }, (_, i) => i * 997), values: Array.from({ length: n }, (_, i) => i / 7) });
});

test("agent message codec: Hello and messages with unknown fields go through protobuf-es", () => {
  const hello = create(AgentMessageSchema, { msg: { case: "hello", value: { agentId: "a", hostname: "h", labels: { env: "prod" }, bootTimeMs: 5n, intervalMs: 1000 } } });
  assert.deepEqual(encodeAgentMessage(hello), Buffer.from(toBinary(AgentMessageSchema, hello)));
  const withUnknown = create(AgentMessageSchema, { msg: { case: "batch", value: { seq: 1n } } });
  if (withUnknown.msg.case === "batch") withUnknown.msg.value.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
  assert.deepEqual(encodeAgentMessage(withUnknown), Buffer.from(toBinary(AgentMessageSchema, withUnknown)));
});

test("agent message codec: values protobuf-es refuses are refused", () => {
  for (const refs of [[-1], [2 ** 32], [1.5]]) {
    const m = create(AgentMessageSchema, { msg: { case: "batch", value: { refs } } });
    assert.throws(() => toBinary(AgentMessageSchema, m));
    assert.throws(() => encodeAgentMessage(m), /invalid uint32/);
  }
  const neg = create(AgentMessageSchema, { msg: { case: "batch", value: { seq: -1n } } });
  assert.throws(() => toBinary(AgentMessageSchema, neg));
  assert.throws(() => encodeAgentMessage(neg), /invalid uint64/);
});
