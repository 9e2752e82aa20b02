// The routes agents call: join (with a join token) and heartbeat (with the
// node credential the join handed out). Each has its own credential check;
// neither accepts the admin key or a client API key. The checks run on
// request, before the body is read and before a wrong method is answered, so
// a caller without the credential gets 401 and nothing else.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, heartbeat, joinRequest } from "@flotilla/protocol";
import type { Membership } from "../nodes/agent/membership.ts";
import { bearerToken } from "@flotilla/security";
import { parseBody } from "../gateway/validate.ts";
import { rejectOtherMethods } from "../gateway/method-not-allowed.ts";

export function registerMembershipRoutes(app: FastifyInstance, membership: Membership): void {
  const requireJoinToken = async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw joinTokenRequired();
    if (!(await membership.joinTokenUsable(token))) throw invalidJoinToken();
  };
  // A join token is spent only by a valid POST: no credential makes another
  // method on this path worth answering.
  const refuseOtherMethods = (request: FastifyRequest): Promise<void> =>
    Promise.reject(
      bearerToken(request.headers.authorization) === undefined
        ? joinTokenRequired()
        : new FlotillaError("invalid_api_key", "a join token is accepted only by POST /cluster/join"),
    );
  // The node the check found, for the handler: hashing the credential once
  // per heartbeat instead of twice is measurable at thousands of nodes.
  const nodeOf = new WeakMap<FastifyRequest, string>();
  const requireNode = (request: FastifyRequest): Promise<void> => {
    const credential = bearerToken(request.headers.authorization);
    const node = credential === undefined ? undefined : membership.nodeFor(credential);
    if (node === undefined) return Promise.reject(unknownNode());
    nodeOf.set(request, node);
    return Promise.resolve();
  };

  // The token is checked before the body is read and spent only once the
  // join is accepted (membership.ts): a refused join leaves it usable.
  app.post("/cluster/join", { onRequest: requireJoinToken }, async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw joinTokenRequired();
    return membership.join(token, parseBody(joinRequest, request.body));
  });

  app.post("/cluster/heartbeat", { onRequest: requireNode }, async (request) => {
    const node = nodeOf.get(request);
    if (node === undefined) throw unknownNode();
    return membership.heartbeat(node, parseBody(heartbeat, request.body));
  });

  rejectOtherMethods(app, "/cluster/join", ["POST"], { onRequest: refuseOtherMethods });
  rejectOtherMethods(app, "/cluster/heartbeat", ["POST"], { onRequest: requireNode });
}

function joinTokenRequired(): FlotillaError {
  return new FlotillaError("invalid_api_key", "a join token is required: `Authorization: Bearer <token>`");
}

function invalidJoinToken(): FlotillaError {
  return new FlotillaError("invalid_api_key", "the join token is not valid: unknown, expired or used up");
}

function unknownNode(): FlotillaError {
  return new FlotillaError("invalid_api_key", "unknown node credential; join again with a new token");
}
