// The Router's own state around the pure decision: the cached snapshot, the
// coordinator's in-flight counts, and the session map.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { EmbeddingRequest, GenerationRequest, InferenceNode, NodeStatus, RunOptions, Workload, WorkloadResult } from "@flotilla/protocol";
import { NodeRegistry } from "../nodes/node-registry.ts";
import { Router, type RouterCircuits, type RouterCircuitView } from "./router.ts";
import { testNode, type NodeSpec } from "./test-nodes.ts";
import { view } from "./test-decisions.ts";
import { routeReason } from "./explain-text.ts";

/** A registry entry whose status the test sets; run is never called by the router. */
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
  run(_workload: Workload, _options: RunOptions): Promise<WorkloadResult> {
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
  assert.equal(view(await router.decide(ask("hi"), {})).node, "a");

  a.spec = { tier: 0, health: "down" };
  now = 50;
  assert.equal(view(await router.decide(ask("hi"), {})).node, "a", "within the max age the old picture holds");
  now = 100;
  assert.equal(view(await router.decide(ask("hi"), {})).node, null, "then the node is seen down");

  registry.add(new StaticNode("b", { tier: 0 }));
  assert.equal(view(await router.decide(ask("hi"), {})).node, "b", "a new node is seen at once");
});

test("requests in flight count against a node until released; sessions stick to their node", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("a", { tier: 0, slots: 1 }));
  registry.add(new StaticNode("b", { tier: 0, slots: 1 }));
  const router = new Router(registry, { nowMs: () => 0 });
  const first = view(await router.decide(ask("hi"), {}));
  assert.ok(first.node);
  const release = router.dispatched(first.node, "s1");
  const second = view(await router.decide(ask("hi"), {}));
  assert.notEqual(second.node, first.node, "the busy node is avoided");
  release();
  release(); // twice is harmless

  const again = view(await router.decide(ask("and then?"), { session: "s1" }));
  assert.equal(again.node, first.node);
  assert.equal(again.affinity, true);
});

test("an estimate somewhat over the context does not refuse the request: the node's exact count decides", async () => {
  const registry = new NodeRegistry();
  // ~254 tokens by estimate against 160: over, but under twice the window.
  registry.add(new StaticNode("small", { tier: 0, context: 160 }));
  const router = new Router(registry, { nowMs: () => 0 });
  const raw = await router.decide(ask("word ".repeat(200)), {});
  const decision = view(raw);
  assert.equal(decision.node, "small");
  // The reason says so first, so the re-decision's "needs N tokens" is not taken for the estimate.
  assert.deepEqual(raw.steps[0], { code: "estimate-overruled", estimated: 262, largestWindow: 160 });
  assert.match(routeReason(raw), /^an estimated 262 tokens \(prompt and answer\) fit no window \(largest 160\)/);
});

test("the least recently used session is forgotten past the limit", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("a", { tier: 0 }));
  registry.add(new StaticNode("b", { tier: 0 }));
  const router = new Router(registry, { nowMs: () => 0, maxSessions: 1 });
  router.dispatched("a", "old")();
  router.dispatched("b", "new")();
  assert.equal(view(await router.decide(ask("hi"), { session: "new" })).affinity, true);
  assert.equal(view(await router.decide(ask("hi"), { session: "old" })).affinity, false);
});

const embed = (items: string[], model = "m"): EmbeddingRequest => ({ model, input: { kind: "embedding", items, dimensions: undefined } });

test("a workload goes only to nodes whose model has its capability, and says so when none has", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("chatty", { tier: 0, capabilities: ["chat"] }));
  registry.add(new StaticNode("both", { tier: 2, capabilities: ["chat", "embed"] }));
  const router = new Router(registry, { nowMs: () => 0 });
  // A simple chat prefers tier 0; an embedding can only go to the node that embeds.
  assert.equal(view(await router.decide(ask("hi"), {})).node, "chatty");
  const embedding = view(await router.decide(embed(["hello", "world"]), {}));
  assert.equal(embedding.node, "both");
  assert.equal(embedding.class, "SIMPLE");

  const onlyChat = new NodeRegistry();
  onlyChat.add(new StaticNode("chatty", { tier: 0, capabilities: ["chat"] }));
  const refused = view(await new Router(onlyChat, { nowMs: () => 0 }).decide(embed(["hello"]), {}));
  assert.equal(refused.node, null);
  assert.equal(refused.unavailable, "not-capable");
  assert.match(refused.reason, /no node serves 'm' for embeddings/);
});

