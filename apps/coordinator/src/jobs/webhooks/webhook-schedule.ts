// When a webhook that was not taken is sent again. Pure, like the job retry
// policy it reuses (equal-jitter doubling): a receiver that is down for a
// restart gets the event seconds later, one down for hours still gets it.
import { backoffMs, type RetryPolicy } from "../retry-policy.ts";

export interface WebhookSchedule extends RetryPolicy {
  /** Sends in all, the first included; then the delivery is given up. */
  maxAttempts: number;
}

/** 5 s doubling to an hour, 14 sends: about two to four hours of trying. */
export const DEFAULT_WEBHOOK_SCHEDULE: WebhookSchedule = { baseDelayMs: 5_000, maxDelayMs: 60 * 60_000, maxAttempts: 14 };

export type DeliveryDecision = { kind: "retry"; atMs: number } | { kind: "give_up" };

/** After send number `attempts` (1 for the first) failed at `nowMs`. `random` returns [0, 1). */
export function afterFailedSend(attempts: number, nowMs: number, schedule: WebhookSchedule, random: () => number): DeliveryDecision {
  if (attempts >= schedule.maxAttempts) return { kind: "give_up" };
  return { kind: "retry", atMs: nowMs + backoffMs(attempts, schedule, random) };
}
