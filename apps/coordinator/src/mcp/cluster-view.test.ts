// What cluster_status and list_models show, from fixed node statuses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { testNode } from "../router/test-nodes.ts";
import { clusterView, clusterViewOf, modelsView, modelsViewOf } from "./cluster-view.ts";

const QUEUE = { depth: 2, maxDepth: 64 };

test("each node's state, tier, pool, models and load; a down node counts in no total", () => {
  const statuses = [
    testNode("small", { tier: 0, slots: 4, busy: 1, queued: 2 }),
    testNode("big", { tier: 2, model: "large", context: 32_768, slots: 2, capabilities: ["chat", "tools", "json"] }),
    testNode("resting", { tier: 1, drained: true, slots: 1 }),
    testNode("gone", { tier: 0, health: "down", slots: 8, busy: 3 }),
  ];
  const view = clusterViewOf(statuses, QUEUE);
  assert.deepEqual(clusterView.parse(view), view, "the output schema the SDK checks it against");
  assert.deepEqual(
    view.nodes.map((n) => [n.name, n.state, n.tier, n.pool]),
    [
      ["small", "ready", 0, "default"],
      ["big", "ready", 2, "default"],
      ["resting", "draining", 1, "default"],
      ["gone", "down", 0, "default"],
    ],
  );
  assert.deepEqual(view.nodes[0]?.load, { slots: 4, busySlots: 1, queued: 2, inFlight: 3 });
  assert.deepEqual(view.nodes[1]?.models, [{ id: "large", contextSize: 32_768, capabilities: ["chat", "tools", "json"] }]);
  // A draining node still holds its work; a down one holds nothing.
  assert.deepEqual(view.totals, { nodes: 4, ready: 2, slots: 4 + 2 + 1, inFlight: 3 });
  assert.deepEqual(view.queue, QUEUE);
});

test("nothing an operator alone may read: no URL, hardware, labels or health-check error", () => {
  const status = { ...testNode("n"), url: "http://10.0.0.5:8081", labels: { rack: "a" }, error: "connection refused" };
  const node = clusterViewOf([status], QUEUE).nodes[0];
  assert.deepEqual(Object.keys(node ?? {}).sort(), ["load", "models", "name", "pool", "state", "tier"]);
  assert.ok(!JSON.stringify(node).includes("10.0.0.5"));
});

test("list_models: each model once, sorted, the largest context, every capability and node; down nodes serve nothing", () => {
  const statuses = [
    testNode("a", { model: "m", context: 4096, capabilities: ["chat", "embed"] }),
    testNode("b", { model: "m", context: 8192, capabilities: ["tools", "chat"] }),
    testNode("c", { model: "alpha", context: 2048 }),
    testNode("d", { model: "only-on-a-dead-node", health: "down" }),
  ];
  const view = modelsViewOf(statuses);
  assert.deepEqual(modelsView.parse(view), view);
  assert.deepEqual(view.models, [
    { id: "alpha", contextSize: 2048, capabilities: ["chat"], nodes: ["c"] },
    // Capabilities in the protocol's order, whatever order nodes reported them in.
    { id: "m", contextSize: 8192, capabilities: ["chat", "embed", "tools"], nodes: ["a", "b"] },
  ]);
  assert.deepEqual(modelsViewOf([]).models, []);
});
