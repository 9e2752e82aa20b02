// The errors for a request no node can take, by the router's reason.
import { FlotillaError } from "@flotilla/protocol";
import type { RouteDecision } from "../router/route.ts";

export function unroutable(model: string, decision: RouteDecision): FlotillaError {
  switch (decision.unavailable) {
    case "tier-unavailable":
    case "no-healthy-node":
      return new FlotillaError("no_backend", `no node can take this request now: ${decision.reason}`, { retryAfterS: 1 });
    case "unknown-model":
    case "context-too-long":
    case undefined:
      return modelNotFound(model);
  }
}

export function modelNotFound(model: string): FlotillaError {
  return new FlotillaError("model_not_found", `The model \`${model}\` does not exist on this cluster`, { param: "model" });
}
