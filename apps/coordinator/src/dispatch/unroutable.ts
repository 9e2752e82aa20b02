// The errors for a request no node can take, by the router's reason.
import { FlotillaError } from "@flotilla/protocol";
import type { RouteDecision } from "../router/route.ts";

export function unroutable(model: string, decision: RouteDecision): FlotillaError {
  switch (decision.unavailable) {
    case "tier-unavailable":
    case "no-healthy-node":
      return new FlotillaError("no_backend", `no node can take this request now: ${decision.reason}`, { retryAfterS: 1 });
    case "context-too-long":
      return new FlotillaError("context_length_exceeded", `the prompt is far larger than any node serving \`${model}\` can hold: ${decision.reason}`, { param: "messages" });
    case "not-capable":
      return new FlotillaError("model_not_capable", `The model \`${model}\` cannot serve this request: ${decision.reason}`, { param: "model" });
    case "unknown-model":
    case undefined:
      return modelNotFound(model);
  }
}

export function modelNotFound(model: string): FlotillaError {
  return new FlotillaError("model_not_found", `The model \`${model}\` does not exist on this cluster`, { param: "model" });
}
