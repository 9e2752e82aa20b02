import { test } from "node:test";
import assert from "node:assert/strict";
import { buildSnapshot, fitting, resolveModel } from "./snapshot.ts";
import { testNode } from "./test-nodes.ts";

const names = (list: readonly { node: { name: string } }[]): string[] => list.map((p) => p.node.name);

test("nodes are indexed by model, tier and health; down and drained nodes are not routable", () => {
  const snap = buildSnapshot([
    testNode("a0", { tier: 0 }),
    testNode("b0", { tier: 0, health: "suspect" }),
    testNode("c1", { tier: 1 }),
    testNode("d1", { tier: 1, health: "down" }),
    testNode("e2", { tier: 2, drained: true }),
    testNode("f2", { tier: 2, model: "other" }),
  ]);
  const m = snap.byCapability.chat.groups.get("m");
  assert.ok(m);
  assert.deepEqual(names(m.tiers[0].ready), ["a0"]);
  assert.deepEqual(names(m.tiers[0].suspect), ["b0"]);
  assert.deepEqual(names(m.tiers[1].ready), ["c1"]);
  assert.deepEqual(names(m.tiers[2].ready), []);
  assert.deepEqual([...m.byNode.keys()].sort(), ["a0", "b0", "c1"]);
  assert.deepEqual(names(snap.byCapability.chat.groups.get("other")?.tiers[2].ready ?? []), ["f2"]);
  // Every node is kept for explanations, and every served name is known.
  assert.equal(snap.nodes.size, 6);
  assert.ok(snap.knownModels.has("m") && snap.knownModels.has("other"));
});

test("a model served only by down or drained nodes is known but has no group", () => {
  const snap = buildSnapshot([testNode("a", { model: "gone", health: "down" }), testNode("b", { model: "gone", drained: true })]);
  assert.equal(snap.byCapability.chat.groups.get("gone"), undefined);
  assert.ok(snap.knownModels.has("gone"));
});

test("tier lists are sorted by context window, largest first, and fitting() finds the prefix", () => {
  const snap = buildSnapshot([
    testNode("small", { context: 2048 }),
    testNode("big", { context: 32768 }),
    testNode("mid", { context: 8192 }),
  ]);
  const ready = snap.byCapability.chat.groups.get("m")?.tiers[0].ready ?? [];
  assert.deepEqual(names(ready), ["big", "mid", "small"]);
  assert.equal(fitting(ready, 1), 3);
  assert.equal(fitting(ready, 2048), 3);
  assert.equal(fitting(ready, 2049), 2);
  assert.equal(fitting(ready, 32768), 1);
  assert.equal(fitting(ready, 32769), 0);
  assert.equal(fitting([], 1), 0);
  assert.equal(snap.byCapability.chat.groups.get("m")?.largestContext, 32768);
});

