// The errors for a request no node can take, by the router's code; the
// message quotes the router's reason (router/explain-text.ts).
import { FlotillaError } from "@flotilla/protocol";
import type { UnavailableRoute } from "../router/decision.ts";
import { routeReason } from "../router/explain-text.ts";

export function unroutable(model: string, decision: UnavailableRoute, pool?: string): FlotillaError {
  // Held to a declared pool whose nodes do not serve the model (yet): a
  // roamer may be lent to it, so this is "not now", not "no such model".
  if (pool !== undefined && decision.why === "unknown-model") {
    return new FlotillaError("no_backend", `no node of pool '${pool}' serves \`${model}\` now`, { retryAfterS: 1 });
  }
  switch (decision.why) {
    case "tier-unavailable":
    case "no-healthy-node":
      return new FlotillaError("no_backend", `no node can take this request now: ${routeReason(decision)}`, { retryAfterS: 1 });
    case "context-too-long":
      return new FlotillaError("context_length_exceeded", `the prompt is far larger than any node serving \`${model}\` can hold: ${routeReason(decision)}`, { param: "messages" });
    case "not-capable":
      return new FlotillaError("model_not_capable", `The model \`${model}\` cannot serve this request: ${routeReason(decision)}`, { param: "model" });
    case "unknown-model":
      return modelNotFound(model);
  }
}

export function modelNotFound(model: string): FlotillaError {
  return new FlotillaError("model_not_found", `The model \`${model}\` does not exist on this cluster`, { param: "model" });
}
