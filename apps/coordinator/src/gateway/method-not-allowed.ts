// A known path asked with the wrong method gets 405 and an Allow header,
// not the 404 Fastify would give: the client got the URL right. A path with
// its own credential check passes it as `onRequest`, so that the check runs
// first and a caller without the credential gets 401, not 405.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, toOpenAIErrorBody } from "@flotilla/protocol";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: readonly Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

export interface RejectOptions {
  /** The path's credential check, for paths outside an authenticating plugin. */
  onRequest?: (request: FastifyRequest) => Promise<void>;
}

export function rejectOtherMethods(app: FastifyInstance, url: string, allowed: readonly Method[], options: RejectOptions = {}): void {
  const allow = allowed.includes("GET") ? [...allowed, "HEAD"] : [...allowed];
  app.route({
    method: METHODS.filter((m) => !allowed.includes(m)),
    url,
    ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
    handler: (request, reply) => {
      const failure = new FlotillaError(
        "method_not_allowed",
        `${request.method} is not allowed on ${url}; allowed: ${allow.join(", ")}`,
      );
      return reply.code(405).header("allow", allow.join(", ")).send(toOpenAIErrorBody(failure));
    },
  });
}
