import { test } from "node:test";
import assert from "node:assert/strict";
import { capabilityOf, isGeneration, normalise, workload, type Workload } from "./workload.ts";

const chat: Workload = {
  model: "m",
  input: { kind: "chat", messages: [{ role: "user", content: "hi" }] },
  params: { maxTokens: 4, stop: [] },
};
const embed: Workload = { model: "m", input: { kind: "embedding", items: ["a", [1, 2]] } };

test("the workload schema takes each kind as the coordinator builds it, and names what is wrong", () => {
  assert.deepEqual(workload.parse(chat), chat);
  assert.deepEqual(workload.parse(embed), embed);
  const badRole = workload.safeParse({ ...chat, input: { kind: "chat", messages: [{ role: "tool", content: "x" }] } });
  assert.equal(badRole.success, false);
  const noItems = workload.safeParse({ model: "m", input: { kind: "embedding", items: [] } });
  assert.equal(noItems.success, false);
  const extra = workload.safeParse({ ...chat, params: { ...chat.params, tools: [] } });
  assert.equal(extra.success, false, "unknown fields are refused: the agent runs only what it understands");
});

test("each kind needs its capability; only generations are generations", () => {
  assert.equal(capabilityOf("chat"), "chat");
  assert.equal(capabilityOf("completion"), "chat");
  assert.equal(capabilityOf("embedding"), "embed");
  assert.equal(isGeneration(chat), true);
  assert.equal(isGeneration(embed), false);
});

test("normalise: unit length, direction kept, zero stays zero", () => {
  assert.deepEqual(normalise([3, 4]), [0.6, 0.8]);
  assert.deepEqual(normalise([0, 0]), [0, 0]);
});
