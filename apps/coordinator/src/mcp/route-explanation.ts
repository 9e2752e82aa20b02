// The `explain_route` tool answers with what POST /cluster/route answers
// (router/explanation.ts), so what an MCP host reads is what an operator
// reads, and leads with the decision in words for a model to read first.
import type { RouteExplanation } from "@flotilla/protocol";

/** The decision in words, one line a person (or a model) reads first. */
export function explanationText(explanation: RouteExplanation): string {
  const where =
    explanation.node === null
      ? "No node can take this request now"
      : `It would go to ${explanation.node} (tier ${explanation.tier ?? "?"}), model ${explanation.model ?? "?"}`;
  const others = explanation.candidates.map((c) => `- ${c.node} (tier ${c.tier}): ${c.reason}`);
  return [`${where}. Class ${explanation.class}, about ${explanation.promptTokens} prompt tokens.`, `Why: ${explanation.reason}.`, ...(others.length > 0 ? ["Nodes:", ...others] : [])].join("\n");
}
