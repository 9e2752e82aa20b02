// A decision as the router's tests read it: flat (null node, tier and model
// when there is none), with the words explain-text.ts gives it and its
// candidates, so that an assertion on a reason checks the sentence users see.
import type { Tier } from "@flotilla/protocol";
import type { RouteCandidate, RouteDecision, RouteStep, Unavailable } from "./decision.ts";
import { candidateReason, routeReason } from "./explain-text.ts";

export interface DecisionView {
  kind: RouteDecision["kind"];
  class: RouteDecision["class"];
  node: string | null;
  tier: Tier | null;
  model: string | null;
  unavailable: Unavailable | undefined;
  affinity: boolean;
  full: boolean;
  promptTokens: number;
  neededTokens: number;
  reason: string;
  steps: readonly RouteStep[];
  candidates: (RouteCandidate & { reason: string })[];
}

export function view(d: RouteDecision): DecisionView {
  const chosen = d.kind === "chosen" ? d : undefined;
  return {
    kind: d.kind,
    class: d.class,
    node: chosen?.node ?? null,
    tier: chosen?.tier ?? null,
    model: chosen?.model ?? null,
    unavailable: d.kind === "unavailable" ? d.why : undefined,
    affinity: chosen?.affinity ?? false,
    full: chosen?.full ?? false,
    promptTokens: d.promptTokens,
    neededTokens: d.neededTokens,
    reason: routeReason(d),
    steps: d.steps,
    candidates: d.candidates.map((c) => ({ ...c, reason: candidateReason(c, d) })),
  };
}

/** The step codes in order: what a test of the decision's record compares. */
export function codes(d: { steps: readonly RouteStep[] }): string[] {
  return d.steps.map((s) => s.code);
}
