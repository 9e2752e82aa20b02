import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStatus, Tier } from "@flotilla/protocol";
import type { ComplexityClass } from "./classify.ts";
import { buildSnapshot, type SnapshotOptions } from "./snapshot.ts";
import { COMPLETION_RESERVE_TOKENS, parseTier, route, tierOrder, type RouteOptions, type RouteRequest } from "./route.ts";
import { explainRoute } from "./explain.ts";
import { sequence, testNode } from "./test-nodes.ts";
import { view } from "./test-decisions.ts";

const request = (cls: ComplexityClass, extra: Partial<RouteRequest> = {}): RouteRequest => ({
  model: "m",
  promptTokens: 100,
  maxTokens: 100,
  classification: { class: cls, reason: "test" },
  ...extra,
});

const decide = (
  nodes: NodeStatus[],
  req: RouteRequest,
  options: RouteOptions = {},
  random: () => number = sequence(0.5),
  snapshotOptions: SnapshotOptions = {},
) => view(route(req, buildSnapshot(nodes, snapshotOptions), options, random));

const oneTier = (tier: Tier, name = `t${tier}`) => testNode(name, { tier });

// --- model awareness ---------------------------------------------------------

test("only nodes serving the requested model are candidates", () => {
  const nodes = [testNode("llama", { model: "llama" }), testNode("qwen", { model: "qwen", busy: 4 })];
  assert.equal(decide(nodes, request("SIMPLE", { model: "qwen" })).node, "qwen");
  assert.equal(decide(nodes, request("SIMPLE", { model: "llama" })).node, "llama");
});

test("an unknown model is unknown-model; one whose nodes are all down or drained is no-healthy-node", () => {
  const unknown = decide([testNode("a")], request("SIMPLE", { model: "gpt-9" }));
  assert.equal(unknown.node, null);
  assert.equal(unknown.unavailable, "unknown-model");
  assert.match(unknown.reason, /no node serves 'gpt-9'/);
  const down = decide([testNode("a", { health: "down" }), testNode("b", { drained: true })], request("SIMPLE"));
  assert.equal(down.node, null);
  assert.equal(down.unavailable, "no-healthy-node");
  assert.deepEqual(down.candidates, []);
});

test("an alias routes to a node serving a listed id, and the decision names the node's own id", () => {
  const d = decide(
    [testNode("ollama", { model: "llama3.1:8b" }), testNode("other", { model: "qwen" })],
    request("SIMPLE", { model: "llama3" }),
    {},
    sequence(0.5),
    { aliases: { llama3: ["llama3.1:8b"] } },
  );
  assert.equal(d.node, "ollama");
  assert.equal(d.model, "llama3.1:8b");
});

test("model auto (or none, without a default) lets flotilla choose model and node by tier", () => {
  const nodes = [testNode("small", { tier: 0, model: "qwen-1.5b" }), testNode("big", { tier: 2, model: "llama-70b" })];
  const simple = decide(nodes, request("SIMPLE", { model: "auto" }));
  assert.deepEqual([simple.node, simple.model], ["small", "qwen-1.5b"]);
  const complex = decide(nodes, request("COMPLEX", { model: undefined }));
  assert.deepEqual([complex.node, complex.model], ["big", "llama-70b"]);
});

test("no model with a configured default routes to the default model", () => {
  const nodes = [testNode("small", { tier: 0, model: "qwen-1.5b" }), testNode("big", { tier: 2, model: "llama-70b" })];
  const d = decide(nodes, request("SIMPLE", { model: undefined }), {}, sequence(0.5), { defaultModel: "llama-70b" });
  assert.deepEqual([d.node, d.model], ["big", "llama-70b"]);
});

// --- tiers ---------------------------------------------------------------------

test("tier order: SIMPLE 0,1,2; MEDIUM 1,2,0; COMPLEX 2,1,0", () => {
  assert.deepEqual(tierOrder("SIMPLE"), [0, 1, 2]);
  assert.deepEqual(tierOrder("MEDIUM"), [1, 2, 0]);
  assert.deepEqual(tierOrder("COMPLEX"), [2, 1, 0]);
  const all = [oneTier(0), oneTier(1), oneTier(2)];
  assert.equal(decide(all, request("SIMPLE")).tier, 0);
  assert.equal(decide(all, request("MEDIUM")).tier, 1);
  assert.equal(decide(all, request("COMPLEX")).tier, 2);
});

