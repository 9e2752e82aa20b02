// The one place the router's codes (decision.ts) become English: the reason
// in X-Flotilla-Route and POST /cluster/route, each candidate's reason, the
// dispatcher's errors. Built only when someone reads it, never while
// deciding. Every code has its sentence: each switch below is exhaustive
// (the compiler and @typescript-eslint/switch-exhaustiveness-check say so
// when a code is added), and explain-text.test.ts renders one of each.
// The wording is the one users and tests have seen; change it on purpose.
import type { Capability } from "@flotilla/protocol";
import type { Ejection, NodeUnfit, PickHow, RouteCandidate, RouteDecision, RouteStep, TierEmpty, WeighedCandidate } from "./decision.ts";

/** The decision in one line: its steps, in order, joined by "; ". */
export function routeReason(decision: RouteDecision): string {
  const parts: string[] = [];
  // A spill-up or a last resort reads as one clause with the pick it led to:
  // "tier 0 full (…), spilled up to tier 2: big, the only one that fits".
  let lead: string | undefined;
  for (const step of decision.steps) {
    if (step.code === "picked" && lead !== undefined) {
      parts.push(`${lead}: ${step.node}, ${howText(step)}`);
      lead = undefined;
      continue;
    }
    if (lead !== undefined) parts.push(lead);
    lead = undefined;
    if (step.code === "spilled-up" || step.code === "suspect-last-resort") lead = stepText(step);
    else parts.push(stepText(step));
  }
  if (lead !== undefined) parts.push(lead);
  return parts.join("; ");
}

/** One candidate's reason; the chosen one's comes from how the decision picked it. */
export function candidateReason(candidate: RouteCandidate, decision: RouteDecision): string {
  switch (candidate.verdict) {
    case "chosen":
      return `${chosenText(decision)}; ${loadText(candidate)}`;
    case "not-chosen":
      return `tier ${candidate.tier}, not chosen${candidate.suspect ? ": suspect (missed heartbeats), a last resort only" : ""}; ${loadText(candidate)}`;
    case "skipped":
      return `skipped: ${unfitText(candidate.because)}`;
  }
}

export function stepText(step: RouteStep): string {
  switch (step.code) {
    case "model-unavailable":
      return modelUnavailableText(step);
    case "classified":
      return `${step.class} (${step.by})`;
    case "tier-forced":
      return `${step.class}, tier ${step.tier} forced ${step.fallback ? "with" : "without"} fallback`;
    case "planned":
      return `model '${step.model}'${FOR_CAPABILITY[step.capability]}; needs ${step.needed} tokens; tiers ${step.tiers.join(", ")}`;
    case "affinity-kept":
      return `kept the session on ${step.node}`;
    case "affinity-dropped":
      return `session node ${step.node} not kept: ${sessionUnfitText(step.because)}`;
    case "tier-empty":
      return `tier ${step.tier}: ${tierEmptyText(step)}`;
    case "spilled-up":
      return `tier ${step.from} full (${step.full} ${step.busy}/${step.slots} busy), spilled up to tier ${step.to}`;
    case "suspect-last-resort":
      return `no ready node can take it, so suspect node in tier ${step.tier}`;
    case "ejected-tried-anyway":
      return `circuit open on ${step.nodes.join(", ")}, tried anyway: no other node can take it`;
    case "picked":
      return `tier ${step.tier}: ${step.node}, ${howText(step)}`;
    case "estimate-overruled":
      return `an estimated ${step.estimated} tokens (prompt and answer) fit no window (largest ${step.largestWindow}), but estimates overshoot: sent as if they fit, the node counts exactly`;
  }
}

function modelUnavailableText(step: Extract<RouteStep, { code: "model-unavailable" }>): string {
  switch (step.because) {
    case "unknown":
      return `no node serves '${step.model}'`;
    case "not-capable":
      return `no node serves '${step.model}'${FOR_CAPABILITY[step.capability]}`;
    case "all-down":
      return `every node serving '${step.model}'${FOR_CAPABILITY[step.capability] || " for chat"} is down or drained`;
  }
}

