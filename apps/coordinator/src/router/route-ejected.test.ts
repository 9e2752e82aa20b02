// route()'s `ejected` option (nodes whose circuit is open): skipped while
// any other node can take the request, in the same tier, a later tier or a
// sampled tier; tried anyway, with the reason saying so, when it is the last
// node able to serve the model; combined with `exclude`. Also `full` on the
// decision, and explainRoute() listing an ejected node as skipped.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStatus } from "@flotilla/protocol";
import type { ComplexityClass } from "./classify.ts";
import { buildSnapshot } from "./snapshot.ts";
import { route, type RouteOptions, type RouteRequest } from "./route.ts";
import type { Ejection } from "./decision.ts";
import { explainRoute } from "./explain.ts";
import { sequence, testNode } from "./test-nodes.ts";
import { view } from "./test-decisions.ts";

const request = (cls: ComplexityClass = "SIMPLE", extra: Partial<RouteRequest> = {}): RouteRequest => ({
  model: "m",
  promptTokens: 100,
  maxTokens: 100,
  classification: { class: cls, reason: "test" },
  ...extra,
});

const decide = (nodes: NodeStatus[], req: RouteRequest, options: RouteOptions = {}, random: () => number = sequence(0.5)) =>
  view(route(req, buildSnapshot(nodes), options, random));

const OPEN: Ejection = { code: "circuit-open", failures: 3, leftMs: 4_000 };
const OPEN_TEXT = "circuit open after 3 failures, ejected 4.0 s more";
const ejected = (...names: string[]): Map<string, Ejection> => new Map(names.map((n) => [n, OPEN]));

test("an ejected node is skipped while another node of its tier can take the request", () => {
  // "best" is idle and would win; "other" is half busy.
  const nodes = [testNode("best"), testNode("other", { busy: 2 })];
  assert.equal(decide(nodes, request()).node, "best", "without the circuit open, the idle node wins");
  const d = decide(nodes, request(), { ejected: ejected("best") });
  assert.equal(d.node, "other");
  assert.deepEqual(d.candidates.map((c) => c.node), ["other"], "the ejected node is not even weighed");
  assert.doesNotMatch(d.reason, /tried anyway/);
});

test("an ejected node is skipped for a node in a later tier rather than tried", () => {
  const nodes = [testNode("small", { tier: 0 }), testNode("big", { tier: 2 })];
  const d = decide(nodes, request("SIMPLE"), { ejected: ejected("small") });
  assert.equal(d.node, "big");
  assert.equal(d.tier, 2);
  assert.match(d.reason, /tier 0: every node that fits was excluded or has its circuit open/);
});

test("in a tier too large to scan, the random samples never land on an ejected node", () => {
  const nodes = Array.from({ length: 12 }, (_, i) => testNode(`n${i}`));
  const open = ejected(...nodes.slice(0, 11).map((n) => n.name));
  for (const r of [0, 0.1, 0.35, 0.5, 0.77, 0.99]) {
    assert.equal(decide(nodes, request(), { ejected: open, scanLimit: 4 }, sequence(r)).node, "n11", `random ${r}`);
  }
});

test("the last node able to serve the model is tried even with its circuit open, and the reason says so", () => {
  const nodes = [testNode("only", { model: "m" }), testNode("elsewhere", { model: "other-model" })];
  const d = decide(nodes, request(), { ejected: ejected("only") });
  assert.equal(d.node, "only");
  assert.equal(d.unavailable, undefined);
  assert.match(d.reason, /circuit open on only, tried anyway: no other node can take it/);

  // Same when the other nodes exist but cannot fit the request.
  const tooSmall = [testNode("only", { context: 8192 }), testNode("tiny", { context: 128 })];
  const fit = decide(tooSmall, request("SIMPLE", { promptTokens: 1_000 }), { ejected: ejected("only") });
  assert.equal(fit.node, "only");
  assert.match(fit.reason, /tried anyway/);
});

test("the reason names only this model's ejected nodes, and none when no ejected node could take the request", () => {
  // The router passes every blocked node of the cluster, whatever model it serves.
  const nodes = [testNode("only", { model: "m" }), testNode("gpu-7", { model: "other-model" })];
  const tried = decide(nodes, request(), { ejected: ejected("gpu-7", "only") });
  assert.equal(tried.node, "only");
  assert.match(tried.reason, /circuit open on only, tried anyway/);
  assert.doesNotMatch(tried.reason, /gpu-7/);

  const nothing = decide(nodes, request("SIMPLE", { exclude: new Set(["only"]) }), { ejected: ejected("gpu-7", "only") });
  assert.equal(nothing.node, null);
  assert.doesNotMatch(nothing.reason, /tried anyway/, "no node was tried despite its circuit");
});

