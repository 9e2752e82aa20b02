import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStatus } from "@flotilla/protocol";
import { pickNode } from "./pick-node.ts";

const node = (name: string, model: string, busy: number, queued = 0): NodeStatus => ({
  name,
  kind: "agent",
  health: "ready",
  drained: false,
  tier: 1,
  pool: "default",
  url: null,
  models: [{ id: model, contextSize: 512, loadedAtMs: 0, slots: { total: 4, busy, queued } }],
  inFlight: busy + queued,
  hardware: null,
  lastSeenAgoMs: 0,
  latency: { firstTokenMs: null, totalMs: null, samples: 0 },
});

test("only nodes serving the model are candidates", () => {
  assert.equal(pickNode("a", [node("n1", "b", 0), node("n2", "a", 3)]), "n2");
  assert.equal(pickNode("c", [node("n1", "b", 0)]), undefined);
});

test("the node with the most free slots wins; queued requests count as busy", () => {
  assert.equal(pickNode("a", [node("n1", "a", 3), node("n2", "a", 1)]), "n2");
  assert.equal(pickNode("a", [node("n1", "a", 2), node("n2", "a", 1, 2)]), "n1");
});

test("nodes that are suspect, down or drained are skipped", () => {
  const free = node("n0", "a", 0);
  assert.equal(pickNode("a", [{ ...free, health: "suspect" }, node("n1", "a", 4)]), "n1");
  assert.equal(pickNode("a", [{ ...free, health: "down" }, node("n1", "a", 4)]), "n1");
  assert.equal(pickNode("a", [{ ...free, drained: true }, node("n1", "a", 4)]), "n1");
  assert.equal(pickNode("a", [{ ...free, drained: true }]), undefined);
});