function tierEmptyText(empty: TierEmpty): string {
  switch (empty.because) {
    case "no-ready-node":
      return "no ready node";
    case "none-fits":
      return `no ready node fits ${empty.needed} tokens (largest window ${empty.largestWindow})`;
    case "all-excluded":
      return "every node that fits was excluded or has its circuit open";
  }
}

export function howText(pick: PickHow): string {
  switch (pick.how) {
    case "local-free-slot":
      return "local with a free slot (prefer_local)";
    case "only-fit":
      return "the only one that fits";
    case "best-of-all":
      return `the best of all ${pick.of} that fit`;
    case "one-sampled":
      return `the only one sampled of ${pick.of} (the others drawn were excluded)`;
    case "two-sampled":
      return `the better of 2 sampled of ${pick.of} (${pick.best.busy}/${pick.best.slots} busy vs ${pick.other.busy}/${pick.other.slots} busy)`;
  }
}

/** Why a node was skipped, as a candidate's reason says it. */
export function unfitText(unfit: NodeUnfit): string {
  switch (unfit.code) {
    case "down":
    case "drained":
      return unfit.code;
    case "suspect":
      return "suspect (missed heartbeats)";
    case "gone":
      return "no longer serves the model";
    case "no-model":
      return `does not serve '${unfit.model}'${FOR_CAPABILITY[unfit.capability]}`;
    case "context-too-small":
      return `context window ${unfit.window} < ${unfit.needed} tokens needed`;
    case "excluded":
      return "excluded (already tried)";
    case "wrong-tier":
      return `tier ${unfit.tier} is not the forced tier`;
    case "circuit-open":
    case "paused":
    case "half-open":
      return ejectionText(unfit);
  }
}

/** Why the session's node was not kept, as the affinity-dropped step says it. */
export function sessionUnfitText(unfit: NodeUnfit): string {
  switch (unfit.code) {
    case "down":
    case "drained":
    case "suspect":
      return `it is ${unfit.code}`;
    case "gone":
      return "it no longer serves the model (or is down or drained)";
    case "no-model":
      return `it does not serve '${unfit.model}'${FOR_CAPABILITY[unfit.capability]}`;
    case "context-too-small":
      return `its context window (${unfit.window}) is too small`;
    case "excluded":
      return "excluded (already tried)";
    case "wrong-tier":
      return `it is in tier ${unfit.tier}, not the forced tier ${unfit.forced}`;
    case "circuit-open":
    case "paused":
    case "half-open":
      return ejectionText(unfit);
  }
}

export function ejectionText(ejection: Ejection): string {
  switch (ejection.code) {
    case "circuit-open":
      return `circuit open after ${ejection.failures} failures, ejected ${seconds(ejection.leftMs)} s more`;
    case "paused":
      return `the node asked for time (Retry-After), ${seconds(ejection.leftMs)} s more`;
    case "half-open":
      return "circuit half-open, its probe request is out";
  }
}

/** Chat is what a model is assumed to do; anything else is named. */
const FOR_CAPABILITY: Record<Capability, string> = {
  chat: "",
  embed: " for embeddings",
  tools: " for tool calls",
  json: " for JSON output",
  tts: " for speech",
  stt: " for transcription",
};

/** The chosen candidate's words: how its step picked it (the last pick wins: a second pass follows a first). */
function chosenText(decision: RouteDecision): string {
  let text = "chosen";
  let before: RouteStep | undefined;
  for (const step of decision.steps) {
    if (step.code === "affinity-kept") text = "the session's node (affinity)";
    else if (step.code === "picked") text = `chosen: ${pickedBy(step, before)}`;
    before = step;
  }
  return text;
}

function pickedBy(pick: PickHow, before: RouteStep | undefined): string {
  if (before?.code === "spilled-up") return `spilled up from full tier ${before.from}, ${howText(pick)}`;
  if (before?.code === "suspect-last-resort") return `suspect (missed heartbeats), a last resort; ${howText(pick)}`;
  return howText(pick);
}

function loadText(c: WeighedCandidate): string {
  return `${c.busy}/${c.slots} busy, weight ${c.weight}`;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
