// POST /cluster/route: the body of a /v1/chat/completions request in, the
// router's decision out, without running anything — so a person can see why
// a request would land where it lands (and why other nodes would not).
// Admin-only (registered inside the admin-protected plugin).
import type { FastifyInstance } from "fastify";
import { chatCompletionRequest, type RouteExplanation } from "@flotilla/protocol";
import type { Router } from "../router/router.ts";
import { explanationOf } from "../router/explanation.ts";
import { chatToGeneration } from "../gateway/translate.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";
import { routeHints } from "../gateway/route-hints.ts";

export function registerRouteExplainRoutes(app: FastifyInstance, router: Router): void {
  app.post("/cluster/route", async (request): Promise<RouteExplanation> => {
    const body = parseBody(chatCompletionRequest, request.body);
    const decision = await router.explain(chatToGeneration(body), routeHints(body, request.headers));
    return explanationOf(decision);
  });
  rejectOtherMethods(app, "/cluster/route", ["POST"]);
}
