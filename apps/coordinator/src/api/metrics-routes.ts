// GET /metrics: the Prometheus exposition. It names every node and model and
// shows the cluster's load, so it is not public: the admin key opens it, and so
// does an optional metrics key, which can sit in a Prometheus scrape config
// without handing out the admin key. Registered outside the admin plugin,
// with its own credential check.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "@flotilla/protocol";
import { bearerToken, secretsEqual } from "@flotilla/security";
import type { GatewayMetrics } from "../metrics/gateway-metrics.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";

export interface MetricsRoutesOptions {
  metrics: GatewayMetrics;
  adminKey: string;
  /** A key that opens /metrics and nothing else; undefined when none is configured. */
  metricsKey: string | undefined;
}

export function registerMetricsRoutes(app: FastifyInstance, options: MetricsRoutesOptions): void {
  const { metricsKey } = options;
  const requireMetricsKey = (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    const accepted = token !== undefined && (
      secretsEqual(token, options.adminKey) ||
      // An empty key configured by mistake must not open the endpoint.
      (metricsKey !== undefined && metricsKey !== "" && secretsEqual(token, metricsKey))
    );
    return accepted ? Promise.resolve() : Promise.reject(unauthorized(token));
  };

  app.get("/metrics", { onRequest: requireMetricsKey }, async (_request, reply) => {
    const { contentType, body } = await options.metrics.text();
    return reply.type(contentType).send(body);
  });
  // With the check, so that a caller without a key learns nothing, not even the methods.
  rejectOtherMethods(app, "/metrics", ["GET"], { onRequest: requireMetricsKey });
}

function unauthorized(token: string | undefined): FlotillaError {
  return new FlotillaError(
    "invalid_api_key",
    token === undefined ? "an API key is required: send `Authorization: Bearer <key>`" : "the API key is not valid",
  );
}
