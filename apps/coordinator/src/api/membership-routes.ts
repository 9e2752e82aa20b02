// The routes agents call: join (with a join token) and heartbeat (with the
// node credential the join handed out). Each has its own credential check;
// neither accepts the admin key or a client API key.
import type { FastifyInstance } from "fastify";
import { FlotillaError, heartbeat, joinRequest } from "@flotilla/protocol";
import type { Membership } from "../cluster/membership.ts";
import { bearerToken } from "@flotilla/security";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";

export function registerMembershipRoutes(app: FastifyInstance, membership: Membership): void {
  app.post("/cluster/join", async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new FlotillaError("invalid_api_key", "a join token is required: `Authorization: Bearer <token>`");
    return membership.join(token, parseBody(joinRequest, request.body));
  });

  app.post("/cluster/heartbeat", async (request) => {
    const credential = bearerToken(request.headers.authorization);
    const node = credential === undefined ? undefined : membership.nodeFor(credential);
    if (node === undefined) throw new FlotillaError("invalid_api_key", "unknown node credential; join again with a new token");
    return membership.heartbeat(node, parseBody(heartbeat, request.body));
  });

  rejectOtherMethods(app, "/cluster/join", ["POST"]);
  rejectOtherMethods(app, "/cluster/heartbeat", ["POST"]);
}
