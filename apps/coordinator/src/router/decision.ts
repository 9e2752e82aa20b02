// What the router decided and how it got there, as codes: route.ts records
// each step it took and each candidate's verdict as small objects, and
// explain-text.ts is the one place that turns them into English (the
// X-Flotilla-Route header, POST /cluster/route, the dispatcher's errors).
// route() is on the request path and most decisions are never read by a
// person, so it builds no sentences; and a caller can test or act on a code
// without matching prose.
import type { Capability, Tier } from "@flotilla/protocol";
import type { ComplexityClass } from "./classify.ts";

/** Why a node's circuit keeps new requests away (dispatch/circuit-breaker.ts), as the Router reads it. */
export type Ejection =
  | { readonly code: "circuit-open"; readonly failures: number; readonly leftMs: number }
  /** The node asked for time (Retry-After): open, but not for failing. */
  | { readonly code: "paused"; readonly leftMs: number }
  | { readonly code: "half-open" };

/** Why a node cannot take this request: the session's node not kept, or a node explainRoute() skipped. */
export type NodeUnfit =
  | { readonly code: "down" }
  | { readonly code: "drained" }
  | { readonly code: "suspect" }
  /** Not among the model's ready or suspect nodes (down, drained, left, or serving other models): all affinity can tell. */
  | { readonly code: "gone" }
  | { readonly code: "no-model"; readonly model: string; readonly capability: Capability }
  | { readonly code: "context-too-small"; readonly window: number; readonly needed: number }
  /** Already tried by this request. */
  | { readonly code: "excluded" }
  | { readonly code: "wrong-tier"; readonly tier: Tier; readonly forced: Tier }
  | Ejection;

export interface Load {
  readonly busy: number;
  readonly slots: number;
}

/** How the node was picked within its tier. `of`: the tier's nodes that fit the request. */
export type PickHow =
  | { readonly how: "local-free-slot" }
  | { readonly how: "only-fit" }
  | { readonly how: "best-of-all"; readonly of: number }
  /** Sampling met excluded nodes only, but for this one. */
  | { readonly how: "one-sampled"; readonly of: number }
  | { readonly how: "two-sampled"; readonly of: number; readonly best: Load; readonly other: Load };

/** Why a tier in the order had no node for the request. */
export type TierEmpty =
  | { readonly because: "no-ready-node" }
  | { readonly because: "none-fits"; readonly needed: number; readonly largestWindow: number }
  /** Every node that fits was excluded or has its circuit open. */
  | { readonly because: "all-excluded" };

/** One thing the router did, in the order it did them. */
export type RouteStep =
  /** No node of any use: the model is unknown, cannot do the capability, or all its nodes are down or drained. */
  | { readonly code: "model-unavailable"; readonly model: string; readonly capability: Capability; readonly because: "unknown" | "not-capable" | "all-down" }
  /** `by`: the classifier's own words. */
  | { readonly code: "classified"; readonly class: ComplexityClass; readonly by: string }
  | { readonly code: "tier-forced"; readonly class: ComplexityClass; readonly tier: Tier; readonly fallback: boolean }
  | { readonly code: "planned"; readonly model: string; readonly capability: Capability; readonly needed: number; readonly tiers: readonly Tier[] }
  | { readonly code: "affinity-kept"; readonly node: string }
  | { readonly code: "affinity-dropped"; readonly node: string; readonly because: NodeUnfit }
  | ({ readonly code: "tier-empty"; readonly tier: Tier } & TierEmpty)
  /** The preferred tier's best node (`full`) had no free slot; the pick that follows is in tier `to`. */
  | { readonly code: "spilled-up"; readonly from: Tier; readonly to: Tier; readonly full: string; readonly busy: number; readonly slots: number }
  /** No ready node could take it; the pick that follows is a suspect node. */
  | { readonly code: "suspect-last-resort"; readonly tier: Tier }
  /** Every other node failed: these, whose circuit is open, are weighed again. */
  | { readonly code: "ejected-tried-anyway"; readonly nodes: readonly string[] }
  | ({ readonly code: "picked"; readonly tier: Tier; readonly node: string } & PickHow)
  /**
   * The prompt's estimate did not fit any window, but not by far: the steps
   * after this one routed it as if it fitted, and the node's exact count decides.
   */
  | { readonly code: "estimate-overruled"; readonly estimated: number; readonly largestWindow: number };

export type StepCode = RouteStep["code"];

interface CandidateBase {
  readonly node: string;
  readonly tier: Tier;
  /** The model id on that node. */
  readonly model: string;
  /** Higher is better: weight / (1 + outstanding / slots); 0 when skipped. */
  readonly score: number;
}

/** A node weighed: the chosen one, or one that lost to it. */
export type WeighedCandidate = CandidateBase & {
  readonly verdict: "chosen" | "not-chosen";
  readonly busy: number;
  readonly slots: number;
  readonly weight: number;
  /** Missed heartbeats: weighed only when no ready node can take the request. */
  readonly suspect: boolean;
};

/** A node not weighed at all (explainRoute() only: route() looks at the nodes it samples). */
export type SkippedCandidate = CandidateBase & { readonly verdict: "skipped"; readonly because: NodeUnfit };

export type RouteCandidate = WeighedCandidate | SkippedCandidate;

/** Why no node: the gateway's status code (404, 503, 400, 503, 400). */
export type Unavailable = "unknown-model" | "no-healthy-node" | "context-too-long" | "tier-unavailable" | "not-capable";

interface DecisionBase {
  readonly class: ComplexityClass;
  readonly promptTokens: number;
  /** Prompt + max_tokens (or the reserve): the smallest context window that may take it. */
  readonly neededTokens: number;
  /** What the router did, in order; explain-text.ts's routeReason() says it in words. */
  readonly steps: readonly RouteStep[];
  /** The chosen node first, then the others weighed, best first (explainRoute(): then every other node). */
  readonly candidates: readonly RouteCandidate[];
}

export interface ChosenRoute extends DecisionBase {
  readonly kind: "chosen";
  readonly node: string;
  readonly tier: Tier;
  /** The model id to send the node (an alias or "auto" resolved). */
  readonly model: string;
  /** The session's node was kept. */
  readonly affinity: boolean;
  /** The chosen node has no free slot by its own count (agents; agentless servers are never full). */
  readonly full: boolean;
}

export interface UnavailableRoute extends DecisionBase {
  readonly kind: "unavailable";
  readonly why: Unavailable;
}

export type RouteDecision = ChosenRoute | UnavailableRoute;
