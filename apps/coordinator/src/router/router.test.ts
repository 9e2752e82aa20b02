// The Router's own state around the pure decision: the cached snapshot, the
// coordinator's in-flight counts, and the session map.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { GenerateOptions, GenerationRequest, GenerationResult, InferenceNode, NodeStatus } from "@flotilla/protocol";
import { NodeRegistry } from "../registry/node-registry.ts";
import { Router } from "./router.ts";
import { testNode, type NodeSpec } from "./test-nodes.ts";

/** A registry entry whose status the test sets; generate is never called by the router. */
class StaticNode implements InferenceNode {
  readonly name: string;
  spec: NodeSpec;
  constructor(name: string, spec: NodeSpec) {
    this.name = name;
    this.spec = spec;
  }
  status(): NodeStatus {
    return testNode(this.name, this.spec);
  }
  generate(_request: GenerationRequest, _options: GenerateOptions): Promise<GenerationResult> {
    return Promise.reject(new Error("not used"));
  }
}

const ask = (content: string, model = "m"): GenerationRequest => ({
  model,
  input: { kind: "chat", messages: [{ role: "user", content }] },
  params: { maxTokens: 8, temperature: undefined, topP: undefined, seed: undefined, stop: [], presencePenalty: undefined, frequencyPenalty: undefined },
});

test("the snapshot is reused until it is too old or the node list changes", async () => {
  let now = 0;
  const registry = new NodeRegistry();
  const a = new StaticNode("a", { tier: 0 });
  registry.add(a);
  const router = new Router(registry, { nowMs: () => now, snapshotMaxAgeMs: 100 });
  assert.equal((await router.decide(ask("hi"), {})).node, "a");

  a.spec = { tier: 0, health: "down" };
  now = 50;
  assert.equal((await router.decide(ask("hi"), {})).node, "a", "within the max age the old picture holds");
  now = 100;
  assert.equal((await router.decide(ask("hi"), {})).node, null, "then the node is seen down");

  registry.add(new StaticNode("b", { tier: 0 }));
  assert.equal((await router.decide(ask("hi"), {})).node, "b", "a new node is seen at once");
});

test("requests in flight count against a node until released; sessions stick to their node", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("a", { tier: 0, slots: 1 }));
  registry.add(new StaticNode("b", { tier: 0, slots: 1 }));
  const router = new Router(registry, { nowMs: () => 0 });
  const first = await router.decide(ask("hi"), {});
  assert.ok(first.node);
  const release = router.dispatched(first.node, "s1");
  const second = await router.decide(ask("hi"), {});
  assert.notEqual(second.node, first.node, "the busy node is avoided");
  release();
  release(); // twice is harmless

  const again = await router.decide(ask("and then?"), { session: "s1" });
  assert.equal(again.node, first.node);
  assert.equal(again.affinity, true);
});

test("an oversized estimate does not refuse the request: the node's exact count decides", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("small", { tier: 0, context: 64 }));
  const router = new Router(registry, { nowMs: () => 0 });
  const decision = await router.decide(ask("word ".repeat(200)), {});
  assert.equal(decision.node, "small");
});

test("the least recently used session is forgotten past the limit", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("a", { tier: 0 }));
  registry.add(new StaticNode("b", { tier: 0 }));
  const router = new Router(registry, { nowMs: () => 0, maxSessions: 1 });
  router.dispatched("a", "old")();
  router.dispatched("b", "new")();
  assert.equal((await router.decide(ask("hi"), { session: "new" })).affinity, true);
  assert.equal((await router.decide(ask("hi"), { session: "old" })).affinity, false);
});
