// A node's health from its heartbeats. Pure: (last heard, now, policy).
//
//   ready ──(no heartbeat for suspectAfterMs)──▶ suspect ──(downAfterMs)──▶ down
//     ▲                                                                      │
//     └──────────────────────── any valid heartbeat ◀────────────────────────┘
import type { NodeHealth } from "@flotilla/protocol";

export interface HealthPolicy {
  heartbeatIntervalMs: number;
  /** One interval plus slack for a late beat. */
  suspectAfterMs: number;
  /** The TTL: three intervals by default. */
  downAfterMs: number;
}

export function healthPolicy(heartbeatIntervalMs: number, ttlIntervals = 3): HealthPolicy {
  return {
    heartbeatIntervalMs,
    suspectAfterMs: Math.round(heartbeatIntervalMs * 1.5),
    downAfterMs: heartbeatIntervalMs * ttlIntervals,
  };
}

/** `lastSeenMs` null: not heard from since this coordinator started. */
export function judgeHealth(lastSeenMs: number | null, nowMs: number, policy: HealthPolicy): NodeHealth {
  if (lastSeenMs === null) return "down";
  const silentMs = nowMs - lastSeenMs;
  if (silentMs > policy.downAfterMs) return "down";
  if (silentMs > policy.suspectAfterMs) return "suspect";
  return "ready";
}
