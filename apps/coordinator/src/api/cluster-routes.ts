// The cluster API: admin credentials only. Status of the nodes, and the
// client API keys behind `flotilla keys`.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { FlotillaError } from "@flotilla/protocol";
import type { NodeRegistry } from "../registry/node-registry.ts";
import type { ApiKeys } from "../auth/api-keys.ts";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";

export interface ClusterRoutesOptions {
  registry: NodeRegistry;
  apiKeys: ApiKeys;
  nowMs: () => number;
}

const createKeyBody = z.object({ name: z.string().min(1).max(64).regex(/^[\w .@-]+$/, "letters, digits, space, '.', '_', '@' or '-'") });

export function registerClusterRoutes(app: FastifyInstance, options: ClusterRoutesOptions): void {
  const { registry, apiKeys } = options;

  app.get("/cluster/status", () => ({ nodes: registry.statuses() }));

  app.get("/cluster/keys", async () => ({ keys: await apiKeys.list() }));

  app.post("/cluster/keys", async (request, reply) => {
    const { name } = parseBody(createKeyBody, request.body ?? {});
    const { record, secret } = await apiKeys.create(name, options.nowMs());
    return reply.code(201).send({ ...record, key: secret });
  });

  app.delete<{ Params: { id: string } }>("/cluster/keys/:id", async (request, reply) => {
    if (!(await apiKeys.remove(request.params.id))) {
      throw new FlotillaError("not_found", `no API key has the id ${request.params.id}`, { param: "id" });
    }
    return reply.code(204).send();
  });

  rejectOtherMethods(app, "/cluster/status", ["GET"]);
  rejectOtherMethods(app, "/cluster/keys", ["GET", "POST"]);
  rejectOtherMethods(app, "/cluster/keys/:id", ["DELETE"]);
}
