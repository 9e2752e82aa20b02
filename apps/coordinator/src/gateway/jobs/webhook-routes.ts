// GET /v1/webhooks/secret: the secret that verifies the webhooks of the
// caller's jobs. Each key has its own (jobs/webhooks/webhook-signing.ts), so
// a key holder can check a webhook came from the coordinator for them.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebhookSecret } from "@flotilla/protocol";
import { rejectOtherMethods } from "../method-not-allowed.ts";

export interface WebhookRoutesOptions {
  ownerOf: (request: FastifyRequest) => string;
  secretFor: (owner: string) => string;
}

export function registerWebhookRoutes(app: FastifyInstance, options: WebhookRoutesOptions): void {
  app.get("/v1/webhooks/secret", (request): WebhookSecret => ({ object: "webhook_secret", secret: options.secretFor(options.ownerOf(request)) }));
  rejectOtherMethods(app, "/v1/webhooks/secret", ["GET"]);
}
