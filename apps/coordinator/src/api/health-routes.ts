// Liveness and readiness: unauthenticated, for load balancers and systemd.
import type { FastifyInstance } from "fastify";
import type { NodeRegistry } from "../nodes/node-registry.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";
import { readinessAdvice } from "./readiness-advice.ts";

export function registerHealthRoutes(app: FastifyInstance, registry: NodeRegistry, nowMs: () => number): void {
  app.get("/healthz", () => ({ status: "ok" }));

  app.get("/readyz", (_request, reply) => {
    const models = registry.models(nowMs()).map((m) => m.id);
    if (models.length > 0) return { status: "ready", models };
    return reply.code(503).send({
      status: "not_ready",
      models,
      message: readinessAdvice(registry.statuses(nowMs()).map((n) => ({ kind: n.kind, models: n.models.length }))),
    });
  });

  rejectOtherMethods(app, "/healthz", ["GET"]);
  rejectOtherMethods(app, "/readyz", ["GET"]);
}
