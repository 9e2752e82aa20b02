import { test } from "node:test";
import assert from "node:assert/strict";
import { NODE_STATE_TRANSITIONS, NODE_STATES, holdsLoad, nodeStateOf, takesWork, type NodeState } from "./node-state.ts";

test("one word per node: down beats drained, drained beats health", () => {
  assert.equal(nodeStateOf({ health: "ready", drained: false }), "ready");
  assert.equal(nodeStateOf({ health: "suspect", drained: false }), "suspect");
  assert.equal(nodeStateOf({ health: "down", drained: false }), "down");
  assert.equal(nodeStateOf({ health: "ready", drained: true }), "draining");
  assert.equal(nodeStateOf({ health: "suspect", drained: true }), "draining");
  assert.equal(nodeStateOf({ health: "down", drained: true }), "down", "a node that is gone finishes nothing");
});

test("only ready and suspect nodes take work; only down nodes hold no load", () => {
  assert.deepEqual(NODE_STATES.filter(takesWork), ["ready", "suspect"]);
  assert.deepEqual(NODE_STATES.filter((s) => !holdsLoad(s)), ["down"]);
});

test("every change of health or drain moves along the transition table", () => {
  const healths = ["ready", "suspect", "down"] as const;
  const inputs = healths.flatMap((health) => [false, true].map((drained) => ({ health, drained })));
  for (const from of inputs) {
    for (const to of inputs) {
      // One thing changes at a time: time or a heartbeat (health) or an operator (drain).
      if (from.health !== to.health && from.drained !== to.drained) continue;
      // Health only worsens with silence and comes back whole with a heartbeat: never down → suspect.
      if (from.health === "down" && to.health === "suspect") continue;
      const [a, b]: NodeState[] = [nodeStateOf(from), nodeStateOf(to)];
      if (a === b || a === undefined || b === undefined) continue;
      assert.ok(NODE_STATE_TRANSITIONS[a].includes(b), `${a} → ${b} (${JSON.stringify(from)} → ${JSON.stringify(to)}) is in the table`);
    }
  }
});
