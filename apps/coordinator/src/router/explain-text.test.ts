// Every code the router records has its sentence, word for word: the tables
// below are typed so that a code added to decision.ts without an entry here
// fails type-check, and each entry is the text users see today.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeUnfit, PickHow, RouteCandidate, RouteDecision, RouteStep, TierEmpty } from "./decision.ts";
import { candidateReason, ejectionText, howText, routeReason, sessionUnfitText, stepText, unfitText } from "./explain-text.ts";

/** One sample per member of a union keyed by `K`, with the text it must give. */
type Table<U, K extends keyof U> = { [C in U[K] & string]: readonly [U & Record<K, C>, string] };

const STEPS: Table<RouteStep, "code"> = {
  "model-unavailable": [{ code: "model-unavailable", model: "m", capability: "embed", because: "not-capable" }, "no node serves 'm' for embeddings"],
  classified: [{ code: "classified", class: "MEDIUM", by: "test" }, "MEDIUM (test)"],
  "tier-forced": [{ code: "tier-forced", class: "SIMPLE", tier: 2, fallback: false }, "SIMPLE, tier 2 forced without fallback"],
  planned: [{ code: "planned", model: "m", capability: "chat", needed: 200, tiers: [1, 2, 0] }, "model 'm'; needs 200 tokens; tiers 1, 2, 0"],
  "affinity-kept": [{ code: "affinity-kept", node: "a" }, "kept the session on a"],
  "affinity-dropped": [{ code: "affinity-dropped", node: "a", because: { code: "suspect" } }, "session node a not kept: it is suspect"],
  "tier-empty": [{ code: "tier-empty", tier: 0, because: "no-ready-node" }, "tier 0: no ready node"],
  "spilled-up": [{ code: "spilled-up", from: 0, to: 2, full: "small", busy: 4, slots: 4 }, "tier 0 full (small 4/4 busy), spilled up to tier 2"],
  "suspect-last-resort": [{ code: "suspect-last-resort", tier: 1 }, "no ready node can take it, so suspect node in tier 1"],
  "ejected-tried-anyway": [{ code: "ejected-tried-anyway", nodes: ["a", "b"] }, "circuit open on a, b, tried anyway: no other node can take it"],
  picked: [{ code: "picked", tier: 1, node: "a", how: "only-fit" }, "tier 1: a, the only one that fits"],
  "estimate-overruled": [
    { code: "estimate-overruled", estimated: 600, largestWindow: 512 },
    "an estimated 600 tokens (prompt and answer) fit no window (largest 512), but estimates overshoot: sent as if they fit, the node counts exactly",
  ],
};

const MODEL_UNAVAILABLE: Table<Extract<RouteStep, { code: "model-unavailable" }>, "because"> = {
  unknown: [{ code: "model-unavailable", model: "m", capability: "chat", because: "unknown" }, "no node serves 'm'"],
  "not-capable": [{ code: "model-unavailable", model: "m", capability: "embed", because: "not-capable" }, "no node serves 'm' for embeddings"],
  "all-down": [{ code: "model-unavailable", model: "m", capability: "chat", because: "all-down" }, "every node serving 'm' for chat is down or drained"],
};

const TIER_EMPTY: Table<TierEmpty, "because"> = {
  "no-ready-node": [{ because: "no-ready-node" }, "tier 0: no ready node"],
  "none-fits": [{ because: "none-fits", needed: 2049, largestWindow: 2048 }, "tier 0: no ready node fits 2049 tokens (largest window 2048)"],
  "all-excluded": [{ because: "all-excluded" }, "tier 0: every node that fits was excluded or has its circuit open"],
};

const PICKS: Table<PickHow, "how"> = {
  "local-free-slot": [{ how: "local-free-slot" }, "local with a free slot (prefer_local)"],
  "only-fit": [{ how: "only-fit" }, "the only one that fits"],
  "best-of-all": [{ how: "best-of-all", of: 3 }, "the best of all 3 that fit"],
  "one-sampled": [{ how: "one-sampled", of: 12 }, "the only one sampled of 12 (the others drawn were excluded)"],
  "two-sampled": [{ how: "two-sampled", of: 20, best: { busy: 0, slots: 4 }, other: { busy: 2, slots: 4 } }, "the better of 2 sampled of 20 (0/4 busy vs 2/4 busy)"],
};

