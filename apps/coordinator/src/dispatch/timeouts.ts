// How long a node may take, per tier: a tier-2 node runs a bigger model on
// longer prompts and may think longer before its first token than a tier-0
// one. Three separate limits, because they catch different failures:
// - connect: the node takes the request (connection and response head); a
//   hung process behind a live socket fails here, in seconds;
// - first token: the node starts answering (prompt evaluation, its own queue);
// - idle: the gap between two pieces of text; a node that stalls mid-answer.
import type { Tier } from "@flotilla/protocol";

export interface TierTimeouts {
  connectMs: number;
  firstTokenMs: number;
  idleMs: number;
}

export type TimeoutPolicy = Readonly<Record<Tier, TierTimeouts>>;

export const DEFAULT_TIMEOUTS: TimeoutPolicy = {
  0: { connectMs: 3_000, firstTokenMs: 30_000, idleMs: 15_000 },
  1: { connectMs: 3_000, firstTokenMs: 60_000, idleMs: 30_000 },
  2: { connectMs: 5_000, firstTokenMs: 120_000, idleMs: 60_000 },
};

/** The defaults with the cluster file's per-tier overrides laid over them. */
export function timeoutPolicy(overrides: Partial<Record<Tier, Partial<TierTimeouts>>> = {}): TimeoutPolicy {
  return {
    0: { ...DEFAULT_TIMEOUTS[0], ...overrides[0] },
    1: { ...DEFAULT_TIMEOUTS[1], ...overrides[1] },
    2: { ...DEFAULT_TIMEOUTS[2], ...overrides[2] },
  };
}
