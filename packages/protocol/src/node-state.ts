// The one word a node's state is: what status, metrics, the router and the
// CLI all show and act on, computed in one place from the node's health (its
// heartbeats or health checks) and whether an operator drained it.
//
//          heartbeat late            TTL passed
//   ready ───────────────▶ suspect ─────────────▶ down
//     ▲  ◀─────────────────  │                      │
//     │     heartbeat        └──────────────────────┤ any valid heartbeat
//     └─────────────────────────────────────────────┘
//   ready / suspect ──drain──▶ draining ──undrain──▶ its health again
//   draining ──TTL passed──▶ down (a node that is gone finishes nothing)
//
// Only ready and suspect nodes take new work (suspect ones as a last
// resort); draining ones finish what they have; down ones hold nothing, so
// their last reported load counts nowhere.
import { z } from "zod";

export const NODE_STATES = ["ready", "suspect", "down", "draining"] as const;
export const nodeState = z.enum(NODE_STATES);
export type NodeState = z.infer<typeof nodeState>;

/** The states each state may move to next: what the diagram above draws, for tests and readers. */
export const NODE_STATE_TRANSITIONS: Readonly<Record<NodeState, readonly NodeState[]>> = {
  ready: ["suspect", "draining", "down"],
  suspect: ["ready", "down", "draining"],
  down: ["ready", "draining"],
  draining: ["ready", "suspect", "down"],
};

export function nodeStateOf(node: { health: "ready" | "suspect" | "down"; drained: boolean }): NodeState {
  if (node.health === "down") return "down";
  return node.drained ? "draining" : node.health;
}

/** Takes new requests: ready, or suspect as a last resort. */
export function takesWork(state: NodeState): boolean {
  return state === "ready" || state === "suspect";
}

/** Its reported load is real: a node that is down holds nothing the coordinator can count on. */
export function holdsLoad(state: NodeState): boolean {
  return state !== "down";
}
