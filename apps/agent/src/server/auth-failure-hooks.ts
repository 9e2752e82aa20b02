// Failed authentication on the agent's API is counted and slowed per source
// address, as on the coordinator (docs/adr/0022): the credential check
// refuses with `invalid_api_key`, which the onError hook counts and logs, and
// an address past its limit gets 429 + Retry-After before the check runs.
// Only the coordinator should call here, so any failure is worth a log line;
// the presented secret never is.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError } from "@flotilla/protocol";
import type { FailureLimiter } from "@flotilla/security/failure-limiter";

/** Call before any route is registered, so every route and the 404 handler get the hooks. */
export function guardAuthFailures(app: FastifyInstance, limiter: FailureLimiter): void {
  app.addHook("onRequest", (request, _reply, next) => {
    const verdict = pathOf(request) === "/healthz" ? undefined : limiter.check(request.ip);
    if (verdict === undefined || verdict.allowed) {
      next();
      return;
    }
    const { retryAfterS } = verdict;
    next(new FlotillaError("rate_limit_exceeded", `too many failed authentications from this address; retry in ${retryAfterS} s`, { retryAfterS }));
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
          // Whether one was sent, never what.
          credential: request.headers.authorization === undefined ? "none" : "wrong",
          ...(after.allowed ? {} : { refusedForS: after.retryAfterS }),
        },
        "authentication failed",
      );
    }
    next();
  });
}

function pathOf(request: FastifyRequest): string {
  return request.url.split("?")[0] ?? request.url;
}