test("ejected and exclude together: an excluded node is never chosen, an ejected one only as a last resort", () => {
  const three = [testNode("tried"), testNode("open"), testNode("fresh", { busy: 3 })];
  const withFresh = decide(three, request("SIMPLE", { exclude: new Set(["tried"]) }), { ejected: ejected("open") });
  assert.equal(withFresh.node, "fresh", "a busy healthy node beats an ejected one");

  const two = [testNode("tried"), testNode("open")];
  const lastResort = decide(two, request("SIMPLE", { exclude: new Set(["tried"]) }), { ejected: ejected("open") });
  assert.equal(lastResort.node, "open", "the ejected node before no answer at all");
  assert.match(lastResort.reason, /tried anyway/);

  const none = decide(two, request("SIMPLE", { exclude: new Set(["tried", "open"]) }), { ejected: ejected("open") });
  assert.equal(none.node, null, "an excluded node stays excluded even as a last resort");
  assert.equal(none.unavailable, "no-healthy-node");
});

test("the session's node is not kept while its circuit is open and another node can answer", () => {
  const nodes = [testNode("kept"), testNode("other")];
  const d = decide(nodes, request("SIMPLE", { session: "s1" }), { affinity: () => "kept", ejected: ejected("kept") });
  assert.equal(d.node, "other");
  assert.equal(d.affinity, false);
  assert.match(d.reason, /session node kept not kept: circuit open/);
});

test("full: true when the chosen node has no free slot, false otherwise", () => {
  const nodes = [testNode("a", { slots: 2 })];
  const withOutstanding = (n: number) => decide(nodes, request(), { outstanding: () => n });
  assert.equal(withOutstanding(0).full, false);
  assert.equal(withOutstanding(1).full, false);
  assert.equal(withOutstanding(2).full, true);
  assert.equal(withOutstanding(3).full, true);

  // From the snapshot's counts when the coordinator has none.
  assert.equal(decide([testNode("a", { slots: 4, busy: 3 })], request()).full, false);
  assert.equal(decide([testNode("a", { slots: 4, busy: 3, queued: 1 })], request()).full, true);

  // And for an ejected node tried as the last resort, or the session's node.
  assert.equal(decide(nodes, request(), { ejected: ejected("a"), outstanding: () => 2 }).full, true);
  assert.equal(decide(nodes, request("SIMPLE", { session: "s" }), { affinity: () => "a", outstanding: () => 2 }).full, true);
  assert.equal(decide(nodes, request("SIMPLE", { session: "s" }), { affinity: () => "a", outstanding: () => 1 }).full, false);

  const nobody = decide([testNode("a", { health: "down" })], request());
  assert.equal(nobody.node, null);
  assert.equal(nobody.full, false);
});

test("an agentless server is never full: its slot count is a guess, and its own queue is the one that counts", () => {
  for (const kind of ["openai", "ollama"] as const) {
    const d = decide([testNode("srv", { kind, slots: 4 })], request(), { outstanding: () => 40 });
    assert.equal(d.node, "srv");
    assert.equal(d.full, false);
  }
  assert.equal(decide([testNode("a", { kind: "local", slots: 4 })], request(), { outstanding: () => 4 }).full, true);
});

test("explainRoute lists an ejected node as skipped, with the reason given", () => {
  const nodes = [testNode("a"), testNode("b", { busy: 1 })];
  const d = view(explainRoute(request(), buildSnapshot(nodes), { ejected: ejected("a") }, sequence(0.5)));
  assert.equal(d.node, "b");
  const a = d.candidates.find((c) => c.node === "a");
  assert.ok(a, "the ejected node is accounted for");
  assert.equal(a.reason, `skipped: ${OPEN_TEXT}`);
  assert.equal(a.verdict, "skipped");
  assert.deepEqual(a.verdict === "skipped" ? a.because : undefined, OPEN, "the code and its numbers, as the Router passed them");
  assert.equal(a.score, 0);
  assert.equal(d.candidates[0]?.node, "b", "the chosen node comes first");
});