test("fallback order when tiers are missing, for every class and every set of tiers present", () => {
  const subsets: Tier[][] = [[0], [1], [2], [0, 1], [0, 2], [1, 2]];
  const classes: ComplexityClass[] = ["SIMPLE", "MEDIUM", "COMPLEX"];
  for (const present of subsets) {
    for (const cls of classes) {
      const expected = tierOrder(cls).find((t) => present.includes(t));
      const d = decide(present.map((t) => oneTier(t)), request(cls));
      assert.equal(d.tier, expected, `${cls} with tiers ${present.join(",")}`);
      assert.equal(d.node, `t${expected}`);
    }
  }
  // Two nodes: the tiers passed over are part of the story.
  const d = decide([oneTier(0), oneTier(0, "t0b")], request("COMPLEX"));
  assert.match(d.reason, /tier 2: no ready node; tier 1: no ready node; tier 0: t0/);
});

test("a lone node's route says no word about the tiers it is not in, unless a tier was forced", () => {
  const lone = decide([oneTier(0)], request("COMPLEX"));
  assert.equal(lone.node, "t0");
  assert.doesNotMatch(lone.reason, /no ready node/);
  assert.match(lone.reason, /tier 0: t0, the only one that fits/);
  const forced = decide([oneTier(0)], { ...request("COMPLEX"), forceTier: { tier: 2, fallback: false } });
  assert.match(forced.reason, /tier 2: no ready node/);
});

test("a preferred tier is kept even when its node is busier than a node of a later tier (with a free slot)", () => {
  const d = decide([testNode("small", { tier: 0, busy: 3 }), testNode("big", { tier: 2 })], request("SIMPLE"));
  assert.equal(d.node, "small");
});

// --- context window ----------------------------------------------------------

test("a node whose window is smaller than prompt + max_tokens is never a candidate, however idle", () => {
  const nodes = [testNode("small", { tier: 0, context: 2048 }), testNode("mid", { tier: 1, context: 8192, busy: 3 })];
  const fits = decide(nodes, request("SIMPLE", { promptTokens: 1000, maxTokens: 1000 }));
  assert.equal(fits.node, "small");
  const tooBig = decide(nodes, request("SIMPLE", { promptTokens: 1000, maxTokens: 1049 }));
  assert.equal(tooBig.node, "mid");
  assert.equal(tooBig.neededTokens, 2049);
  assert.match(tooBig.reason, /tier 0: no ready node fits 2049 tokens \(largest window 2048\)/);
  assert.ok(!tooBig.candidates.some((c) => c.node === "small"));
});

test("within a tier, only the nodes that fit are weighed", () => {
  const nodes = [
    testNode("idle-small", { context: 1024 }),
    testNode("busy-big", { context: 16384, busy: 3 }),
    testNode("busier-big", { context: 16384, busy: 4 }),
  ];
  const d = decide(nodes, request("SIMPLE", { promptTokens: 4000, maxTokens: 100 }));
  assert.equal(d.node, "busy-big");
  assert.deepEqual(d.candidates.map((c) => c.node), ["busy-big", "busier-big"]);
});

test("without max_tokens the prompt plus a small reserve must fit (configurable)", () => {
  const nodes = [testNode("n", { context: 1000 })];
  const ok = decide(nodes, request("SIMPLE", { promptTokens: 1000 - COMPLETION_RESERVE_TOKENS, maxTokens: undefined }));
  assert.equal(ok.node, "n");
  assert.equal(ok.neededTokens, 1000);
  const no = decide(nodes, request("SIMPLE", { promptTokens: 1000 - COMPLETION_RESERVE_TOKENS + 1, maxTokens: undefined }));
  assert.equal(no.node, null);
  const roomier = decide(nodes, request("SIMPLE", { promptTokens: 800, maxTokens: undefined }), { completionReserveTokens: 256 });
  assert.equal(roomier.node, null);
});

