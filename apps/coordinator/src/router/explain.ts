// The router's decision with every node accounted for, for POST /cluster/route
// and the UI: route() weighs only the nodes it sampled (its cost must not grow
// with the fleet), so this walks the whole snapshot afterwards and gives each
// node its score or the code of why it was skipped (explain-text.ts words
// them). O(nodes log nodes): for people asking, never for the request path.
import type { NodeUnfit, RouteDecision, SkippedCandidate, WeighedCandidate } from "./decision.ts";
import { route, tierOrder, type RouteOptions, type RouteRequest } from "./route.ts";
import { resolveModel, type ClusterSnapshot } from "./snapshot.ts";

export function explainRoute(
  request: RouteRequest,
  snapshot: ClusterSnapshot,
  options: RouteOptions,
  random: () => number,
): RouteDecision {
  const decision = route(request, snapshot, options, random);
  const capability = request.capability ?? "chat";
  const { name, group } = resolveModel(snapshot, request.model, capability);
  const order = tierOrder(decision.class, request.forceTier);
  const needed = decision.neededTokens;
  const chosenNode = decision.kind === "chosen" ? decision.node : undefined;
  const eligible: { c: WeighedCandidate; rank: number }[] = [];
  const skipped: SkippedCandidate[] = [];

  for (const node of snapshot.nodes.values()) {
    if (node.name === chosenNode) continue;
    const p = group?.byNode.get(node.name);
    const skip = (because: NodeUnfit): void => {
      skipped.push({ node: node.name, tier: node.tier, model: p?.model ?? name, score: 0, verdict: "skipped", because });
    };
    const ejection = options.ejected?.get(node.name);
    if (node.health === "down") skip({ code: "down" });
    else if (node.drained) skip({ code: "drained" });
    else if (!p) skip({ code: "no-model", model: name, capability });
    else if (p.contextSize < needed) skip({ code: "context-too-small", window: p.contextSize, needed });
    else if (request.exclude?.has(node.name)) skip({ code: "excluded" });
    else if (ejection !== undefined) skip(ejection);
    else if (request.forceTier && !order.includes(node.tier)) skip({ code: "wrong-tier", tier: node.tier, forced: request.forceTier.tier });
    else {
      const outstanding = options.outstanding?.(node.name) ?? p.outstanding;
      const score = Math.round((node.weight / (1 + outstanding / p.slots)) * 1000) / 1000;
      const suspect = node.health === "suspect";
      eligible.push({
        rank: order.indexOf(node.tier) + (suspect ? order.length : 0),
        c: { node: node.name, tier: node.tier, model: p.model, score, verdict: "not-chosen", busy: outstanding, slots: p.slots, weight: node.weight, suspect },
      });
    }
  }
  eligible.sort((a, b) => a.rank - b.rank || b.c.score - a.c.score);
  skipped.sort((a, b) => a.node.localeCompare(b.node));
  const chosen = decision.candidates.filter((c) => c.verdict === "chosen");
  return { ...decision, candidates: [...chosen, ...eligible.map((e) => e.c), ...skipped] };
}
