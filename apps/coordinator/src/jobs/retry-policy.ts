// When a failed job runs again. Pure: the random source comes in, so the
// delay is testable and two coordinators do not retry a burst in lockstep.

export interface RetryPolicy {
  /** The delay before the second attempt, before jitter. */
  baseDelayMs: number;
  /** No delay grows past this. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 1_000, maxDelayMs: 5 * 60_000 };

/**
 * The wait after attempt `attempt` (1 for the first) failed: doubling from
 * the base, capped, then "equal jitter" — half of it fixed, half random — so
 * a retry never comes sooner than half the step yet a burst spreads out.
 * `random` returns [0, 1).
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

export type RetryDecision = { kind: "fail" } | { kind: "dead" } | { kind: "retry"; delayMs: number };

/**
 * What a failure of the job's `attempts`-th attempt leads to: an error marked
 * not retryable fails at once; otherwise the job runs again after a backoff
 * until its last attempt, after which it is dead.
 */
export function decideRetry(
  failure: { retryable: boolean; attempts: number; maxAttempts: number },
  policy: RetryPolicy,
  random: () => number,
): RetryDecision {
  if (!failure.retryable) return { kind: "fail" };
  if (failure.attempts >= failure.maxAttempts) return { kind: "dead" };
  return { kind: "retry", delayMs: backoffMs(failure.attempts, policy, random) };
}
