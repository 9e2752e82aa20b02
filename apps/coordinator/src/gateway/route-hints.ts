// What a client may say about routing, from the body (`prefer_tier`,
// `tier_fallback`, `user`) or from headers (`X-Flotilla-Tier`,
// `X-Flotilla-Tier-Fallback`, `X-Flotilla-Session`; a header wins over the
// body), how it wants failures and busy nodes handled (`continue_on_failure`,
// `priority`, or X-Flotilla-Continue-On-Failure, X-Flotilla-Priority), and
// the headers every answer carries to explain where it went.
import type { IncomingHttpHeaders } from "node:http";
import { FlotillaError } from "@flotilla/protocol";
import type { RouteHints } from "../router/router.ts";
import type { ChosenRoute } from "../router/decision.ts";
import { routeReason } from "../router/explain-text.ts";
import type { Priority } from "../dispatch/types.ts";
import { parseTier } from "../router/route.ts";

export interface BodyHints {
  prefer_tier?: 0 | 1 | 2 | null;
  tier_fallback?: boolean | null;
  user?: string;
  continue_on_failure?: boolean | null;
  priority?: Priority | null;
}

/** How the dispatcher should treat the request beyond where it goes. */
export interface DispatchHints {
  continueOnFailure: boolean;
  priority: Priority;
}

const MAX_SESSION_LENGTH = 256;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function routeHints(body: BodyHints, headers: IncomingHttpHeaders): RouteHints {
  const tierHeader = header(headers, "x-flotilla-tier");
  const tier = tierHeader === undefined ? (body.prefer_tier ?? undefined) : parseTier(tierHeader.trim());
  if (tierHeader !== undefined && tier === undefined) {
    throw new FlotillaError("invalid_request", "X-Flotilla-Tier must be 0, 1 or 2", { param: "X-Flotilla-Tier" });
  }
  const fallbackHeader = header(headers, "x-flotilla-tier-fallback")?.trim().toLowerCase();
  if (fallbackHeader !== undefined && fallbackHeader !== "true" && fallbackHeader !== "false") {
    throw new FlotillaError("invalid_request", "X-Flotilla-Tier-Fallback must be true or false", { param: "X-Flotilla-Tier-Fallback" });
  }
  const fallback = fallbackHeader === undefined ? (body.tier_fallback ?? true) : fallbackHeader === "true";
  const session = header(headers, "x-flotilla-session") ?? body.user;
  if (session !== undefined && session.length > MAX_SESSION_LENGTH) {
    throw new FlotillaError("invalid_request", `a session id is at most ${MAX_SESSION_LENGTH} characters`, { param: "X-Flotilla-Session" });
  }
  return {
    ...(tier === undefined ? {} : { forceTier: { tier, fallback } }),
    ...(session === undefined || session === "" ? {} : { session }),
  };
}

/** `continueByDefault`: the cluster file's routing.continueOnFailure. */
export function dispatchHints(body: BodyHints, headers: IncomingHttpHeaders, continueByDefault: boolean): DispatchHints {
  const continueHeader = header(headers, "x-flotilla-continue-on-failure")?.trim().toLowerCase();
  if (continueHeader !== undefined && continueHeader !== "true" && continueHeader !== "false") {
    throw new FlotillaError("invalid_request", "X-Flotilla-Continue-On-Failure must be true or false", { param: "X-Flotilla-Continue-On-Failure" });
  }
  const priorityHeader = header(headers, "x-flotilla-priority")?.trim().toLowerCase();
  if (priorityHeader !== undefined && priorityHeader !== "high" && priorityHeader !== "normal" && priorityHeader !== "low") {
    throw new FlotillaError("invalid_request", "X-Flotilla-Priority must be high, normal or low", { param: "X-Flotilla-Priority" });
  }
  return {
    continueOnFailure: continueHeader === undefined ? (body.continue_on_failure ?? continueByDefault) : continueHeader === "true",
    priority: priorityHeader ?? body.priority ?? "normal",
  };
}

/** X-Flotilla-Node, -Tier and -Route: where the request went and why, in short. */
export function routeHeaders(decision: ChosenRoute): Record<string, string> {
  return {
    "x-flotilla-node": decision.node,
    "x-flotilla-tier": String(decision.tier),
    "x-flotilla-route": headerSafe(`${decision.class}: ${routeReason(decision)}`),
  };
}

/** Header values must be visible ASCII; reasons are ours, but model and node names come from users. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").slice(0, 256);
}
