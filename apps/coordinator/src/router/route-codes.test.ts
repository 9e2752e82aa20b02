// The decision's record as codes, read directly (the sentences are
// explain-text.test.ts's): what each path through route() leaves in
// `steps` and in its candidates' verdicts.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStatus } from "@flotilla/protocol";
import type { ComplexityClass } from "./classify.ts";
import type { Ejection, RouteDecision } from "./decision.ts";
import { explainRoute } from "./explain.ts";
import { route, type RouteOptions, type RouteRequest } from "./route.ts";
import { buildSnapshot } from "./snapshot.ts";
import { codes } from "./test-decisions.ts";
import { sequence, testNode } from "./test-nodes.ts";

const request = (cls: ComplexityClass = "SIMPLE", extra: Partial<RouteRequest> = {}): RouteRequest => ({
  model: "m",
  promptTokens: 100,
  maxTokens: 100,
  classification: { class: cls, reason: "test" },
  ...extra,
});

const decide = (nodes: NodeStatus[], req: RouteRequest, options: RouteOptions = {}, random: () => number = sequence(0.5)): RouteDecision =>
  route(req, buildSnapshot(nodes), options, random);

const verdicts = (d: RouteDecision) => d.candidates.map((c) => [c.node, c.verdict]);

test("a plain pick: classified, planned, picked, with how and the tier's count", () => {
  const d = decide([testNode("a", { tier: 1 }), testNode("b", { tier: 1, busy: 2 })], request("MEDIUM"));
  assert.equal(d.kind, "chosen");
  assert.deepEqual(d.steps, [
    { code: "classified", class: "MEDIUM", by: "test" },
    { code: "planned", model: "m", capability: "chat", needed: 200, tiers: [1, 2, 0] },
    { code: "picked", tier: 1, node: "a", how: "best-of-all", of: 2 },
  ]);
  assert.deepEqual(verdicts(d), [["a", "chosen"], ["b", "not-chosen"]]);
  const two = decide(Array.from({ length: 20 }, (_, i) => testNode(`n${i}`, { busy: i % 4 })), request(), {}, sequence(0.5, 0.05));
  assert.deepEqual(two.steps.at(-1), { code: "picked", tier: 0, node: "n0", how: "two-sampled", of: 20, best: { busy: 0, slots: 4 }, other: { busy: 2, slots: 4 } });
});

test("spill-up: the full node, the tiers, then the pick in the higher tier", () => {
  const nodes = [testNode("small", { tier: 0, busy: 4 }), testNode("big", { tier: 2, busy: 1 })];
  const d = decide(nodes, request("SIMPLE"));
  assert.deepEqual(codes(d), ["classified", "planned", "spilled-up", "picked"]);
  assert.deepEqual(d.steps[2], { code: "spilled-up", from: 0, to: 2, full: "small", busy: 4, slots: 4 });
  assert.deepEqual(d.steps[3], { code: "picked", tier: 2, node: "big", how: "only-fit" });
  assert.deepEqual(verdicts(d), [["big", "chosen"], ["small", "not-chosen"]]);
});

test("affinity: kept, or dropped with the code of why", () => {
  const kept = decide([testNode("idle"), testNode("s", { busy: 3 })], request("SIMPLE", { session: "c" }), { affinity: () => "s" });
  assert.deepEqual(codes(kept), ["classified", "planned", "affinity-kept"]);
  assert.deepEqual(verdicts(kept), [["s", "chosen"]]);

  const dropped = (nodes: NodeStatus[], extra: Partial<RouteRequest> = {}, options: RouteOptions = {}) => {
    const d = decide([testNode("fallback", { tier: 2 }), ...nodes], request("SIMPLE", { session: "c", ...extra }), { affinity: () => "s", ...options });
    assert.equal(d.kind === "chosen" ? d.node : null, "fallback");
    return d.steps.find((s) => s.code === "affinity-dropped");
  };
  const open: Ejection = { code: "circuit-open", failures: 3, leftMs: 4_000 };
  assert.deepEqual(dropped([testNode("s", { health: "suspect" })]), { code: "affinity-dropped", node: "s", because: { code: "suspect" } });
  assert.deepEqual(dropped([testNode("s", { drained: true })])?.because, { code: "gone" });
  assert.deepEqual(dropped([testNode("s", { context: 150 })])?.because, { code: "context-too-small", window: 150, needed: 200 });
  assert.deepEqual(dropped([testNode("s")], { exclude: new Set(["s"]) })?.because, { code: "excluded" });
  assert.deepEqual(dropped([testNode("s")], {}, { ejected: new Map([["s", open]]) })?.because, open);
  assert.deepEqual(dropped([testNode("s")], { forceTier: { tier: 2, fallback: true } })?.because, { code: "wrong-tier", tier: 0, forced: 2 });
});