test("a request with tools needs a model that calls tools, one with a schema a model that writes JSON; the reason says so", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("plain", { tier: 0, capabilities: ["chat"] }));
  registry.add(new StaticNode("tooled", { tier: 2, capabilities: ["chat", "tools", "json"] }));
  const router = new Router(registry, { nowMs: () => 0 });
  const base = ask("hi");
  const withTools: GenerationRequest = { ...base, input: { kind: "chat", messages: [{ role: "user", content: "hi" }], tools: [{ name: "weather" }] } };
  const withSchema: GenerationRequest = { ...base, params: { ...base.params, responseFormat: { type: "json" } } };
  assert.equal(view(await router.decide(base, {})).node, "plain");
  assert.equal(view(await router.decide(withTools, {})).node, "tooled");
  assert.equal(view(await router.decide(withSchema, {})).node, "tooled");

  const plainOnly = new NodeRegistry();
  plainOnly.add(new StaticNode("plain", { tier: 0, capabilities: ["chat"] }));
  const refused = view(await new Router(plainOnly, { nowMs: () => 0 }).decide(withTools, {}));
  assert.equal(refused.unavailable, "not-capable");
  assert.match(refused.reason, /no node serves 'm' for tool calls/);
  assert.match(view(await new Router(plainOnly, { nowMs: () => 0 }).decide(withSchema, {})).reason, /no node serves 'm' for JSON output/);
});

test("a prompt whose estimate is far over every context window is refused; one near it is left to the node", async () => {
  const registry = new NodeRegistry();
  registry.add(new StaticNode("small", { tier: 0, context: 512 }));
  const router = new Router(registry, { nowMs: () => 0 });
  // About 4 characters a token: 10,000 characters is ~2,500 tokens, far over 512.
  const far = view(await router.decide(ask("word ".repeat(2_000)), {}));
  assert.equal(far.node, null);
  assert.equal(far.unavailable, "context-too-long");
  // ~600 tokens by estimate: over 512, but estimates overshoot, so the node decides.
  const near = view(await router.decide(ask("word ".repeat(480)), {}));
  assert.equal(near.node, "small");
});

test("decisions draw from the random source the router is given", async () => {
  const registry = new NodeRegistry();
  for (const name of ["a", "b", "c"]) registry.add(new StaticNode(name, { tier: 0 }));
  const pick = async (value: number) => view(await new Router(registry, { nowMs: () => 0, random: () => value }).decide(ask("hi"), {})).node;
  // Equal nodes: the reservoir tie-break follows the source, so the same value picks the same node.
  assert.equal(await pick(0.99), await pick(0.99));
  assert.notEqual(await pick(0.0), await pick(0.99));
});

test("open circuits reach the decision as codes with the time left, and are worded only when explained", async () => {
  const registry = new NodeRegistry();
  for (const name of ["failing", "paused", "probing", "fine"]) registry.add(new StaticNode(name, { tier: 0 }));
  const views: Record<string, RouterCircuitView> = {
    failing: { state: "open", consecutiveFailures: 3, ejectionLeftMs: 4_000, pausedByNode: false },
    paused: { state: "open", consecutiveFailures: 0, ejectionLeftMs: 2_450, pausedByNode: true },
    probing: { state: "half-open", consecutiveFailures: 3, ejectionLeftMs: 0, pausedByNode: false },
  };
  const circuits: RouterCircuits = {
    blocked: () => Object.keys(views),
    view: (name) => views[name] ?? { state: "closed", consecutiveFailures: 0, ejectionLeftMs: 0, pausedByNode: false },
    sent: () => undefined,
  };
  const explained = view(await new Router(registry, { nowMs: () => 0, circuits }).explain(ask("hi"), {}));
  assert.equal(explained.node, "fine");
  const skipped = (name: string) => explained.candidates.find((c) => c.node === name);
  const failing = skipped("failing");
  assert.deepEqual(failing?.verdict === "skipped" ? failing.because : undefined, { code: "circuit-open", failures: 3, leftMs: 4_000 });
  assert.deepEqual(
    ["failing", "paused", "probing"].map((name) => skipped(name)?.reason),
    [
      "skipped: circuit open after 3 failures, ejected 4.0 s more",
      "skipped: the node asked for time (Retry-After), 2.5 s more",
      "skipped: circuit half-open, its probe request is out",
    ],
  );
});