test("when no node's window fits, the answer is context-too-long with the sizes in the reason", () => {
  const d = decide([testNode("a", { context: 4096 }), testNode("b", { tier: 2, context: 8192 })], request("SIMPLE", { promptTokens: 9000 }));
  assert.equal(d.node, null);
  assert.equal(d.unavailable, "context-too-long");
  assert.equal(d.neededTokens, 9100);
  assert.match(d.reason, /needs 9100 tokens/);
  assert.match(d.reason, /largest window 8192/);
});

// --- forced tiers ----------------------------------------------------------------

test("a forced tier without fallback: only that tier, and tier-unavailable when it cannot serve", () => {
  const all = [oneTier(0), oneTier(1), oneTier(2)];
  const d = decide(all, request("SIMPLE", { forceTier: { tier: 2, fallback: false } }));
  assert.equal(d.node, "t2");
  assert.match(d.reason, /tier 2 forced without fallback/);
  const missing = decide([oneTier(0), oneTier(1)], request("COMPLEX", { forceTier: { tier: 2, fallback: false } }));
  assert.equal(missing.node, null);
  assert.equal(missing.unavailable, "tier-unavailable");
  // The forced tier's node is too small although another tier's would fit: still only the forced tier.
  const small = decide(
    [testNode("small2", { tier: 2, context: 1024 }), testNode("big1", { tier: 1, context: 32768 })],
    request("COMPLEX", { promptTokens: 2000, forceTier: { tier: 2, fallback: false } }),
  );
  assert.equal(small.unavailable, "tier-unavailable");
});

test("a forced tier with fallback follows the published order of that tier, whatever the class", () => {
  // Tier 0 → 0, 1, 2; tier 1 → 1, 2, 0; tier 2 → 2, 1, 0 (the order of the class that starts there).
  assert.deepEqual(tierOrder("SIMPLE", { tier: 2, fallback: true }), [2, 1, 0]);
  assert.deepEqual(tierOrder("COMPLEX", { tier: 0, fallback: true }), [0, 1, 2]);
  assert.deepEqual(tierOrder("SIMPLE", { tier: 1, fallback: true }), [1, 2, 0]);
  assert.deepEqual(tierOrder("MEDIUM", { tier: 1, fallback: false }), [1]);
  // Forced tier 2 with no tier-2 node falls back to tier 1 first, even for a SIMPLE request.
  const d = decide([oneTier(0), oneTier(1)], request("SIMPLE", { forceTier: { tier: 2, fallback: true } }));
  assert.equal(d.node, "t1");
  const forced = decide([oneTier(0), oneTier(1), oneTier(2)], request("SIMPLE", { forceTier: { tier: 1, fallback: true } }));
  assert.equal(forced.node, "t1");
});

test("parseTier accepts 0, 1, 2 as numbers or strings, nothing else", () => {
  assert.equal(parseTier(0), 0);
  assert.equal(parseTier("2"), 2);
  assert.equal(parseTier(1), 1);
  for (const bad of [3, -1, "x", "1.0", 1.5, null, undefined, "", [1]]) assert.equal(parseTier(bad), undefined);
});

// --- load balancing --------------------------------------------------------------

test("the least outstanding requests relative to slots wins", () => {
  const d = decide(
    [testNode("a", { slots: 4, busy: 2 }), testNode("b", { slots: 8, busy: 3 }), testNode("c", { slots: 1, busy: 0, queued: 1 })],
    request("SIMPLE"),
  );
  assert.equal(d.node, "b"); // 3/8 < 2/4 < 1/1
  assert.deepEqual(d.candidates.map((c) => c.node), ["b", "a", "c"]);
  assert.ok((d.candidates[0]?.score ?? 0) > (d.candidates[1]?.score ?? 0));
  assert.match(d.candidates[0]?.reason ?? "", /^chosen: .*3\/8 busy, weight 1$/);
});

test("the live outstanding lookup overrides the snapshot's load", () => {
  const nodes = [testNode("a", { busy: 0 }), testNode("b", { busy: 3 })];
  const live = new Map([["a", 4], ["b", 0]]);
  assert.equal(decide(nodes, request("SIMPLE"), { outstanding: (n) => live.get(n) }).node, "b");
  assert.equal(decide(nodes, request("SIMPLE"), { outstanding: () => undefined }).node, "a");
});