test("aliases: the alias matches nodes serving any listed id, with the id each node uses", () => {
  const snap = buildSnapshot(
    [
      testNode("ollama", { model: "llama3.1:8b" }),
      testNode("llamacpp", { model: "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf" }),
      testNode("other", { model: "qwen2.5:7b" }),
    ],
    { aliases: { llama3: ["llama3.1:8b", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"] } },
  );
  const alias = snap.byCapability.chat.groups.get("llama3");
  assert.ok(alias);
  assert.deepEqual(
    [...alias.byNode.values()].map((p) => [p.node.name, p.model]).sort(),
    [["llamacpp", "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"], ["ollama", "llama3.1:8b"]],
  );
  // One way: the real id still names only its own nodes.
  assert.deepEqual([...(snap.byCapability.chat.groups.get("llama3.1:8b")?.byNode.keys() ?? [])], ["ollama"]);
  assert.ok(snap.knownModels.has("llama3"));
});

test("a node serving two ids of one alias counts once, with its larger window", () => {
  const snap = buildSnapshot(
    [
      testNode("n", {
        models: [
          { id: "a-small", contextSize: 2048, loadedAtMs: 0, slots: { total: 2, busy: 0, queued: 0 }, capabilities: ["chat"] },
          { id: "a-big", contextSize: 8192, loadedAtMs: 0, slots: { total: 1, busy: 0, queued: 0 }, capabilities: ["chat"] },
        ],
      }),
    ],
    { aliases: { a: ["a-small", "a-big"] } },
  );
  const alias = snap.byCapability.chat.groups.get("a");
  assert.equal(alias?.byNode.size, 1);
  assert.equal(alias?.byNode.get("n")?.model, "a-big");
  assert.equal(alias?.tiers[0].ready.length, 1);
});

test("auto: every routable node, each with its model of the largest window", () => {
  const snap = buildSnapshot([
    testNode("x", {
      tier: 2,
      models: [
        { id: "small", contextSize: 2048, loadedAtMs: 0, slots: { total: 4, busy: 0, queued: 0 }, capabilities: ["chat"] },
        { id: "large", contextSize: 16384, loadedAtMs: 0, slots: { total: 1, busy: 0, queued: 0 }, capabilities: ["chat"] },
      ],
    }),
    testNode("y", { tier: 0, model: "tiny" }),
    testNode("z", { tier: 1, health: "down" }),
  ]);
  assert.deepEqual([...snap.byCapability.chat.auto.byNode.keys()].sort(), ["x", "y"]);
  assert.equal(snap.byCapability.chat.auto.byNode.get("x")?.model, "large");
});

test("resolveModel: no name means the default model, and 'auto' or no default means auto", () => {
  const nodes = [testNode("a", { model: "llama" }), testNode("b", { model: "qwen" })];
  const withDefault = buildSnapshot(nodes, { defaultModel: "qwen" });
  assert.equal(resolveModel(withDefault, undefined).name, "qwen");
  assert.equal(resolveModel(withDefault, "").group?.name, "qwen");
  assert.equal(resolveModel(withDefault, "llama").group?.name, "llama");
  assert.equal(resolveModel(withDefault, "auto").group, withDefault.byCapability.chat.auto);
  const without = buildSnapshot(nodes);
  assert.equal(resolveModel(without, undefined).group, without.byCapability.chat.auto);
  assert.equal(resolveModel(without, "nope").group, undefined);
});

test("local nodes: kind local and the names given; weights default to 1 and nonsense weights too", () => {
  const snap = buildSnapshot(
    [
      testNode("in-process", { kind: "local" }),
      testNode("same-box", { weight: 3 }),
      testNode("remote", { weight: 0 }),
      testNode("odd", { weight: Number.NaN }),
    ],
    { localNodeNames: ["same-box"] },
  );
  assert.equal(snap.nodes.get("in-process")?.local, true);
  assert.equal(snap.nodes.get("same-box")?.local, true);
  assert.equal(snap.nodes.get("remote")?.local, false);
  assert.deepEqual(names(snap.byCapability.chat.groups.get("m")?.tiers[0].readyLocal ?? []).sort(), ["in-process", "same-box"]);
  assert.equal(snap.nodes.get("same-box")?.weight, 3);
  assert.equal(snap.nodes.get("remote")?.weight, 1);
  assert.equal(snap.nodes.get("odd")?.weight, 1);
});

test("load and slots are copied at build time; zero slots count as one", () => {
  const snap = buildSnapshot([testNode("a", { slots: 4, busy: 3, queued: 2 }), testNode("b", { slots: 0 })]);
  const m = snap.byCapability.chat.groups.get("m");
  assert.equal(m?.byNode.get("a")?.outstanding, 5);
  assert.equal(m?.byNode.get("b")?.slots, 1);
});

test("the snapshot is frozen, and the first of two nodes with one name counts", () => {
  const snap = buildSnapshot([testNode("a", { tier: 0 }), testNode("a", { tier: 2 })]);
  assert.ok(Object.isFrozen(snap));
  assert.ok(Object.isFrozen(snap.byCapability.chat.auto));
  assert.equal(snap.nodes.get("a")?.tier, 0);
});
