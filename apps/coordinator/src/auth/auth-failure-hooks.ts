// Failed authentication is counted and slowed, per source address, for every
// credential check of the coordinator at once: each one (client key, admin
// key, metrics key, join token, node credential) refuses with
// `invalid_api_key`, which the onError hook counts and logs, and an address
// past its limit gets 429 + Retry-After before any check runs (docs/adr/0022).
// The presented secret is never logged: only whether one was sent.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "@flotilla/protocol";
import type { FailureLimiter } from "@flotilla/security/failure-limiter";

/** Call before any route is registered, so every route and the 404 handler get the hooks. */
export function guardAuthFailures(app: FastifyInstance, limiter: FailureLimiter, publicPaths: ReadonlySet<string>): void {
  app.addHook("onRequest", (request, _reply, next) => {
    const verdict = publicPaths.has(pathOf(request)) ? undefined : limiter.check(request.ip);
    next(verdict === undefined || verdict.allowed ? undefined : rateLimited(verdict.retryAfterS));
  });
  app.addHook("onError", (request, _reply, err, next) => {
    if (err instanceof FlotillaError && err.code === "invalid_api_key") {
      limiter.recordFailure(request.ip);
      const after = limiter.check(request.ip);
      request.log.warn(
        {
          address: request.ip,
          method: request.method,
          path: pathOf(request),
          // Whether one was sent, never what: the log is no place for a secret, right or wrong.
          credential: request.headers.authorization === undefined ? "none" : "wrong",
          ...(after.allowed ? {} : { refusedForS: after.retryAfterS }),
        },
        "authentication failed",
      );
    }
    next();
  });
}

export function rateLimited(retryAfterS: number): FlotillaError {
  return new FlotillaError("rate_limit_exceeded", `too many failed authentications from this address; retry in ${retryAfterS} s`, { retryAfterS });
}

function pathOf(request: FastifyRequest): string {
  return request.url.split("?")[0] ?? request.url;
}