test("weights: a heavier node looks proportionally less loaded", () => {
  const nodes = [testNode("light", { busy: 1 }), testNode("heavy", { busy: 2, weight: 3 })];
  const d = decide(nodes, request("SIMPLE"));
  assert.equal(d.node, "heavy"); // 3 / (1 + 2/4) = 2 > 1 / (1 + 1/4) = 0.8
  assert.equal(d.candidates[0]?.score, 2);
});

test("measured latency breaks exact ties: first token, then total time; unknown latency does not", () => {
  const tie = [
    testNode("slow", { firstTokenMs: 300, totalMs: 900 }),
    testNode("fast", { firstTokenMs: 120, totalMs: 2000 }),
    testNode("busy-but-fastest", { busy: 1, firstTokenMs: 10, totalMs: 10 }),
  ];
  assert.equal(decide(tie, request("SIMPLE")).node, "fast");
  const sameFirst = [testNode("long", { firstTokenMs: 100, totalMs: 900 }), testNode("short", { firstTokenMs: 100, totalMs: 400 })];
  assert.equal(decide(sameFirst, request("SIMPLE")).node, "short");
  // A node not measured yet ties with a measured one; the random draw decides.
  const fresh = [testNode("measured", { firstTokenMs: 100, totalMs: 400 }), testNode("new")];
  assert.equal(decide(fresh, request("SIMPLE"), {}, sequence(0.9)).node, "measured");
  assert.equal(decide(fresh, request("SIMPLE"), {}, sequence(0.1)).node, "new");
});

test("exact ties are broken at random, evenly, so a stale snapshot does not send everything to one node", () => {
  const snap = buildSnapshot([testNode("a"), testNode("b"), testNode("c")]);
  const counts = new Map<string, number>();
  let seed = 1;
  const lcg = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 3000; i++) {
    const node = view(route(request("SIMPLE"), snap, {}, lcg)).node ?? "";
    counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  for (const name of ["a", "b", "c"]) assert.ok((counts.get(name) ?? 0) > 850, `${name}: ${counts.get(name)}`);
});

test("power of two choices past scanLimit: two nodes sampled, the better one wins", () => {
  const nodes = Array.from({ length: 20 }, (_, i) => testNode(`n${i}`, { busy: i % 4 }));
  // Sorted by window (all equal): list order is n0..n19. 0.5 → index 10 (n10, busy 2); 0.05 → index 0 of the rest (n0, busy 0).
  const d = decide(nodes, request("SIMPLE"), {}, sequence(0.5, 0.05));
  assert.equal(d.node, "n0");
  assert.deepEqual(d.candidates.map((c) => c.node), ["n0", "n10"]);
  assert.match(d.reason, /the better of 2 sampled of 20 \(0\/4 busy vs 2\/4 busy\)/);
  // The same fleet scanned whole when the limit allows: the exact best.
  const scanned = decide(nodes, request("SIMPLE"), { scanLimit: 20 }, sequence(0.99));
  assert.equal(scanned.candidates.length, 20);
  assert.equal(scanned.candidates[0]?.score, 1);
});

test("the two samples are distinct nodes", () => {
  const nodes = Array.from({ length: 10 }, (_, i) => testNode(`n${i}`));
  for (const [r1, r2] of [[0, 0], [0.99, 0.99], [0.3, 0.3]] as const) {
    const d = decide(nodes, request("SIMPLE"), {}, sequence(r1, r2));
    const [a, b] = d.candidates;
    assert.notEqual(a?.node, b?.node);
  }
});

test("a decision costs the same at 10,000 nodes: two nodes weighed, two load lookups", () => {
  // Every node has a free slot, so no spill-up sampling of a second tier (that would be two more).
  const nodes = Array.from({ length: 10_000 }, (_, i) => testNode(`n${i}`, { tier: (i % 3) as Tier, busy: i % 4 }));
  const snap = buildSnapshot(nodes);
  let lookups = 0;
  const outstanding = (): number | undefined => {
    lookups++;
    return undefined;
  };
  for (const cls of ["SIMPLE", "MEDIUM", "COMPLEX"] as const) {
    lookups = 0;
    const d = route(request(cls), snap, { outstanding }, sequence(0.3, 0.7));
    assert.equal(d.candidates.length, 2);
    assert.equal(lookups, 2);
  }
});