test("suspect as the last resort: every ready tier empty, then the suspect pick", () => {
  const d = decide([testNode("s1", { tier: 1, health: "suspect" }), testNode("s2", { tier: 2, health: "suspect" })], request("COMPLEX"));
  assert.deepEqual(d.steps.slice(2), [
    { code: "tier-empty", tier: 2, because: "no-ready-node" },
    { code: "tier-empty", tier: 1, because: "no-ready-node" },
    { code: "tier-empty", tier: 0, because: "no-ready-node" },
    { code: "suspect-last-resort", tier: 2 },
    { code: "picked", tier: 2, node: "s2", how: "only-fit" },
  ]);
  assert.equal(d.candidates[0]?.verdict === "chosen" && d.candidates[0].suspect, true, "the chosen candidate is marked suspect");
});

test("ejected tried anyway: the first pass finds every node excluded, then the open circuits are weighed", () => {
  const open: Ejection = { code: "circuit-open", failures: 3, leftMs: 4_000 };
  const nodes = [testNode("only"), testNode("gpu-7", { model: "other" })];
  const d = decide(nodes, request(), { ejected: new Map([["only", open], ["gpu-7", open]]) });
  // One node serves the model: the tiers it is not in are not noted (route.ts, noteEmptyTiers).
  assert.deepEqual(d.steps.slice(2), [
    { code: "tier-empty", tier: 0, because: "all-excluded" },
    { code: "ejected-tried-anyway", nodes: ["only"] },
    { code: "picked", tier: 0, node: "only", how: "only-fit" },
  ]);
});

test("unavailable: the why and the step that says it", () => {
  const chatOnly = [testNode("c", { capabilities: ["chat"] })];
  const notCapable = decide(chatOnly, request("SIMPLE", { capability: "embed" }));
  assert.equal(notCapable.kind, "unavailable");
  assert.equal(notCapable.kind === "unavailable" && notCapable.why, "not-capable");
  assert.deepEqual(notCapable.steps, [{ code: "model-unavailable", model: "m", capability: "embed", because: "not-capable" }]);
  assert.deepEqual(verdicts(notCapable), []);

  const why = (d: RouteDecision) => (d.kind === "unavailable" ? d.why : d.node);
  const unknown = decide(chatOnly, request("SIMPLE", { model: "gpt-9" }));
  assert.deepEqual([why(unknown), unknown.steps[0]], ["unknown-model", { code: "model-unavailable", model: "gpt-9", capability: "chat", because: "unknown" }]);
  const tooLong = decide([testNode("a", { context: 4096 })], request("SIMPLE", { promptTokens: 9000 }));
  assert.equal(why(tooLong), "context-too-long");
  assert.deepEqual(tooLong.steps[2], { code: "tier-empty", tier: 0, because: "none-fits", needed: 9100, largestWindow: 4096 });
  const forced = decide([testNode("a")], request("SIMPLE", { forceTier: { tier: 2, fallback: false } }));
  assert.equal(why(forced), "tier-unavailable");
  assert.deepEqual(codes(forced), ["tier-forced", "planned", "tier-empty"]);
});

test("explainRoute: every other node with its verdict, the skipped with their code", () => {
  const nodes = [
    testNode("chosen", { tier: 1 }),
    testNode("sus", { tier: 1, health: "suspect" }),
    testNode("down", { tier: 1, health: "down" }),
    testNode("drained", { tier: 1, drained: true }),
    testNode("tiny", { tier: 1, context: 64 }),
    testNode("other", { tier: 1, model: "x" }),
    testNode("tried", { tier: 1 }),
    testNode("paused", { tier: 1 }),
  ];
  const ejected = new Map<string, Ejection>([["paused", { code: "paused", leftMs: 2_000 }]]);
  const d = explainRoute(request("MEDIUM", { exclude: new Set(["tried"]) }), buildSnapshot(nodes), { ejected }, sequence(0.5));
  assert.deepEqual(
    d.candidates.map((c) => [c.node, c.verdict === "skipped" ? c.because : c.verdict]),
    [
      ["chosen", "chosen"],
      ["sus", "not-chosen"],
      ["down", { code: "down" }],
      ["drained", { code: "drained" }],
      ["other", { code: "no-model", model: "m", capability: "chat" }],
      ["paused", { code: "paused", leftMs: 2_000 }],
      ["tiny", { code: "context-too-small", window: 64, needed: 200 }],
      ["tried", { code: "excluded" }],
    ],
  );
  const forced = explainRoute(request("MEDIUM", { forceTier: { tier: 2, fallback: false } }), buildSnapshot(nodes), {}, sequence(0.5));
  const chosen = forced.candidates.find((c) => c.node === "chosen");
  assert.deepEqual(chosen?.verdict === "skipped" ? chosen.because : undefined, { code: "wrong-tier", tier: 1, forced: 2 });
});
