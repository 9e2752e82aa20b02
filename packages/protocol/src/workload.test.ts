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
  assert.equal(capabilityOf(chat), "chat");
  assert.equal(capabilityOf({ ...chat, input: { kind: "completion", prompt: "x" } }), "chat");
  assert.equal(capabilityOf(embed), "embed");
  const tools = [{ name: "weather", parameters: { type: "object" } }];
  assert.equal(capabilityOf({ ...chat, input: { kind: "chat", messages: [{ role: "user", content: "x" }], tools } }), "tools");
  assert.equal(
    capabilityOf({ ...chat, input: { kind: "chat", messages: [{ role: "user", content: "x" }], tools, toolChoice: "none" } }),
    "chat",
    "tools the model may not call need no tool support",
  );
  assert.equal(capabilityOf({ ...chat, params: { ...chat.params, responseFormat: { type: "json" } } }), "json");
  assert.equal(isGeneration(chat), true);
  assert.equal(isGeneration(embed), false);
});

test("a schema is bounded in size and depth", () => {
  let deep: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < 40; i++) deep = { type: "object", properties: { x: deep } };
  const tooDeep = workload.safeParse({ ...chat, params: { ...chat.params, responseFormat: { type: "json_schema", name: "s", schema: deep } } });
  assert.equal(tooDeep.success, false);
  assert.match(JSON.stringify(tooDeep.error?.issues), /at most 32 levels/);
  let abyss: unknown = [];
  for (let i = 0; i < 100_000; i++) abyss = [abyss];
  const tooDeepToWalk = workload.safeParse({ ...chat, params: { ...chat.params, responseFormat: { type: "json_schema", name: "s", schema: { type: "object", items: abyss } } } });
  assert.match(JSON.stringify(tooDeepToWalk.error?.issues), /at most 32 levels/, "refused, not a stack overflow");
  const huge = { type: "object", description: "x".repeat(70_000) };
  const tooBig = workload.safeParse({ ...chat, params: { ...chat.params, responseFormat: { type: "json_schema", name: "s", schema: huge } } });
  assert.match(JSON.stringify(tooBig.error?.issues), /at most 65536 characters/);
});

test("normalise: unit length, direction kept, zero stays zero", () => {
  assert.deepEqual(normalise([3, 4]), [0.6, 0.8]);
  assert.deepEqual(normalise([0, 0]), [0, 0]);
});
