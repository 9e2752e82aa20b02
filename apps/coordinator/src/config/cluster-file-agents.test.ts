import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterFile } from "./cluster-file.ts";

test("without an agents section there are no limits beyond the hardware rule", () => {
  assert.equal(clusterFile.parse({}).agents, undefined);
  assert.equal(clusterFile.parse({ agents: null }).agents, undefined, "a section with every entry commented out");
  assert.deepEqual(clusterFile.parse({ agents: {} }).agents, { nodes: [] });
});

test("the agents section takes a default allowModels, a slot maximum and per-agent lists", () => {
  const parsed = clusterFile.parse({
    agents: { allowModels: ["qwen2.5-*"], maxSlotsPerModel: 16, nodes: [{ name: "desk-1", allowModels: ["llama3.1:8b"] }] },
  });
  assert.deepEqual(parsed.agents, { allowModels: ["qwen2.5-*"], maxSlotsPerModel: 16, nodes: [{ name: "desk-1", allowModels: ["llama3.1:8b"] }] });
});

test("a misspelt key, a bad maximum or a name listed twice is an error", () => {
  assert.equal(clusterFile.safeParse({ agents: { allowModel: ["x"] } }).success, false);
  assert.equal(clusterFile.safeParse({ agents: { maxSlotsPerModel: 0 } }).success, false);
  const twice = clusterFile.safeParse({ agents: { nodes: [{ name: "a", allowModels: [] }, { name: "a", allowModels: ["x"] }] } });
  assert.equal(twice.success, false);
  assert.match(twice.error?.issues[0]?.message ?? "", /already the name of agents.nodes\[0\]/);
});
