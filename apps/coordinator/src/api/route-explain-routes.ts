// POST /cluster/route: the body of a /v1/chat/completions request in, the
// router's decision out, without running anything — so a person can see why
// a request would land where it lands (and why other nodes would not).
// Admin-only (registered inside the admin-protected plugin).
import type { FastifyInstance } from "fastify";
import { chatCompletionRequest, type RouteExplanation } from "@flotilla/protocol";
import type { Router } from "../router/router.ts";
import { candidateReason, routeReason } from "../router/explain-text.ts";
import { chatToGeneration } from "../gateway/translate.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";
import { routeHints } from "../gateway/route-hints.ts";

export function registerRouteExplainRoutes(app: FastifyInstance, router: Router): void {
  // Typed with the schema readers parse it with (cluster-api.ts): the
  // router's decision may grow, this answer changes only on purpose.
  app.post("/cluster/route", async (request): Promise<RouteExplanation> => {
    const body = parseBody(chatCompletionRequest, request.body);
    const decision = await router.explain(chatToGeneration(body), routeHints(body, request.headers));
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
  });
  rejectOtherMethods(app, "/cluster/route", ["POST"]);
}