// --- prefer_local ------------------------------------------------------------------

test("prefer_local: a local node with a free slot wins over a less loaded remote one in its tier", () => {
  const nodes = [testNode("remote", { busy: 0 }), testNode("here", { kind: "local", busy: 3 })];
  const d = decide(nodes, request("SIMPLE"), { preferLocal: true });
  assert.equal(d.node, "here");
  assert.match(d.reason, /local with a free slot \(prefer_local\)/);
  assert.equal(decide(nodes, request("SIMPLE")).node, "remote");
});

test("prefer_local: a full local node, one that does not fit, or one in a later tier does not win", () => {
  const full = [testNode("remote", { busy: 1 }), testNode("here", { kind: "local", busy: 4 })];
  assert.equal(decide(full, request("SIMPLE"), { preferLocal: true }).node, "remote");
  const small = [testNode("remote", { busy: 1 }), testNode("here", { kind: "local", context: 150 })];
  assert.equal(decide(small, request("SIMPLE"), { preferLocal: true }).node, "remote");
  const otherTier = [testNode("remote", { tier: 0, busy: 2 }), testNode("here", { kind: "local", tier: 1 })];
  assert.equal(decide(otherTier, request("SIMPLE"), { preferLocal: true }).node, "remote");
});

test("prefer_local covers nodes named local in the snapshot options", () => {
  const nodes = [testNode("remote"), testNode("same-box", { busy: 2 })];
  const d = decide(nodes, request("SIMPLE"), { preferLocal: true }, sequence(0.5), { localNodeNames: ["same-box"] });
  assert.equal(d.node, "same-box");
});

// --- session affinity -----------------------------------------------------------------

const sessions = new Map([["conv-1", "busy"]]);
const affinity = (session: string): string | undefined => sessions.get(session);

test("affinity: a conversation stays on its node while it is healthy, even when another is less loaded", () => {
  const nodes = [testNode("idle"), testNode("busy", { busy: 3 })];
  const d = decide(nodes, request("SIMPLE", { session: "conv-1" }), { affinity });
  assert.equal(d.node, "busy");
  assert.equal(d.affinity, true);
  assert.match(d.candidates[0]?.reason ?? "", /affinity/);
  const other = decide(nodes, request("SIMPLE", { session: "conv-2" }), { affinity });
  assert.equal(other.node, "idle");
  assert.equal(other.affinity, false);
  const noLookup = decide(nodes, request("SIMPLE", { session: "conv-1" }));
  assert.equal(noLookup.affinity, false);
});

test("affinity holds across tiers: the conversation's cache matters more than the new message's class", () => {
  const nodes = [testNode("big", { tier: 2 }), testNode("busy", { tier: 0 })];
  const d = decide(nodes, request("COMPLEX", { session: "conv-1" }), { affinity });
  assert.equal(d.node, "busy");
});

test("affinity is dropped when the node is suspect, down, drained, gone, too small, excluded or outside the forced tier", () => {
  const cases: { nodes: NodeStatus[]; req: Partial<RouteRequest>; why: RegExp }[] = [
    { nodes: [testNode("busy", { health: "suspect" })], req: {}, why: /it is suspect/ },
    { nodes: [testNode("busy", { health: "down" })], req: {}, why: /no longer serves the model \(or is down or drained\)/ },
    { nodes: [testNode("busy", { drained: true })], req: {}, why: /no longer serves/ },
    { nodes: [testNode("busy", { model: "other" })], req: {}, why: /no longer serves/ },
    { nodes: [testNode("busy", { context: 512 })], req: { promptTokens: 1000 }, why: /context window \(512\) is too small/ },
    { nodes: [testNode("busy")], req: { exclude: new Set(["busy"]) }, why: /excluded/ },
    { nodes: [testNode("busy", { tier: 0 })], req: { forceTier: { tier: 2, fallback: true } }, why: /not the forced tier 2/ },
  ];
  for (const { nodes, req, why } of cases) {
    const d = decide([testNode("fallback", { tier: 2 }), ...nodes], request("SIMPLE", { session: "conv-1", ...req }), { affinity });
    assert.equal(d.node, "fallback", why.source);
    assert.equal(d.affinity, false);
    assert.match(d.reason, why);
  }
});

