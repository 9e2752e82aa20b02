// The router's decision as POST /cluster/route and the MCP explain_route
// tool give it (RouteExplanation, whose schema readers parse it with:
// cluster-api.ts): the decision may grow, this answer changes only on purpose.
import type { RouteExplanation } from "@flotilla/protocol";
import type { RouteDecision } from "./decision.ts";
import { candidateReason, routeReason } from "./explain-text.ts";

export function explanationOf(decision: RouteDecision): RouteExplanation {
  const chosen = decision.kind === "chosen" ? decision : undefined;
  return {
    kind: decision.kind,
    ...(decision.kind === "unavailable" ? { unavailable: decision.why } : {}),
    class: decision.class,
    tier: chosen?.tier ?? null,
    node: chosen?.node ?? null,
    model: chosen?.model ?? null,
    reason: routeReason(decision),
    steps: [...decision.steps],
    affinity: chosen?.affinity ?? false,
    promptTokens: decision.promptTokens,
    candidates: decision.candidates.map((c) => ({
      node: c.node,
      tier: c.tier,
      score: c.score,
      reason: candidateReason(c, decision),
      verdict: c.verdict,
      ...(c.verdict === "skipped" ? { because: c.because } : {}),
    })),
  };
}
