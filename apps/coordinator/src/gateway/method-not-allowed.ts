// A known path asked with the wrong method gets 405 and an Allow header,
// not the 404 Fastify would give: the client got the URL right.
import type { FastifyInstance } from "fastify";
import { FlotillaError, toOpenAIErrorBody } from "@flotilla/protocol";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
const METHODS: readonly Method[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

export function rejectOtherMethods(app: FastifyInstance, url: string, allowed: readonly Method[]): void {
  const allow = allowed.includes("GET") ? [...allowed, "HEAD"] : [...allowed];
  app.route({
    method: METHODS.filter((m) => !allowed.includes(m)),
    url,
    handler: (request, reply) => {
      const failure = new FlotillaError(
        "method_not_allowed",
        `${request.method} is not allowed on ${url}; allowed: ${allow.join(", ")}`,
      );
      return reply.code(405).header("allow", allow.join(", ")).send(toOpenAIErrorBody(failure));
    },
  });
}