// --- health ----------------------------------------------------------------------------

test("suspect nodes are skipped while any ready node can take the request, in any tier", () => {
  const d = decide([testNode("suspect0", { tier: 0, health: "suspect" }), testNode("ready2", { tier: 2, busy: 4 })], request("SIMPLE"));
  assert.equal(d.node, "ready2");
});

test("suspect nodes are a last resort, said in the reason, and can be turned off", () => {
  const nodes = [testNode("s1", { tier: 1, health: "suspect" }), testNode("s2", { tier: 2, health: "suspect" }), testNode("d", { health: "down" })];
  const d = decide(nodes, request("COMPLEX"));
  assert.equal(d.node, "s2");
  assert.match(d.reason, /no ready node can take it, so suspect node in tier 2/);
  assert.match(d.candidates[0]?.reason ?? "", /suspect/);
  const off = decide(nodes, request("COMPLEX"), { suspectAsLastResort: false });
  assert.equal(off.node, null);
  assert.equal(off.unavailable, "no-healthy-node");
});

test("down and drained nodes are never chosen, whatever else fails", () => {
  const nodes = [testNode("down", { health: "down" }), testNode("drained", { drained: true })];
  for (const cls of ["SIMPLE", "MEDIUM", "COMPLEX"] as const) {
    assert.equal(decide(nodes, request(cls)).node, null);
    assert.equal(decide(nodes, request(cls), { suspectAsLastResort: true }).node, null);
  }
});

// --- spill up -------------------------------------------------------------------------------

test("spill up: a full preferred tier hands the request to a higher tier with a free slot", () => {
  const nodes = [testNode("small", { tier: 0, busy: 4 }), testNode("mid", { tier: 1, busy: 4, queued: 1 }), testNode("big", { tier: 2, busy: 1 })];
  const d = decide(nodes, request("SIMPLE"));
  assert.equal(d.node, "big");
  assert.match(d.reason, /tier 0 full \(small 4\/4 busy\), spilled up to tier 2/);
  assert.ok(d.candidates.some((c) => c.node === "small"));
});

test("spill up: not when every later tier is full, not downwards, not when a tier is forced or it is off", () => {
  const allFull = [testNode("small", { tier: 0, busy: 4 }), testNode("big", { tier: 2, busy: 4 })];
  assert.equal(decide(allFull, request("SIMPLE")).node, "small");
  const bigFull = [testNode("small", { tier: 0 }), testNode("big", { tier: 2, busy: 4 })];
  assert.equal(decide(bigFull, request("COMPLEX")).node, "big");
  const mediumFull = [testNode("small", { tier: 0 }), testNode("mid", { tier: 1, busy: 4 })];
  assert.equal(decide(mediumFull, request("MEDIUM")).node, "mid");
  const fullSmall = [testNode("small", { tier: 0, busy: 4 }), testNode("big", { tier: 2 })];
  assert.equal(decide(fullSmall, request("SIMPLE", { forceTier: { tier: 0, fallback: true } })).node, "small");
  assert.equal(decide(fullSmall, request("SIMPLE"), { spillUp: false }).node, "small");
});

// --- retries -----------------------------------------------------------------------------------

test("excluded nodes (earlier tries) are not chosen; when all are excluded, no-healthy-node", () => {
  const nodes = [testNode("a"), testNode("b", { busy: 2 }), testNode("c", { tier: 1 })];
  assert.equal(decide(nodes, request("SIMPLE", { exclude: new Set(["a"]) })).node, "b");
  const next = decide(nodes, request("SIMPLE", { exclude: new Set(["a", "b"]) }));
  assert.equal(next.node, "c");
  assert.match(next.reason, /tier 0: every node that fits was excluded/);
  const none = decide(nodes, request("SIMPLE", { exclude: new Set(["a", "b", "c"]) }));
  assert.equal(none.unavailable, "no-healthy-node");
});

