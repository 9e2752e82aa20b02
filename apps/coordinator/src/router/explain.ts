// The router's decision with every node accounted for, for POST /cluster/route
// and the UI: route() weighs only the nodes it sampled (its cost must not grow
// with the fleet), so this walks the whole snapshot afterwards and says, for
// each node, its score or why it was skipped. O(nodes log nodes): for people
// asking, never for the request path.
import { route, tierOrder, type RouteCandidate, type RouteDecision, type RouteOptions, type RouteRequest } from "./route.ts";
import { resolveModel, type ClusterSnapshot, type SnapshotNode } from "./snapshot.ts";

export function explainRoute(
  request: RouteRequest,
  snapshot: ClusterSnapshot,
  options: RouteOptions,
  random: () => number,
): RouteDecision {
  const decision = route(request, snapshot, options, random);
  const { name, group } = resolveModel(snapshot, request.model, request.capability);
  const order = tierOrder(decision.class, request.forceTier);
  const eligible: { c: RouteCandidate; rank: number }[] = [];
  const skipped: RouteCandidate[] = [];

  for (const node of snapshot.nodes.values()) {
    if (node.name === decision.node) continue;
    const p = group?.byNode.get(node.name);
    const skip = (why: string): void => {
      skipped.push({ node: node.name, tier: node.tier, model: p?.model ?? name, score: 0, reason: `skipped: ${why}` });
    };
    if (node.health === "down") skip("down");
    else if (node.drained) skip("drained");
    else if (!p) skip(`does not serve '${name}'${request.capability === "embed" ? " for embeddings" : ""}`);
    else if (p.contextSize < decision.neededTokens) skip(`context window ${p.contextSize} < ${decision.neededTokens} tokens needed`);
    else if (request.exclude?.has(node.name)) skip("excluded (already tried)");
    else if (options.ejected?.has(node.name)) skip(options.ejected.get(node.name) ?? "circuit open");
    else if (!order.includes(node.tier)) skip(`tier ${node.tier} is not the forced tier`);
    else {
      const outstanding = options.outstanding?.(node.name) ?? p.outstanding;
      const score = Math.round((node.weight / (1 + outstanding / p.slots)) * 1000) / 1000;
      const suspect = node.health === "suspect";
      eligible.push({
        rank: order.indexOf(node.tier) + (suspect ? order.length : 0),
        c: { node: node.name, tier: node.tier, model: p.model, score, reason: `${describe(node, suspect)}; ${outstanding}/${p.slots} busy, weight ${node.weight}` },
      });
    }
  }
  eligible.sort((a, b) => a.rank - b.rank || b.c.score - a.c.score);
  skipped.sort((a, b) => a.node.localeCompare(b.node));
  const chosen = decision.candidates.find((c) => c.node === decision.node);
  return {
    ...decision,
    candidates: [...(chosen ? [chosen] : []), ...eligible.map((e) => e.c), ...skipped],
  };
}

function describe(node: SnapshotNode, suspect: boolean): string {
  const tier = `tier ${node.tier}, not chosen`;
  return suspect ? `${tier}: suspect (missed heartbeats), a last resort only` : tier;
}
