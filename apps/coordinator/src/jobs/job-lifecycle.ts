// Each queue operation as a pure function of (job, arguments, now, random):
// the new job and the change to announce, or why the caller is refused. The
// SQLite and Redis queues only load, call one of these, and store the answer
// atomically, so fencing and retries mean the same on both.
import type { Job, JobError } from "./job.ts";
import { isLeased, transition, type JobEvent } from "./job-state.ts";
import type { CancelOutcome, JobChange, LeaseLoss } from "./job-queue.ts";
import { decideRetry, type RetryPolicy } from "./retry-policy.ts";

export type Applied = { ok: true; job: Job; change: JobChange | null } | { ok: false; status: LeaseLoss };

/** Why a worker holding `token` may not act on `job` now, or null when it may. */
export function leaseLoss(job: Job, token: number, nowMs: number): LeaseLoss | null {
  if (job.epoch !== token) return "lost";
  // A cancel keeps the epoch, so the worker it was taken from hears "cancelled".
  if (job.state === "cancelled") return "cancelled";
  if (!isLeased(job.state)) return "lost";
  // Past its deadline but not yet swept: as good as expired, or a stalled
  // worker's late result could race the next worker's.
  if (job.leaseDeadlineMs !== null && job.leaseDeadlineMs <= nowMs) return "lost";
  return null;
}

/** A lease of no time, or of none that a timer can hold, is a caller's bug: said at once, not stored. */
export function assertLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) throw new RangeError(`leaseMs must be a positive integer, got ${leaseMs}`);
}

/** Moves `job` by `event`; throws on an illegal move, which callers rule out before. */
function moved(job: Job, event: JobEvent, nowMs: number, fields: Partial<Job>): { ok: true; job: Job; change: JobChange } {
  const step = transition(job.state, event);
  if (!step.ok) throw new Error(step.reason);
  const next: Job = { ...job, ...fields, state: step.to, updatedAtMs: nowMs };
  return { ok: true, job: next, change: { type: "state", event, from: job.state, job: next } };
}

export function leaseJob(job: Job, workerId: string, leaseMs: number, nowMs: number): Applied {
  assertLeaseMs(leaseMs);
  if (job.state !== "queued" || job.notBeforeMs > nowMs) return { ok: false, status: "lost" };
  return moved(job, "lease", nowMs, {
    epoch: job.epoch + 1,
    attempts: job.attempts + 1,
    workerId,
    leaseDeadlineMs: nowMs + leaseMs,
    // A new attempt starts from nothing: the last one's progress is not this one's.
    progress: null,
  });
}

export function renewJob(job: Job, token: number, leaseMs: number, nowMs: number): Applied {
  assertLeaseMs(leaseMs);
  const loss = leaseLoss(job, token, nowMs);
  if (loss !== null) return { ok: false, status: loss };
  return { ok: true, job: { ...job, leaseDeadlineMs: nowMs + leaseMs, updatedAtMs: nowMs }, change: null };
}

export function startJob(job: Job, token: number, nowMs: number): Applied {
  const loss = leaseLoss(job, token, nowMs);
  if (loss !== null) return { ok: false, status: loss };
  // Starting twice (a retried request) is no change.
  if (job.state === "running") return { ok: true, job, change: null };
  return moved(job, "start", nowMs, {});
}

export function progressJob(job: Job, token: number, fraction: number, message: string, nowMs: number): Applied {
  const loss = leaseLoss(job, token, nowMs);
  if (loss !== null) return { ok: false, status: loss };
  const next: Job = { ...job, progress: { fraction: Math.min(1, Math.max(0, fraction)), message }, updatedAtMs: nowMs };
  return { ok: true, job: next, change: { type: "progress", job: next } };
}

export function completeJob(job: Job, token: number, result: unknown, nowMs: number): Applied {
  const loss = leaseLoss(job, token, nowMs);
  if (loss !== null) return { ok: false, status: loss };
  // `error` is the last failure; a job that succeeded in the end has none to show.
  return moved(job, "complete", nowMs, { result, error: null, leaseDeadlineMs: null });
}

export function failJob(
  job: Job,
  token: number,
  failure: JobError,
  nowMs: number,
  policy: RetryPolicy,
  random: () => number,
): Applied {
  const loss = leaseLoss(job, token, nowMs);
  if (loss !== null) return { ok: false, status: loss };
  const decision = decideRetry({ retryable: failure.retryable, attempts: job.attempts, maxAttempts: job.maxAttempts }, policy, random);
  switch (decision.kind) {
    case "fail":
      return moved(job, "fail", nowMs, { error: failure, leaseDeadlineMs: null });
    case "dead":
      return moved(job, "exhaust", nowMs, { error: failure, leaseDeadlineMs: null });
    case "retry":
      return moved(job, "retry", nowMs, { error: failure, leaseDeadlineMs: null, notBeforeMs: nowMs + decision.delayMs });
  }
}

/** A lease past its deadline goes back to the queue, or dead after the last attempt; null when it has not expired. */
export function expireJob(job: Job, nowMs: number): Applied | null {
  if (!isLeased(job.state) || job.leaseDeadlineMs === null || job.leaseDeadlineMs > nowMs) return null;
  const error: JobError = { message: `the lease of worker ${job.workerId ?? "?"} expired`, retryable: true };
  if (job.attempts >= job.maxAttempts) return moved(job, "exhaust", nowMs, { error, leaseDeadlineMs: null });
  return moved(job, "expire", nowMs, { error, leaseDeadlineMs: null, notBeforeMs: nowMs });
}

export type Cancelled = { outcome: CancelOutcome; change: JobChange | null };

export function cancelJob(job: Job, nowMs: number): Cancelled {
  const step = transition(job.state, "cancel");
  if (!step.ok) return { outcome: { status: "terminal", job }, change: null };
  const done = moved(job, "cancel", nowMs, { leaseDeadlineMs: null });
  return { outcome: { status: "cancelled", job: done.job }, change: done.change };
}

/** A job's place in its pool's queue: higher priority first, then first in. */
export const PRIORITY_RANK = { high: 0, normal: 1, low: 2 } as const;