test("sampling that keeps drawing excluded nodes falls back to a scan of the tier", () => {
  const nodes = Array.from({ length: 12 }, (_, i) => testNode(`n${i}`));
  const exclude = new Set(nodes.slice(0, 11).map((n) => n.name));
  const d = decide(nodes, request("SIMPLE", { exclude }), {}, sequence(0));
  assert.equal(d.node, "n11");
  // One non-excluded draw and then only excluded ones: that one alone.
  const one = decide(nodes, request("SIMPLE", { exclude: new Set(nodes.slice(1).map((n) => n.name)) }), {}, sequence(0, 0.5));
  assert.equal(one.node, "n0");
  assert.equal(one.candidates.length, 1);
});

// --- the decision -----------------------------------------------------------------------------

test("the decision has the class, tier, node, model, ranked candidates with scores and reasons, and the token estimate", () => {
  const d = decide([testNode("a", { tier: 1 }), testNode("b", { tier: 1, busy: 2 })], request("MEDIUM", { promptTokens: 42, maxTokens: 8 }));
  assert.equal(d.class, "MEDIUM");
  assert.equal(d.tier, 1);
  assert.equal(d.node, "a");
  assert.equal(d.model, "m");
  assert.equal(d.promptTokens, 42);
  assert.equal(d.neededTokens, 50);
  assert.equal(d.affinity, false);
  assert.equal(d.unavailable, undefined);
  assert.deepEqual(d.candidates.map((c) => [c.node, c.score]), [["a", 1], ["b", 0.667]]);
  for (const c of d.candidates) assert.ok(c.reason.length > 0);
  assert.match(d.reason, /^MEDIUM \(test\); model 'm'; needs 50 tokens; tiers 1, 2, 0; tier 1: a, the best of all 2 that fit$/);
});

test("route() reads the snapshot and never changes it", () => {
  const snap = buildSnapshot([testNode("a"), testNode("b", { tier: 2 })]);
  const before = JSON.stringify([...snap.byCapability.chat.groups.values()].map((g) => g.tiers));
  for (const cls of ["SIMPLE", "MEDIUM", "COMPLEX"] as const) route(request(cls), snap, {}, sequence(0.5));
  assert.equal(JSON.stringify([...snap.byCapability.chat.groups.values()].map((g) => g.tiers)), before);
});

// --- explain -----------------------------------------------------------------------------------

test("explainRoute: every node is listed, the chosen one first, then the eligible by preference, then the skipped with why", () => {
  const nodes = [
    testNode("chosen", { tier: 1 }),
    testNode("later", { tier: 2 }),
    testNode("busier", { tier: 1, busy: 2 }),
    testNode("sus", { tier: 1, health: "suspect" }),
    testNode("down", { tier: 1, health: "down" }),
    testNode("drained", { tier: 1, drained: true }),
    testNode("tiny", { tier: 1, context: 64 }),
    testNode("other", { tier: 1, model: "x" }),
  ];
  const d = view(explainRoute(request("MEDIUM"), buildSnapshot(nodes), {}, sequence(0.5)));
  assert.equal(d.node, "chosen");
  assert.deepEqual(
    d.candidates.map((c) => [c.node, c.reason.split(";")[0]]),
    [
      ["chosen", "chosen: the best of all 2 that fit"],
      ["busier", "tier 1, not chosen"],
      ["later", "tier 2, not chosen"],
      ["sus", "tier 1, not chosen: suspect (missed heartbeats), a last resort only"],
      ["down", "skipped: down"],
      ["drained", "skipped: drained"],
      ["other", "skipped: does not serve 'm'"],
      ["tiny", "skipped: context window 64 < 200 tokens needed"],
    ],
  );
  const forced = view(explainRoute(request("MEDIUM", { forceTier: { tier: 2, fallback: false }, exclude: new Set(["busier"]) }), buildSnapshot(nodes), {}, sequence(0.5)));
  assert.equal(forced.node, "later");
  assert.match(forced.candidates.find((c) => c.node === "chosen")?.reason ?? "", /tier 1 is not the forced tier/);
  assert.match(forced.candidates.find((c) => c.node === "busier")?.reason ?? "", /excluded/);
  const nothing = view(explainRoute(request("MEDIUM", { model: "nope" }), buildSnapshot(nodes), {}, sequence(0.5)));
  assert.equal(nothing.node, null);
  assert.equal(nothing.candidates.length, nodes.length);
});
