import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStatus } from "@flotilla/protocol";
import { pickNode } from "./pick-node.ts";

const node = (name: string, model: string, busy: number, queued = 0): NodeStatus => ({
  name,
  state: "ready",
  models: [{ id: model, contextSize: 512, loadedAtMs: 0, slots: { total: 4, busy, queued } }],
});

test("only nodes serving the model are candidates", () => {
  assert.equal(pickNode("a", [node("n1", "b", 0), node("n2", "a", 3)]), "n2");
  assert.equal(pickNode("c", [node("n1", "b", 0)]), undefined);
});

test("the node with the most free slots wins; queued requests count as busy", () => {
  assert.equal(pickNode("a", [node("n1", "a", 3), node("n2", "a", 1)]), "n2");
  assert.equal(pickNode("a", [node("n1", "a", 2), node("n2", "a", 1, 2)]), "n1");
});

test("nodes that are not ready are skipped", () => {
  const idle: NodeStatus = { name: "n0", state: "no_models", models: [] };
  assert.equal(pickNode("a", [idle, node("n1", "a", 4)]), "n1");
});