/** Each reason a node is unfit: as a skipped candidate says it, and as a dropped session says it. */
const UNFIT: { [C in NodeUnfit["code"]]: readonly [Extract<NodeUnfit, { code: C }>, string, string] } = {
  down: [{ code: "down" }, "down", "it is down"],
  drained: [{ code: "drained" }, "drained", "it is drained"],
  suspect: [{ code: "suspect" }, "suspect (missed heartbeats)", "it is suspect"],
  gone: [{ code: "gone" }, "no longer serves the model", "it no longer serves the model (or is down or drained)"],
  "no-model": [{ code: "no-model", model: "m", capability: "embed" }, "does not serve 'm' for embeddings", "it does not serve 'm' for embeddings"],
  "context-too-small": [{ code: "context-too-small", window: 64, needed: 200 }, "context window 64 < 200 tokens needed", "its context window (64) is too small"],
  excluded: [{ code: "excluded" }, "excluded (already tried)", "excluded (already tried)"],
  "wrong-tier": [{ code: "wrong-tier", tier: 0, forced: 2 }, "tier 0 is not the forced tier", "it is in tier 0, not the forced tier 2"],
  "circuit-open": [{ code: "circuit-open", failures: 3, leftMs: 4_000 }, "circuit open after 3 failures, ejected 4.0 s more", "circuit open after 3 failures, ejected 4.0 s more"],
  paused: [{ code: "paused", leftMs: 2_450 }, "the node asked for time (Retry-After), 2.5 s more", "the node asked for time (Retry-After), 2.5 s more"],
  "half-open": [{ code: "half-open" }, "circuit half-open, its probe request is out", "circuit half-open, its probe request is out"],
};

test("every step code has its sentence", () => {
  for (const [step, text] of Object.values(STEPS)) assert.equal(stepText(step), text, step.code);
  for (const [step, text] of Object.values(MODEL_UNAVAILABLE)) assert.equal(stepText(step), text, step.because);
  for (const [empty, text] of Object.values(TIER_EMPTY)) assert.equal(stepText({ code: "tier-empty", tier: 0, ...empty }), text);
  // A plan names what the model must do, unless it is plain chat.
  assert.equal(stepText({ code: "planned", model: "m", capability: "tools", needed: 9, tiers: [0] }), "model 'm' for tool calls; needs 9 tokens; tiers 0");
  assert.equal(stepText({ code: "planned", model: "m", capability: "json", needed: 9, tiers: [0] }), "model 'm' for JSON output; needs 9 tokens; tiers 0");
  for (const [pick, text] of Object.values(PICKS)) assert.equal(howText(pick), text);
});

test("every reason a node is unfit has its sentence, skipped and for a session", () => {
  for (const [unfit, skipped, session] of Object.values(UNFIT)) {
    assert.equal(unfitText(unfit), skipped, unfit.code);
    assert.equal(sessionUnfitText(unfit), session, unfit.code);
  }
  assert.equal(ejectionText({ code: "paused", leftMs: 10_000 }), "the node asked for time (Retry-After), 10.0 s more");
});

const decision = (steps: RouteStep[], candidates: RouteCandidate[] = []): RouteDecision => ({
  kind: "chosen", class: "SIMPLE", node: "big", tier: 2, model: "m", affinity: false, full: false, promptTokens: 100, neededTokens: 200, steps, candidates,
});
const weighed = { node: "big", tier: 2, model: "m", score: 1, busy: 1, slots: 4, weight: 1, suspect: false } as const;

test("the reason joins the steps; a spill-up or last resort reads as one clause with its pick", () => {
  const classified: RouteStep = { code: "classified", class: "SIMPLE", by: "test" };
  const picked: RouteStep = { code: "picked", tier: 2, node: "big", how: "only-fit" };
  assert.equal(routeReason(decision([classified, picked])), "SIMPLE (test); tier 2: big, the only one that fits");
  assert.equal(
    routeReason(decision([classified, STEPS["spilled-up"][0], picked])),
    "SIMPLE (test); tier 0 full (small 4/4 busy), spilled up to tier 2: big, the only one that fits",
  );
  assert.equal(
    routeReason(decision([classified, { code: "suspect-last-resort", tier: 2 }, picked])),
    "SIMPLE (test); no ready node can take it, so suspect node in tier 2: big, the only one that fits",
  );
});

test("every candidate verdict has its sentence; the chosen one's says how it was picked", () => {
  const picked: RouteStep = { code: "picked", tier: 2, node: "big", how: "only-fit" };
  const chosen: RouteCandidate = { ...weighed, verdict: "chosen" };
  const cases: Record<RouteCandidate["verdict"], readonly [RouteCandidate, RouteStep[], string]> = {
    chosen: [chosen, [picked], "chosen: the only one that fits; 1/4 busy, weight 1"],
    "not-chosen": [{ ...weighed, verdict: "not-chosen", suspect: true }, [picked], "tier 2, not chosen: suspect (missed heartbeats), a last resort only; 1/4 busy, weight 1"],
    skipped: [{ node: "x", tier: 0, model: "m", score: 0, verdict: "skipped", because: { code: "drained" } }, [picked], "skipped: drained"],
  };
  for (const [candidate, steps, text] of Object.values(cases)) assert.equal(candidateReason(candidate, decision(steps, [candidate])), text);
  const chosenBy = (steps: RouteStep[]) => candidateReason(chosen, decision(steps, [chosen]));
  assert.equal(chosenBy([STEPS["spilled-up"][0], picked]), "chosen: spilled up from full tier 0, the only one that fits; 1/4 busy, weight 1");
  assert.equal(chosenBy([{ code: "suspect-last-resort", tier: 2 }, picked]), "chosen: suspect (missed heartbeats), a last resort; the only one that fits; 1/4 busy, weight 1");
  assert.equal(chosenBy([{ code: "affinity-kept", node: "big" }]), "the session's node (affinity); 1/4 busy, weight 1");
});