test("with declared pools, a request goes only to its pool's nodes; a roamer joins them once lent", async () => {
  const { PoolBook } = await import("../pools/pool-book.ts");
  const { clusterPool } = await import("../config/cluster-file-pools.ts");
  const registry = new NodeRegistry();
  registry.add(new StaticNode("brain-1", { tier: 0, pool: "brain", slots: 1 }));
  registry.add(new StaticNode("other", { tier: 0, pool: "default" }));
  registry.add(new StaticNode("roamer-1", { tier: 0, pool: "roamer" }));
  const pools = new PoolBook({ pools: { brain: clusterPool.parse({ kinds: ["chat"] }) }, templates: {} });
  const router = new Router(registry, { nowMs: () => 0, pools });
  router.dispatched("brain-1", undefined);

  const held = await router.decide(ask("hi"), {});
  assert.equal(view(held).node, "brain-1", "chat is the brain pool's: the free node of another pool is not taken");
  assert.equal(held.kind === "chosen" && held.full, true, "and the pool's only node is full: the request would wait");

  pools.lend("roamer-1", "brain");
  const lent = await router.decide(ask("hi"), {});
  assert.equal(view(lent).node, "roamer-1", "the lent roamer, free, is seen at once (the pools' version changed)");

  pools.unlend("roamer-1");
  const embedding = await router.decide(embed(["x"]), {});
  assert.notEqual(view(embedding).node, "roamer-1", "work no pool declares goes anywhere but to an idle roamer");
});

test("a refusal is decided on the nodes as they are now: a node back up is taken at once, not after the snapshot's age", async () => {
  let now = 0;
  const registry = new NodeRegistry();
  const a = new StaticNode("a", { tier: 0, health: "down" });
  registry.add(a);
  const router = new Router(registry, { nowMs: () => now, snapshotMaxAgeMs: 1_000 });
  assert.equal(view(await router.decide(ask("hi"), {})).node, null);
  a.spec = { tier: 0 };
  now = 10;
  assert.equal(view(await router.decide(ask("hi"), {})).node, "a", "within the max age, but the refusal would be stale");
});

test("a model its agent unloaded when idle counts as full, is the last choice, and is named for loading", async () => {
  const registry = new NodeRegistry();
  const unloadedModel = (id: string) => [{ id, contextSize: 4096, loadedAtMs: 0, slots: { total: 4, busy: 0, queued: 0 }, capabilities: ["chat" as const], state: "unloaded" as const }];
  registry.add(new StaticNode("cold", { tier: 0, models: unloadedModel("m") }));
  const router = new Router(registry, { nowMs: () => 0 });
  const only = await router.decide(ask("hi"), {});
  assert.equal(view(only).node, "cold");
  assert.equal(only.kind === "chosen" && only.full, true, "a request waits rather than being sent to a model that is not loaded");
  assert.deepEqual(router.unloaded(await router.plan(ask("hi"), {})), [{ node: "cold", model: "m" }]);

  registry.add(new StaticNode("warm", { tier: 0, slots: 1 }));
  router.dispatched("warm", undefined);
  const both = await router.decide(ask("hi"), {});
  assert.equal(view(both).node, "warm", "a loaded node, even full, goes before one that must load first");
});
